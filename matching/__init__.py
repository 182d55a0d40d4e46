"""Matching: scoring candidate pairs, the optimal assignment, explanations, matching runs and
their review."""

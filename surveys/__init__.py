"""Surveys: the three-question pulse, confidence ratings, programme NPS and the signed links
that bring participants to them."""

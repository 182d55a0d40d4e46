"""The matching app's Celery tasks, for discovery: they live in ``matching.runs`` beside the
services they call, so that starting a run can queue one without an import going back up."""

from matching.runs import run_matching, sweep_matching_runs

__all__ = ["run_matching", "sweep_matching_runs"]

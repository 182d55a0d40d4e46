"""bench/web.py's two data sizes, full and smoke (no Django here: the parent process reads
them before any database is chosen)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    pairs: int
    cohorts: int
    pool_sessions: int  # unanswered past sessions for the pulse load runs (two links each)


# The last of each is the goals' size, where the load runs happen.
FULL = (
    Size(name="small", pairs=1_000, cohorts=2, pool_sessions=500),
    Size(name="large", pairs=10_000, cohorts=10, pool_sessions=5_000),
)
SMOKE = (
    Size(name="small", pairs=10, cohorts=1, pool_sessions=20),
    Size(name="large", pairs=20, cohorts=1, pool_sessions=100),
)

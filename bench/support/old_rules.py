"""The timing rules at-risk detection had before issue 19, kept here as the baseline the
early-warning benchmark compares the risk score with: "missed or cancelled sessions" and "no
session held lately", exactly as risks/detection.py had them (commit c83d05d), with each
programme's thresholds. Issue 19 retires them from the product, so the benchmark keeps its
own copy rather than calling the detection.

``timing_rules(programme, pairs, now)`` says which of the two hold for each pair at ``now``,
in two queries, without writing anything.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pairs.models import Meeting, Pair
from programmes.models import Programme

MISSED, NO_SESSION = "missed", "no_session"
# DESIGN.md's defaults, for a programme that no longer has the threshold fields.
DEFAULTS = {
    "risk_missed_in_a_row": 2,
    "risk_missed_in_window": 2,
    "risk_window_days": 30,
    "risk_days_without_session": 30,
}


def _threshold(programme: Programme, name: str) -> int:
    return int(getattr(programme, name, DEFAULTS[name]))


def timing_rules(programme: Programme, pairs: list[Pair], now: datetime) -> dict[int, set[str]]:
    """For each active pair of ``pairs`` (all of ``programme``), the old timing rules that
    hold at ``now``: only sessions whose time has come count, in start order."""
    active = [pair for pair in pairs if pair.status == Pair.Status.ACTIVE]
    started: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for pair_id, status, starts_at in (
        Meeting.objects.filter(pair__in=[pair.pk for pair in active], starts_at__lte=now)
        .order_by("pair_id", "starts_at", "pk")
        .values_list("pair_id", "status", "starts_at")
    ):
        started[pair_id].append((status, starts_at))
    zone = ZoneInfo(programme.time_zone)
    held: dict[int, set[str]] = {}
    for pair in active:
        rules = set()
        if _missed(programme, started[pair.pk], now):
            rules.add(MISSED)
        if _no_session(programme, pair, started[pair.pk], now, zone):
            rules.add(NO_SESSION)
        held[pair.pk] = rules
    return held


def _missed(programme: Programme, sessions: list[tuple[str, datetime]], now: datetime) -> bool:
    in_a_row = _threshold(programme, "risk_missed_in_a_row")
    since = now - timedelta(days=_threshold(programme, "risk_window_days"))
    in_window = [s for s in sessions if s[0] in Meeting.NOT_HAPPENED and s[1] >= since]
    latest = sessions[-in_a_row:]
    if len(latest) == in_a_row and all(status in Meeting.NOT_HAPPENED for status, _ in latest):
        return True
    return len(in_window) >= _threshold(programme, "risk_missed_in_window")


def _no_session(
    programme: Programme,
    pair: Pair,
    sessions: list[tuple[str, datetime]],
    now: datetime,
    zone: ZoneInfo,
) -> bool:
    held = [starts_at for status, starts_at in sessions if status == Meeting.Status.HELD]
    last_held = held[-1].astimezone(zone).date() if held else None
    since: date = last_held or pair.started_on or pair.created_at.astimezone(zone).date()
    # A pause is not a gap: a pair back from one is counted from the day it resumed.
    if pair.resumed_on and pair.resumed_on > since:
        since = pair.resumed_on
    days = (now.astimezone(zone).date() - since).days
    return days >= _threshold(programme, "risk_days_without_session")

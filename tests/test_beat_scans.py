"""Beat's "what is due" scans (CELERY_BEAT_SCHEDULE) read what is due, not the history beside
it (issue 20; the list of scans and what each reads is in docs/performance.md, "Scans").

Two kinds of test: each scan's queries are served by the index made for its condition (the
plan is asked with sequential scans priced out: on a test database's few rows the planner
would read the table whatever indexes there are), and a scan's query count is the same over
a small and a large history."""

from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from matching.runs import matching_runs_due
from notifications.sending import notifications_due
from pairs.models import Meeting, Pair
from pairs.reminders import agreement_reminders_due, session_reminders_due
from programmes.models import Programme, Role
from reporting.kpis import kpis_due
from reporting.models import KpiSnapshot
from risks.checkins import checkin_candidates, checkins_due, pairs_resume_due
from surveys.models import PulseRequest
from surveys.pulses import pulse_requests_due
from surveys.reminders import pulse_reminders_due
from tests.pairs.meeting_helpers import agreed_pair, meeting_for

pytestmark = pytest.mark.django_db


# The name Django gives the index on (pair, status, starts_at) of pairs/models.py.
PAIR_STATUS_TIME = "programmes__pair_id_589c97_idx"


def plans(scan: Callable[[], object]) -> str:
    """The plans of the SELECT and UPDATE queries ``scan`` makes, sequential scans priced
    out on PostgreSQL, so that each plan names the index that can serve it."""
    with CaptureQueriesContext(connection) as captured:
        scan()
    queries = [
        q["sql"] for q in captured.captured_queries if q["sql"].startswith(("SELECT", "UPDATE"))
    ]
    lines = []
    with connection.cursor() as cursor:
        # Statistics of the history below, not whatever an earlier test left behind (the
        # plan then depends on the order the suite runs in).
        cursor.execute("ANALYZE programmes_meeting")
        cursor.execute("ANALYZE programmes_pair")
        cursor.execute("ANALYZE surveys_pulserequest")
        if connection.vendor == "sqlite":
            for sql in queries:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                lines += [row[-1] for row in cursor.fetchall()]
            return "\n".join(lines)
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in queries:
            cursor.execute(f"EXPLAIN {sql}")
            lines += [row[0] for row in cursor.fetchall()]
        cursor.execute("SET LOCAL enable_seqscan = on")
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("scan", "index"),
    [
        # the sessions that did not happen in the last 30 days: the pairs worth looking at
        (checkins_due, "meeting_not_happened_starts"),
        (pairs_resume_due, "pair_paused_until"),
        (agreement_reminders_due, "pair_active_introduced"),
        # the sessions of the next or last day: by time, or (few active pairs) each active
        # pair's sessions of that status and time through (pair, status, starts_at)
        (session_reminders_due, f"meeting_starts_at_id or {PAIR_STATUS_TIME}"),
        (pulse_requests_due, f"meeting_starts_at_id or {PAIR_STATUS_TIME}"),
        (pulse_reminders_due, "pulse_request_sent_at"),
        (kpis_due, "kpisnapshot_computed"),
        (notifications_due, "notification_due"),
        (matching_runs_due, "matching_run_sweep"),
    ],
)
def test_each_scan_reads_its_due_rows_through_an_index(programme, scan, index):
    # A programme that computes KPIs, so that kpis_due's query reads the snapshots.
    Programme.objects.filter(pk=programme.pk).update(status=Programme.Status.RUNNING)
    # A history for the planner to weigh: pairs of every status, each with a year of held
    # sessions, so that what is due is a small part of it, as in a real programme.
    for status in (Pair.Status.ACTIVE, Pair.Status.PAUSED, Pair.Status.ENDED):
        pair = agreed_pair(programme=programme, status=status)
        held = Meeting.objects.bulk_create(
            Meeting(
                pair=pair,
                starts_at=timezone.now() - timedelta(days=day),
                status=Meeting.Status.HELD,
                uid=uuid4(),
            )
            for day in range(2, 365, 2)
        )
        PulseRequest.objects.bulk_create(
            PulseRequest(
                meeting=meeting,
                participant=participant,
                requested_at=meeting.starts_at,
                sent_at=meeting.starts_at,
            )
            for meeting in held
            for participant in (pair.mentee, pair.reverse_mentor)
        )
    found = plans(scan)
    assert any(name in found for name in index.split(" or ")), found


def session(pair: Pair, days: float, status: str = Meeting.Status.HELD, **fields) -> Meeting:
    if status == Meeting.Status.CANCELLED:
        fields.setdefault("cancelled_by", Role.MENTEE)
    return meeting_for(
        pair, starts_at=timezone.now() + timedelta(days=days), status=status, **fields
    )


def two_missed(pair: Pair) -> None:
    session(pair, -12)
    session(pair, -6, Meeting.Status.MISSED)
    session(pair, -2, Meeting.Status.CANCELLED)


def history(programme: Programme, pairs: int) -> None:
    """Active pairs with months of sessions behind them: held ones, and two missed in a row
    ten weeks ago (past the check-in's horizon, so never asked about)."""
    for _ in range(pairs):
        pair = agreed_pair(programme=programme)
        for week in range(12, 0, -1):
            session(pair, -7 * week)
        session(pair, -70, Meeting.Status.MISSED)
        session(pair, -69, Meeting.Status.MISSED)


def test_a_checkin_scan_costs_the_same_queries_however_much_history_lies_beside(
    programme, django_assert_num_queries
):
    def asking(pair: Pair) -> int:
        two_missed(pair)
        with CaptureQueriesContext(connection) as captured:
            assert checkins_due() == 2
        return len(captured)

    asking(agreed_pair(programme=programme))  # the first ask also reads content types
    small = asking(agreed_pair(programme=programme))
    # the pairs due, their candidates read inside the same query
    with django_assert_num_queries(1):
        assert checkins_due() == 0

    history(programme, pairs=8)
    assert asking(agreed_pair(programme=programme)) == small
    with django_assert_num_queries(1):
        assert checkins_due() == 0


def test_the_checkin_candidates_are_the_pairs_of_this_months_missed_sessions(programme):
    due = agreed_pair(programme=programme)
    two_missed(due)
    history(programme, pairs=3)
    once = agreed_pair(programme=programme)
    session(once, -20, Meeting.Status.MISSED)  # one miss: a candidate, not due
    held = agreed_pair(programme=programme)
    session(held, -3)

    assert set(checkin_candidates(timezone.now())) == {due.pk, once.pk}
    assert checkins_due() == 2  # both sides of the due pair


def test_kpis_due_is_one_query_however_many_months_of_snapshots(
    programme, django_assert_num_queries
):
    Programme.objects.filter(pk=programme.pk).update(status=Programme.Status.RUNNING)
    computed_at = timezone.now()
    for months in (1, 24):
        KpiSnapshot.objects.all().delete()
        KpiSnapshot.objects.bulk_create(
            KpiSnapshot(
                programme=programme,
                month=timezone.localdate().replace(day=1) - timedelta(days=31 * n),
                kpi=KpiSnapshot.Kpi.SESSION_FREQUENCY,
                part="",
                computed_at=computed_at,
            )
            for n in range(months)
        )
        # the programmes with their span and last computation, in one query
        with django_assert_num_queries(1):
            kpis_due()


def past_of(programme: Programme, pairs: int) -> None:
    """``history`` with what the other scans look at: each past session's pulse asked of both
    sides (e-mailed a day after it), each pair introduced months ago, and one pair in four
    back from a pause that ended long ago."""
    history(programme, pairs)
    for n, pair in enumerate(Pair.objects.filter(cohort__programme=programme)):
        Pair.objects.filter(pk=pair.pk).update(
            introduced_at=timezone.now() - timedelta(days=120),
            resumed_on=timezone.localdate() - timedelta(days=60) if n % 4 == 0 else None,
        )
        PulseRequest.objects.bulk_create(
            PulseRequest(
                meeting=meeting,
                participant=participant,
                requested_at=meeting.starts_at + timedelta(days=1),
                sent_at=meeting.starts_at + timedelta(days=1),
            )
            for meeting in pair.meetings.filter(starts_at__lt=timezone.now())
            for participant in (pair.mentee, pair.reverse_mentor)
        )


@pytest.mark.parametrize(
    "scan",
    [
        agreement_reminders_due,
        session_reminders_due,
        pulse_requests_due,
        pulse_reminders_due,
        pairs_resume_due,
        checkins_due,
        kpis_due,
    ],
)
def test_an_idle_tick_costs_the_same_queries_beside_a_long_history(programme, scan):
    Programme.objects.filter(pk=programme.pk).update(status=Programme.Status.RUNNING)

    def idle_queries() -> int:
        scan()  # whatever was due is done
        with CaptureQueriesContext(connection) as captured:
            scan()
        return len(captured)

    small = idle_queries()
    past_of(programme, pairs=6)
    assert idle_queries() == small

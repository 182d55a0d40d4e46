"""Two beats started by mistake: every scan of the beat schedule runs twice at the same moment, in
two threads with their own database connections (PostgreSQL, real transactions), and every
message, request, check-in, flag and snapshot it makes exists once, and each e-mail arrives once
at a real SMTP server (tests/smtp_server.py). The one-minute sweeps are covered too: a message
or a matching run handed out by both is sent or run once."""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from health import tasks as health_tasks
from health.models import Heartbeat
from matching import runs
from matching.models import MatchingRun
from mentoring.settings.base import CELERY_BEAT_SCHEDULE
from notifications import tasks as notification_tasks
from notifications.models import Notification
from pairs import tasks as pair_tasks
from pairs.models import Meeting
from programmes import tasks as programme_tasks
from programmes.models import Cohort, Programme
from reporting import tasks as reporting_tasks
from reporting.models import KpiSnapshot
from risks import tasks as risk_tasks
from risks.detection import risks_detect
from risks.models import CheckIn, RiskFlag
from surveys import tasks as survey_tasks
from surveys.models import PulseRequest
from tests.factories import CohortFactory, ParticipantFactory, ProgrammeFactory
from tests.matching.test_runs import mentee, mentor
from tests.pairs.meeting_helpers import agreed_pair, meeting_for
from tests.reporting.kpi_helpers import cohort_in, pair_in
from tests.risks.test_digests import JUNE_FIRST, MONDAY, pair_in_trouble
from tests.surveys.feedback_helpers import MIDPOINT_OPENS, feedback_pair

if TYPE_CHECKING:
    from tests.smtp_server import Inbox

pytest_plugins = ["tests.smtp_server"]  # the smtp_server and smtp_email fixtures
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def twice_at_once(task: Callable[[], object], moment: datetime) -> list[object]:
    """Run ``task`` in two threads released together at ``moment``; both must finish."""
    start = threading.Barrier(2)
    results: list[object] = []
    errors: list[BaseException] = []

    def beat() -> None:
        try:
            start.wait(timeout=10)
            results.append(task())
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    with time_machine.travel(moment, tick=False):
        threads = [threading.Thread(target=beat) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == []
    assert len(results) == 2
    return results


def once_each(rows: list[tuple]) -> None:
    doubled = {row: n for row, n in Counter(rows).items() if n > 1}
    assert doubled == {}


def assert_mail_once(inbox: "Inbox") -> None:
    """Each message in the outbox once, sent once, and each delivered once at the SMTP
    server (one Message-ID per outbox key, one arrival per Message-ID)."""
    messages = list(Notification.objects.values_list("kind", "to_email", "object_id", "key"))
    once_each([(kind, to, about) for kind, to, about, _ in messages])
    assert messages, "the scan asked for nothing: the case tests nothing"
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}
    arrived = inbox.wait_for(len(messages), timeout=10)
    once_each([message["Message-ID"] for message in arrived])
    once_each([(message["To"], message["Subject"]) for message in arrived])
    assert len(arrived) == len(messages)


@pytest.fixture(autouse=True)
def london(settings) -> None:
    settings.TIME_ZONE = "Europe/London"


def test_it_covers_every_entry_of_the_beat_schedule() -> None:
    covered = {
        "health-heartbeat",
        "sweep-notifications",
        "sweep-matching-runs",
        "request-due-pulses",
        "send-due-intake-reminders",
        "send-due-reminders",
        "send-due-survey-reminders",
        "send-due-checkins",
        "send-due-digests",
        "send-due-sponsor-statuses",
        "detect-risks",
        "refit-risk-models",
        "compute-due-kpis",
    }
    assert set(CELERY_BEAT_SCHEDULE) == covered


def test_the_intake_agreement_and_session_reminders(
    programme: Programme, smtp_email: "Inbox"
) -> None:
    invited_at = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    ParticipantFactory.create_batch(3, cohort=cohort, invitation_sent_at=invited_at)
    pair = agreed_pair(programme=programme)
    meeting_for(pair, starts_at=invited_at + 3 * DAY + timedelta(hours=12))

    twice_at_once(
        programme_tasks.send_due_intake_reminders, invited_at + 3 * DAY + timedelta(hours=1)
    )
    twice_at_once(pair_tasks.send_due_reminders, invited_at + 3 * DAY + timedelta(hours=1))

    assert Notification.objects.filter(kind="intake_reminder").count() == 3
    assert_mail_once(smtp_email)


def test_the_pulse_requests_and_their_nudges(programme: Programme, smtp_email: "Inbox") -> None:
    session_at = datetime(2026, 2, 9, 15, 0, tzinfo=UTC)
    pairs = [agreed_pair(programme=programme) for _ in range(3)]
    meetings = [meeting_for(pair, starts_at=session_at) for pair in pairs]

    twice_at_once(survey_tasks.request_due_pulses, session_at + 3 * HOUR)

    requests = list(PulseRequest.objects.values_list("meeting", "participant"))
    once_each(requests)
    assert len(requests) == 2 * len(meetings)
    assert_mail_once(smtp_email)
    twice_at_once(survey_tasks.send_due_survey_reminders, session_at + 3 * HOUR + 2 * DAY)
    assert Notification.objects.filter(kind="pulse_nudge").count() == len(requests)
    assert_mail_once(smtp_email)


def test_the_programme_questions(programme: Programme, smtp_email: "Inbox") -> None:
    feedback_pair(programme)
    moment = datetime.combine(MIDPOINT_OPENS, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)

    twice_at_once(survey_tasks.send_due_survey_reminders, moment)

    assert_mail_once(smtp_email)


def test_the_missed_meetings_checkins(programme: Programme, smtp_email: "Inbox") -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    for _ in range(2):
        pair = agreed_pair(programme=programme)
        meeting_for(pair, starts_at=now - 12 * DAY, status=Meeting.Status.HELD)
        meeting_for(pair, starts_at=now - 6 * DAY, status=Meeting.Status.MISSED)
        meeting_for(pair, starts_at=now - 2 * DAY, status=Meeting.Status.MISSED)

    twice_at_once(risk_tasks.send_due_checkins, now)

    checkins = list(CheckIn.objects.values_list("participant", "trigger"))
    once_each(checkins)
    assert len(checkins) == 4
    assert_mail_once(smtp_email)


def test_the_managers_digest(programme: Programme, manager, smtp_email: "Inbox") -> None:
    pair_in_trouble(programme)
    risks_detect(now=MONDAY - 3 * DAY)

    twice_at_once(risk_tasks.send_due_digests, MONDAY)

    assert Notification.objects.filter(kind="risk_digest").count() == 1
    assert_mail_once(smtp_email)


def test_the_sponsors_status(programme: Programme, sponsor, smtp_email: "Inbox") -> None:
    twice_at_once(reporting_tasks.send_due_sponsor_statuses, JUNE_FIRST)

    assert Notification.objects.filter(kind="sponsor_status").count() == 1
    assert_mail_once(smtp_email)


def test_the_risk_scan(programme: Programme) -> None:
    for _ in range(3):
        pair_in_trouble(programme)

    twice_at_once(risk_tasks.detect_risks, MONDAY - 3 * DAY)

    flags = list(RiskFlag.objects.filter(resolved_at=None).values_list("pair", "rule"))
    assert flags
    once_each(flags)


def test_the_nightly_kpis() -> None:
    programme = ProgrammeFactory(time_zone="Europe/London", status=Programme.Status.RUNNING)
    cohort = cohort_in(programme, date(2026, 1, 5), date(2026, 3, 31))
    pair_in(cohort, started_on=cohort.starts_on)

    twice_at_once(reporting_tasks.compute_due_kpis, datetime(2026, 2, 20, 2, 0, tzinfo=LONDON))

    snapshots = list(KpiSnapshot.objects.values_list("programme", "cohort", "month", "kpi", "part"))
    assert snapshots
    once_each(snapshots)


def test_the_outbox_sweep(programme: Programme, smtp_email: "Inbox") -> None:
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    for participant in ParticipantFactory.create_batch(3, cohort=cohort):
        # Written without queuing its send: as if its task was lost with the broker.
        Notification.objects.create(
            kind="intake_invitation",
            key=f"lost-{participant.pk}",
            to_email=participant.person.email,
            person=participant.person,
            about=participant,
        )

    twice_at_once(notification_tasks.sweep_notifications, datetime.now(UTC) + HOUR)

    assert_mail_once(smtp_email)


def test_the_matching_runs_sweep(programme: Programme) -> None:
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    mentee(cohort), mentee(cohort), mentor(cohort), mentor(cohort)
    run = runs.matching_run_start(cohort=cohort)  # no on-commit callback: its task is lost

    twice_at_once(runs.sweep_matching_runs, datetime.now(UTC) + DAY)

    run.refresh_from_db()
    assert (run.status, run.attempts) == (MatchingRun.Status.DONE, 1)


def test_the_heartbeat() -> None:
    twice_at_once(health_tasks.record_heartbeat, datetime.now(UTC))

    assert Heartbeat.objects.filter(name="celery").count() == 1

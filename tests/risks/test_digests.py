"""The managers' weekly digest of open at-risk flags, found by beat's "what is due" scan: it
is asked when due (08:00 in settings.TIME_ZONE) and not a minute before, once per key however
often the scan runs, and only to the managers of the programme. The digest names the pair, each
open flag's reason, the recommended action, its age and its page in the admin, never what anyone
wrote, and is not sent when no flag is open. The sponsors' monthly status, found by the same
kind of scan, is tested in tests/reporting/test_sponsor_status_due.py."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail

from notifications.models import Notification
from pairs.models import Meeting, Note, Pair
from programmes.models import Programme
from programmes.scoping import ORG_ADMINS_GROUP
from risks import notices as risk_notices
from risks import tasks
from risks.detection import risks_detect
from risks.digests import risk_digests_due
from risks.models import RiskFlag
from surveys.models import Pulse
from tests.factories import ProgrammeFactory, PulseFactory, UserFactory
from tests.pairs.meeting_helpers import agreed_pair, meeting_for

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 6, 15, 8, 0, tzinfo=LONDON)  # ISO week 2026-W25
JUNE_FIRST = datetime(2026, 6, 1, 8, 0, tzinfo=LONDON)  # a Monday
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MARKERS = ("LEARNING-MARKER", "ACTION-MARKER", "NOTE-MARKER", "CANCEL-MARKER")


@pytest.fixture(autouse=True)
def london(settings) -> None:
    settings.TIME_ZONE = "Europe/London"


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def keys(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("key", flat=True))


def pulse(meeting: Meeting, participant, **answers) -> Pulse:
    return PulseFactory(meeting=meeting, participant=participant, **answers)


def pair_in_trouble(programme: Programme, **fields) -> Pair:
    """Held a session three weeks before MONDAY (with private answers, a low safety answer
    and a note), then missed the next one and cancelled the one after (with a reason)."""
    pair = agreed_pair(programme=programme, started_on=(MONDAY - 40 * DAY).date(), **fields)
    held = meeting_for(pair, starts_at=MONDAY - 21 * DAY, status=Meeting.Status.HELD)
    pulse(held, pair.mentee, learning=MARKERS[0], action=MARKERS[1], safety=2)
    Note.objects.create(pair=pair, meeting=held, author=pair.mentee, text=MARKERS[2])
    meeting_for(pair, starts_at=MONDAY - 14 * DAY, status=Meeting.Status.MISSED)
    meeting_for(
        pair,
        starts_at=MONDAY - 7 * DAY,
        status=Meeting.Status.CANCELLED,
        cancelled_by="mentee",
        cancel_reason=MARKERS[3],
    )
    return pair


def pair_doing_well(programme: Programme) -> Pair:
    pair = agreed_pair(programme=programme, started_on=(MONDAY - 40 * DAY).date())
    meeting_for(pair, starts_at=MONDAY - 5 * DAY, status=Meeting.Status.HELD)
    return pair


def detect(now: datetime = MONDAY - 3 * DAY) -> None:
    """The hourly scan, three days before the digest goes."""
    risks_detect(now=now)


# --- The managers' weekly digest ----------------------------------------------------------------


def test_it_asks_the_digest_on_monday_at_eight_and_not_before(programme, manager) -> None:
    pair_in_trouble(programme)

    with at(MONDAY - 9 * 60 * MINUTE):  # Sunday 23:00: last week's is still due
        assert risk_digests_due() == 1
    with at(MONDAY - MINUTE):
        assert risk_digests_due() == 0
    assert keys("risk_digest") == [f"risk_digest:{manager.pk}:2026-W24"]

    with at(MONDAY):
        assert risk_digests_due() == 1
    assert keys("risk_digest")[-1] == f"risk_digest:{manager.pk}:2026-W25"


def test_it_asks_once_per_week_however_often_the_scan_runs(programme, manager) -> None:
    pair_in_trouble(programme)

    for moment in (
        MONDAY,
        MONDAY + 10 * MINUTE,
        MONDAY + 3 * DAY,
        MONDAY + 6 * DAY + 15 * 60 * MINUTE,
    ):
        with at(moment):
            tasks.send_due_digests()

    assert keys("risk_digest") == [f"risk_digest:{manager.pk}:2026-W25"]


def test_the_digest_lists_each_open_flag_with_its_action_and_nothing_anyone_wrote(
    programme, manager, django_capture_on_commit_callbacks
) -> None:
    pair = pair_in_trouble(programme)
    detect()
    missed = RiskFlag.objects.get(rule=RiskFlag.Rule.FADING)
    low = RiskFlag.objects.get(rule=RiskFlag.Rule.LOW_SAFETY)

    with at(MONDAY), django_capture_on_commit_callbacks(execute=True):
        risk_digests_due()

    [message] = mail.outbox
    assert message.to == [manager.email]
    assert message.subject == "1 pair needs your attention this week"
    body = message.body
    assert "2 at-risk flags are open on 1 pair this week" in body
    assert "Margaret Hale (executive) with Ravi Patel (reverse-mentor)" in body
    assert missed.reason in body
    assert missed.recommended_action in body
    assert low.reason in body
    assert low.recommended_action in body
    assert "Open for 3 days (since 12 June 2026)" in body
    # The most severe first: low safety (high) before likely to lapse (medium).
    assert body.index(low.reason) < body.index(missed.reason)
    for flag in (missed, low):
        assert f"http://testserver/admin/risks/riskflag/{flag.pk}/change/" in body
    assert pair.cohort.name in body
    for marker in MARKERS:
        assert marker not in body


def test_resolved_flags_are_not_listed(programme, manager, django_capture_on_commit_callbacks):
    pair_in_trouble(programme)
    detect()
    resolved = RiskFlag.objects.get(rule=RiskFlag.Rule.LOW_SAFETY)
    resolved.resolved_at = MONDAY - DAY
    resolved.save()

    with at(MONDAY), django_capture_on_commit_callbacks(execute=True):
        risk_digests_due()

    [message] = mail.outbox
    assert "1 at-risk flag is open on 1 pair" in message.body
    assert resolved.reason not in message.body


def test_no_digest_is_sent_when_no_flag_is_open(
    programme, manager, django_capture_on_commit_callbacks
) -> None:
    pair_doing_well(programme)
    pair_in_trouble(programme)
    detect()
    RiskFlag.objects.update(resolved_at=MONDAY - DAY)

    with at(MONDAY), django_capture_on_commit_callbacks(execute=True):
        assert risk_digests_due() == 1

    assert mail.outbox == []
    assert Notification.objects.get(kind="risk_digest").status == Notification.Status.CANCELLED


def test_only_the_programmes_own_managers_get_its_flags(
    programme, manager, outsider, django_capture_on_commit_callbacks
) -> None:
    pair_in_trouble(programme)
    other = ProgrammeFactory()
    other_manager = UserFactory(username="dora")
    other.managers.add(other_manager)
    pair_doing_well(other)
    closed = ProgrammeFactory(status=Programme.Status.CLOSED)
    closed.managers.add(UserFactory(username="erin"))
    pair_in_trouble(closed)
    detect()

    with at(MONDAY), django_capture_on_commit_callbacks(execute=True):
        assert risk_digests_due() == 2

    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert Notification.objects.get(user=other_manager).status == Notification.Status.CANCELLED


def test_each_manager_s_digest_lists_only_the_programmes_they_manage(
    programme, manager, django_capture_on_commit_callbacks
) -> None:
    """Issue #18: two programmes, each with its manager, a manager of both, and an
    organisation administrator who manages neither: she sees every flag in the admin, and
    gets no digest (a digest is for those who run a programme)."""
    other = ProgrammeFactory(name="Programme B")
    other_manager = UserFactory(username="dora")
    other.managers.add(other_manager)
    both = UserFactory(username="ben")
    for managed in (programme, other):
        managed.managers.add(both)
        pair_in_trouble(managed)
    org_admin = UserFactory(username="olga", is_staff=True)
    org_admin.groups.add(Group.objects.get(name=ORG_ADMINS_GROUP))
    detect()
    flags = {
        managed.pk: {
            f"/admin/risks/riskflag/{pk}/change/"
            for pk in RiskFlag.objects.filter(pair__cohort__programme=managed).values_list(
                "pk", flat=True
            )
        }
        for managed in (programme, other)
    }

    with at(MONDAY), django_capture_on_commit_callbacks(execute=True):
        assert risk_digests_due() == 3

    bodies = {message.to[0]: message.body for message in mail.outbox}
    assert set(bodies) == {manager.email, other_manager.email, both.email}
    expected = {
        manager.email: flags[programme.pk],
        other_manager.email: flags[other.pk],
        both.email: flags[programme.pk] | flags[other.pk],
    }
    every_flag = flags[programme.pk] | flags[other.pk]
    for email, body in bodies.items():
        assert {url for url in every_flag if url in body} == expected[email], email
    assert "Programme B" not in bodies[manager.email]
    assert programme.name not in bodies[other_manager.email]
    assert not Notification.objects.filter(user=org_admin).exists()


def test_the_digest_is_built_in_a_fixed_number_of_queries(
    programme, manager, django_assert_num_queries
) -> None:
    paused = pair_in_trouble(programme, status=Pair.Status.PAUSED)
    for _ in range(4):
        pair_in_trouble(programme)
    detect()
    with at(MONDAY):
        risk_digests_due()
    notification = Notification.objects.select_related("user").get(kind="risk_digest")

    # The recipient's running programmes; their open flags with pairs, cohorts and names;
    # their pairs to watch.
    with at(MONDAY), django_assert_num_queries(3):
        message = risk_notices.risk_digest(notification)

    [entry] = message.context["programmes"]
    assert message.context["pair_count"] == 5
    assert message.context["flag_count"] == 9  # the paused pair: low safety only
    # Pairs in the order of their most pressing flag: all have a high one, the oldest first.
    assert entry["pairs"][0]["pair"] == paused
    assert [flag["days_open"] for flag in entry["pairs"][0]["flags"]] == [3]

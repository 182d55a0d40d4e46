"""The managers' weekly digest of pairs needing attention and the sponsors' monthly status,
found by beat's "what is due" scan: each is asked when due (08:00 in settings.TIME_ZONE) and
not a minute before, once per key however often the scan runs, and only to the managers or
sponsors of the programme. The digest names the pair and the reason, never what anyone wrote,
and is not sent when nothing needs attention; the sponsors' figures hide small groups."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from notifications.models import Notification
from programmes import tasks
from programmes.attention import LOW_SAFETY, pairs_needing_attention
from programmes.digests import risk_digests_due, sponsor_figures, sponsor_statuses_due
from programmes.models import CheckIn, Meeting, Note, Pair, Programme
from surveys.models import Pulse, PulseRequest
from tests.factories import ProgrammeFactory, UserFactory
from tests.programmes.meeting_helpers import agreed_pair, meeting_for

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 6, 15, 8, 0, tzinfo=LONDON)  # ISO week 2026-W25
JUNE_FIRST = datetime(2026, 6, 1, 8, 0, tzinfo=LONDON)  # a Monday
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
MARKERS = ("LEARNING-MARKER", "ACTION-MARKER", "NOTE-MARKER")


@pytest.fixture(autouse=True)
def london(settings) -> None:
    settings.TIME_ZONE = "Europe/London"


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def keys(kind: str) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("key", flat=True))


def pulse(meeting: Meeting, participant, **answers) -> Pulse:
    return Pulse.objects.create(
        meeting=meeting,
        participant=participant,
        held=True,
        submitted_at=meeting.ends_at,
        session_starts_at=meeting.starts_at,
        **answers,
    )


def pair_in_trouble(programme: Programme) -> Pair:
    """Held a session three weeks before MONDAY (with private answers and a note), then
    missed the next two."""
    pair = agreed_pair(programme=programme, started_on=(MONDAY - 40 * DAY).date())
    held = meeting_for(pair, starts_at=MONDAY - 21 * DAY, status=Meeting.Status.HELD)
    pulse(held, pair.mentee, learning=MARKERS[0], action=MARKERS[1], safety=2)
    Note.objects.create(pair=pair, meeting=held, author=pair.mentee, text=MARKERS[2])
    for days in (14, 7):
        meeting_for(pair, starts_at=MONDAY - days * DAY, status=Meeting.Status.MISSED)
    return pair


def pair_doing_well(programme: Programme) -> Pair:
    pair = agreed_pair(programme=programme, started_on=(MONDAY - 40 * DAY).date())
    meeting_for(pair, starts_at=MONDAY - 5 * DAY, status=Meeting.Status.HELD)
    return pair


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


def test_the_digest_names_the_pair_and_reason_and_nothing_anyone_wrote(
    programme, manager, django_capture_on_commit_callbacks
) -> None:
    pair = pair_in_trouble(programme)

    with at(MONDAY), django_capture_on_commit_callbacks(execute=True):
        risk_digests_due()

    [message] = mail.outbox
    assert message.to == [manager.email]
    assert message.subject == "1 pair needs your attention this week"
    assert "Margaret Hale (executive) with Ravi Patel (reverse-mentor)" in message.body
    assert "the last 2 sessions were missed or cancelled" in message.body
    assert LOW_SAFETY in message.body
    assert f"http://testserver/admin/programmes/pair/{pair.pk}/change/" in message.body
    for marker in MARKERS:
        assert marker not in message.body


def test_no_digest_is_sent_when_nothing_needs_attention(
    programme, manager, django_capture_on_commit_callbacks
) -> None:
    pair_doing_well(programme)

    with at(MONDAY), django_capture_on_commit_callbacks(execute=True):
        assert risk_digests_due() == 1

    assert mail.outbox == []
    assert Notification.objects.get(kind="risk_digest").status == Notification.Status.CANCELLED


def test_only_the_programmes_own_managers_get_its_pairs(
    programme, manager, outsider, django_capture_on_commit_callbacks
) -> None:
    pair_in_trouble(programme)
    other = ProgrammeFactory()
    other_manager = UserFactory(username="dora")
    other.managers.add(other_manager)
    pair_doing_well(other)
    closed = ProgrammeFactory(status=Programme.Status.CLOSED)
    closed.managers.add(UserFactory(username="erin"))

    with at(MONDAY), django_capture_on_commit_callbacks(execute=True):
        assert risk_digests_due() == 2

    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert Notification.objects.get(user=other_manager).status == Notification.Status.CANCELLED


# --- What needs attention ----------------------------------------------------------------------


def test_it_names_each_reason_in_a_fixed_number_of_queries(
    programme, django_assert_num_queries
) -> None:
    now = MONDAY
    pair_in_trouble(programme)
    quiet = agreed_pair(programme=programme, started_on=(now - 50 * DAY).date())
    meeting_for(quiet, starts_at=now - 35 * DAY, status=Meeting.Status.HELD)
    unfit = agreed_pair(programme=programme, started_on=(now - 10 * DAY).date())
    first = meeting_for(unfit, starts_at=now - 3 * DAY, status=Meeting.Status.HELD)
    pulse(first, unfit.reverse_mentor, good_fit=False)
    paused = agreed_pair(
        programme=programme, status=Pair.Status.PAUSED, started_on=(now - 50 * DAY).date()
    )
    trigger = meeting_for(paused, starts_at=now - 12 * DAY, status=Meeting.Status.CANCELLED,
                          cancelled_by="mentee")  # fmt: skip
    CheckIn.objects.create(
        pair=paused,
        participant=paused.mentee,
        trigger=trigger,
        choice=CheckIn.Choice.PAUSE,
        answered_at=now - 10 * DAY,
    )
    pair_doing_well(programme)

    # The pairs; their started sessions; the pulse answers that matter; the check-in answers.
    with django_assert_num_queries(4):
        found = {a.pair.pk: a.reasons for a in pairs_needing_attention(programme, now=now)}

    assert found[quiet.pk] == ["no session held for 35 days (the last on 11 May 2026)"]
    assert found[unfit.pk] == ['someone answered "not a good fit" after the first session']
    assert found[paused.pk] == ["someone asked to pause in the check-in on 5 June 2026"]
    assert len(found) == 4


# --- The sponsors' monthly status ---------------------------------------------------------------


def test_it_asks_the_status_on_the_first_working_day_at_eight(programme, sponsor) -> None:
    with at(JUNE_FIRST - MINUTE):
        assert sponsor_statuses_due() == 0
    for moment in (JUNE_FIRST, JUNE_FIRST + 10 * MINUTE, JUNE_FIRST + 6 * DAY):
        with at(moment):
            sponsor_statuses_due()
    with at(JUNE_FIRST + 7 * DAY):  # the 8th: too late to be worth sending
        assert sponsor_statuses_due() == 0

    assert keys("sponsor_status") == [f"sponsor_status:{sponsor.pk}:{programme.pk}:2026-06"]
    assert Notification.objects.get().data == {"month": "2026-05-01"}


def test_a_month_starting_on_a_weekend_waits_for_monday(programme, sponsor) -> None:
    saturday = datetime(2026, 8, 1, 9, 0, tzinfo=LONDON)
    for moment in (saturday, saturday + DAY):
        with at(moment):
            assert sponsor_statuses_due() == 0
    with at(datetime(2026, 8, 3, 8, 0, tzinfo=LONDON)):
        assert sponsor_statuses_due() == 1


def test_the_figures_hide_a_group_of_fewer_than_five_people(programme) -> None:
    may = JUNE_FIRST - 20 * DAY
    pairs = [agreed_pair(programme=programme) for _ in range(2)]
    for pair in pairs:
        held = meeting_for(pair, starts_at=may, status=Meeting.Status.HELD)
        for participant in (pair.mentee, pair.reverse_mentor):
            PulseRequest.objects.create(meeting=held, participant=participant)
        pulse(held, pair.mentee)

    with at(JUNE_FIRST):
        figures = sponsor_figures(programme, month=may.date().replace(day=1))
    hidden = "not shown (fewer than 5 people)"
    assert figures == {
        "active_pairs": hidden,
        "sessions_held": hidden,
        "pulse_response_rate": hidden,
    }

    third = agreed_pair(programme=programme)
    held = meeting_for(third, starts_at=may, status=Meeting.Status.HELD)
    PulseRequest.objects.create(meeting=held, participant=third.mentee)

    with at(JUNE_FIRST):
        figures = sponsor_figures(programme, month=may.date().replace(day=1))
    assert figures == {"active_pairs": "3", "sessions_held": "3", "pulse_response_rate": "40%"}


def test_only_the_programmes_sponsors_get_its_status_without_names(
    programme, sponsor, outsider, django_capture_on_commit_callbacks
) -> None:
    agreed_pair(programme=programme)
    ProgrammeFactory(status=Programme.Status.CLOSED).sponsors.add(UserFactory(username="finn"))
    other = ProgrammeFactory(name="Other")
    other_sponsor = UserFactory(username="gail")
    other.sponsors.add(other_sponsor)

    with at(JUNE_FIRST), django_capture_on_commit_callbacks(execute=True):
        assert sponsor_statuses_due() == 2

    sent = {tuple(m.to): m for m in mail.outbox}
    assert set(sent) == {(sponsor.email,), (other_sponsor.email,)}
    message = sent[sponsor.email,]
    assert message.subject == "Inclusive Leadership: status for May 2026"
    assert "Active pairs today: not shown (fewer than 5 people)" in message.body
    assert "http://testserver/accounts/login/" in message.body
    assert "Margaret Hale" not in message.body
    assert "Ravi Patel" not in message.body

"""Ending a pair, whichever way it ends (pairs.services.pair_close, reached here through
the manager's "end the pair"): sessions still to come are withdrawn from both calendars and
from every figure, both participants are told once, and whoever is left without a pair is
free again."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from notifications.tasks import send_notification
from pairs import notices as pair_notices
from pairs.models import Meeting, Pair
from programmes.models import Intake, Participant, Role
from reporting.kpis import kpis_compute
from reporting.models import KpiSnapshot
from risks import remediation
from tests.pairs.meeting_helpers import pair_token
from tests.risks.remediation_helpers import MONDAY_MORNING, join, meeting

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.pair(
        intakes=True, intakes__availability=MONDAY_MORNING, mentor_zone="America/New_York"
    ),
]

REASON = "REASON-SECRET the executive asked to stop"
MID_MONTH = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def end(pair: Pair, manager, capture) -> None:
    with capture(execute=True):
        remediation.pair_end(pair=pair, by=manager, note=REASON)


def test_it_withdraws_only_the_sessions_still_to_come(
    pair, manager, django_capture_on_commit_callbacks
):
    held = meeting(pair, days=-3, status=Meeting.Status.HELD)
    not_logged = meeting(pair, days=-1)
    cancelled = meeting(pair, days=2, status=Meeting.Status.CANCELLED)
    coming = meeting(pair, days=6)
    later = meeting(pair, days=13, sequence=2)

    end(pair, manager, django_capture_on_commit_callbacks)

    statuses = dict(Meeting.objects.values_list("pk", "status"))
    assert statuses == {
        held.pk: Meeting.Status.HELD,
        not_logged.pk: Meeting.Status.SCHEDULED,  # it happened or not: the pair may still say
        cancelled.pk: Meeting.Status.CANCELLED,
        coming.pk: Meeting.Status.WITHDRAWN,
        later.pk: Meeting.Status.WITHDRAWN,
    }
    sequences = dict(Meeting.objects.values_list("pk", "sequence"))
    assert (sequences[coming.pk], sequences[later.pk], sequences[cancelled.pk]) == (1, 3, 0)


def test_both_are_told_once_with_their_own_times_and_the_calendar_cancellations(
    pair, manager, django_capture_on_commit_callbacks
):
    coming = meeting(pair, days=6)

    end(pair, manager, django_capture_on_commit_callbacks)

    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {pair.mentee.person.email, pair.reverse_mentor.person.email}
    sides = ((pair.mentee, pair.reverse_mentor), (pair.reverse_mentor, pair.mentee))
    for participant, partner in sides:
        message = by_address[participant.person.email]
        zone = participant.person.time_zone
        starts = timezone.localtime(coming.starts_at, ZoneInfo(zone))
        assert message.subject == (
            f"Your reverse-mentoring pairing with {partner.person.full_name} has ended"
        )
        assert f"{starts:%H:%M} ({zone} time)" in message.body
        assert "REASON-SECRET" not in message.body  # the manager's words are not theirs to read
        ((_name, content, mimetype),) = message.attachments
        calendar = icalendar.Calendar.from_ical(content)
        (event,) = calendar.walk("VEVENT")
        assert (mimetype, str(calendar["method"]), str(event["status"])) == (
            "text/calendar",
            "CANCEL",
            "CANCELLED",
        )
        assert str(event["uid"]).startswith(str(coming.uid))
        assert event["sequence"] == 1
        assert "Cancelled: your pair has ended." in str(event["description"])


def test_it_sends_nothing_twice(pair, manager, django_capture_on_commit_callbacks):
    end(pair, manager, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        pair_notices.ask_pair_ended(pair, pair.mentee)
    for row in Notification.objects.filter(kind="pair_ended"):
        send_notification.delay(row.pk)  # a second delivery

    assert Notification.objects.filter(kind="pair_ended").count() == 2
    assert len(mail.outbox) == 2


def test_without_sessions_to_come_it_speaks_of_none(
    pair, manager, django_capture_on_commit_callbacks
):
    meeting(pair, days=-3, status=Meeting.Status.HELD)

    end(pair, manager, django_capture_on_commit_callbacks)

    for message in mail.outbox:
        assert message.attachments == []
        assert "cancel" not in message.body.lower()
        assert "has now ended" in message.body


def test_a_participant_who_has_withdrawn_is_not_written_to(
    pair, manager, django_capture_on_commit_callbacks
):
    Participant.objects.filter(pk=pair.mentee_id).update(status=Participant.Status.WITHDRAWN)

    end(pair, manager, django_capture_on_commit_callbacks)

    assert [message.to for message in mail.outbox] == [[pair.reverse_mentor.person.email]]


def test_whoever_is_left_without_a_pair_is_free_again_and_the_others_stay_matched(
    pair, manager, django_capture_on_commit_callbacks
):
    other_mentee = join(pair, Role.MENTEE, "Tom Baker")
    Participant.objects.filter(pk=other_mentee.pk).update(status=Participant.Status.MATCHED)
    Pair.objects.create(
        cohort=pair.cohort,
        mentee=other_mentee,
        reverse_mentor=pair.reverse_mentor,
        status=Pair.Status.ACTIVE,
    )

    end(pair, manager, django_capture_on_commit_callbacks)

    statuses = dict(Participant.objects.values_list("pk", "status"))
    assert statuses[pair.mentee_id] == Participant.Status.INTAKE_COMPLETE
    assert statuses[pair.reverse_mentor_id] == Participant.Status.MATCHED  # still has a pair
    assert statuses[other_mentee.pk] == Participant.Status.MATCHED


def test_someone_paired_by_hand_without_an_intake_is_asked_for_one_again(
    pair, manager, django_capture_on_commit_callbacks
):
    Intake.objects.filter(participant=pair.reverse_mentor).delete()

    end(pair, manager, django_capture_on_commit_callbacks)

    statuses = dict(Participant.objects.values_list("pk", "status"))
    assert statuses[pair.mentee_id] == Participant.Status.INTAKE_COMPLETE
    assert statuses[pair.reverse_mentor_id] == Participant.Status.INVITED


def test_a_withdrawn_session_counts_in_no_figure(
    programme, pair, manager, django_capture_on_commit_callbacks
):
    with time_machine.travel(MID_MONTH, tick=False):
        meeting(pair, days=-2, status=Meeting.Status.HELD)
        meeting(pair, days=-1, status=Meeting.Status.CANCELLED, cancelled_by=Role.MENTEE)
        meeting(pair, days=1)
        end(pair, manager, django_capture_on_commit_callbacks)
    kpis_compute(programme=programme, now=MID_MONTH + timedelta(days=3))

    row = KpiSnapshot.objects.get(
        programme=programme,
        cohort=pair.cohort,
        month=MID_MONTH.date().replace(day=1),
        kpi=KpiSnapshot.Kpi.CANCELLATION_RATE,
        part="",
    )
    assert (row.numerator, row.denominator) == (1, 2)


def test_the_pair_page_lists_the_withdrawn_session_as_withdrawn_with_nothing_coming_up(
    client, pair, manager, django_capture_on_commit_callbacks
):
    meeting(pair, days=6)

    end(pair, manager, django_capture_on_commit_callbacks)

    page = client.get(reverse("pairs:pair", args=[pair_token(pair.mentee)]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Withdrawn (the pair ended)" in html
    # Nothing is coming up for an ended pair: one list, without "Coming up" and "Past".
    assert "Coming up" not in html
    assert "No session booked yet" not in html

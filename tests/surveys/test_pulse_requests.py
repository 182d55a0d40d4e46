"""Pulse requests: due an hour after a session ends, written once per participant and
session with its e-mail in the outbox, e-mailed once, never for a session already answered,
cancelled or in a paused pair. The beat task run twice sends nothing twice; so does the
managers' "not a good fit" alert."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import Notification
from notifications.sending import notification_send, notifications_due
from pairs.models import Meeting, Pair
from surveys import tasks
from surveys.models import Pulse, PulseRequest
from surveys.pulses import pulse_requests_due
from tests.surveys.pulse_helpers import held_answers, past_session, pulse_url, running_pair

pytestmark = pytest.mark.django_db


def requested() -> list[tuple[int, int]]:
    return sorted(PulseRequest.objects.values_list("meeting_id", "participant_id"))


def asked(kind: str = "pulse_request") -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("pk"))


def test_a_session_is_due_an_hour_after_it_ends_for_both_participants(pair):
    session = past_session(pair, hours_ago=0)  # 45 minutes long, starting now

    with time_machine.travel(session.ends_at + timedelta(minutes=59)):
        assert pulse_requests_due() == 0
    assert asked() == []
    with time_machine.travel(session.ends_at + timedelta(minutes=61)):
        due = pulse_requests_due()

    assert due == 2
    assert requested() == sorted(
        [(session.pk, pair.mentee_id), (session.pk, pair.reverse_mentor_id)]
    )
    # Each request's e-mail is in the outbox, to its participant.
    assert sorted((n.object_id, n.person_id) for n in asked()) == sorted(
        PulseRequest.objects.values_list("pk", "participant__person_id")
    )


def test_nothing_is_due_for_cancelled_or_missed_sessions_or_paused_pairs(programme, pair):
    past_session(pair, hours_ago=3, status=Meeting.Status.CANCELLED, cancelled_by="mentee")
    past_session(pair, hours_ago=5, status=Meeting.Status.MISSED)
    paused = running_pair(programme=programme, status=Pair.Status.PAUSED)
    past_session(paused, hours_ago=3)
    old = past_session(pair, hours_ago=24 * 8)

    assert pulse_requests_due() == 0
    assert requested() == []
    assert asked() == []
    assert old.pk  # a session older than the horizon is not asked about either


def test_the_beat_task_run_twice_sends_one_email_per_request(
    pair, django_capture_on_commit_callbacks
):
    session = past_session(pair, hours_ago=3)

    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.request_due_pulses()
    with django_capture_on_commit_callbacks(execute=True):
        second = tasks.request_due_pulses()

    assert (first, second) == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [pair.mentee.person.email, pair.reverse_mentor.person.email]
    )
    assert PulseRequest.objects.filter(sent_at=None).count() == 0
    assert requested() == sorted(
        [(session.pk, pair.mentee_id), (session.pk, pair.reverse_mentor_id)]
    )
    assert [n.status for n in asked()] == [Notification.Status.SENT] * 2


def test_a_send_task_delivered_twice_sends_once(pair):
    past_session(pair, hours_ago=3)
    pulse_requests_due()
    notification_ids = [n.pk for n in asked()]

    results = [notification_send(pk) for pk in notification_ids + notification_ids]

    assert results == [Notification.Status.SENT] * 2 + ["not claimed"] * 2
    assert len(mail.outbox) == 2


def test_a_failed_send_waits_and_is_retried_by_the_sweep(pair, monkeypatch):
    past_session(pair, hours_ago=3)
    pulse_requests_due()
    notification = asked()[0]
    failed_at = timezone.now()

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", broken)
    with pytest.raises(ConnectionRefusedError), time_machine.travel(failed_at, tick=False):
        notification_send(notification.pk)
    monkeypatch.undo()

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Notification.Status.PENDING, 1)
    assert notification.not_before > failed_at
    with time_machine.travel(failed_at, tick=False):
        assert notification.pk not in notifications_due()
        assert notification_send(notification.pk) == "not claimed"
    assert mail.outbox == []
    with time_machine.travel(notification.not_before + timedelta(seconds=1), tick=False):
        assert notification.pk in notifications_due()
        assert notification_send(notification.pk) == Notification.Status.SENT
    assert [m.to for m in mail.outbox] == [[notification.to_email]]
    request = PulseRequest.objects.get(pk=notification.object_id)
    assert request.participant.person == notification.person
    assert request.sent_at is not None
    assert pulse_requests_due() == 0  # the scan does not ask again


def test_no_email_for_a_pulse_answered_first_from_the_pair_page(
    client, pair, django_capture_on_commit_callbacks
):
    session = past_session(pair, hours_ago=3)
    client.post(pulse_url(pair.mentee, session), held_answers(good_fit="yes"))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.request_due_pulses()

    assert [m.to for m in mail.outbox] == [[pair.reverse_mentor.person.email]]
    # The answer counts as requested, so the response rate stays a share of requests.
    assert requested() == sorted(
        [(session.pk, pair.mentee_id), (session.pk, pair.reverse_mentor_id)]
    )


def test_no_email_for_a_pulse_answered_before_its_email_goes_out(client, pair):
    session = past_session(pair, hours_ago=3)
    pulse_requests_due()
    client.post(pulse_url(pair.mentee, session), held_answers(good_fit="yes"))

    statuses = {n.person_id: notification_send(n.pk) for n in asked()}

    assert statuses == {
        pair.mentee.person_id: Notification.Status.CANCELLED,
        pair.reverse_mentor.person_id: Notification.Status.SENT,
    }
    assert [m.to for m in mail.outbox] == [[pair.reverse_mentor.person.email]]


def test_the_email_opens_the_pulse_in_one_tap_with_held_chosen(
    client, pair, django_capture_on_commit_callbacks
):
    session = past_session(pair, hours_ago=3)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.request_due_pulses()
    message = next(m for m in mail.outbox if m.to == [pair.mentee.person.email])

    yes_link = next(line.strip() for line in message.body.splitlines() if "held=yes" in line)
    page = client.get(urlsplit(yes_link).path + "?" + urlsplit(yes_link).query)

    assert message.subject.startswith("How was your session with Ravi Patel on ")
    assert "held=no" in message.body
    assert page.status_code == 200
    assert 'value="yes" autocomplete="off" checked' in page.content.decode()
    assert session.pk


def test_the_rematch_alert_task_run_twice_alerts_once(
    client, manager, pair, django_capture_on_commit_callbacks
):
    manager.email = "alice@example.org"
    manager.save()
    session = past_session(pair, hours_ago=3)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(pulse_url(pair.reverse_mentor, session), held_answers(good_fit="no"))
    (alert,) = asked("rematch_alert")
    assert notification_send(alert.pk) == "not claimed"  # the task delivered again

    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert "Ravi Patel answered" in mail.outbox[0].body
    pulse = Pulse.objects.get()
    assert pulse.good_fit is False
    assert pulse.rematch_alert_sent_at is not None


def test_no_rematch_alert_once_the_answer_is_changed_to_a_good_fit(client, manager, pair):
    manager.email = "alice@example.org"
    manager.save()
    session = past_session(pair, hours_ago=3)
    url = pulse_url(pair.reverse_mentor, session)
    client.post(url, held_answers(good_fit="no"))
    client.post(url, held_answers(good_fit="yes"))  # within the edit window, before the send

    (alert,) = asked("rematch_alert")

    assert notification_send(alert.pk) == Notification.Status.CANCELLED
    assert mail.outbox == []


def test_the_scans_work_is_what_is_due_not_the_weeks_sessions(programme):
    def scan_with_one_side_due(hours_ago: int) -> int:
        """Queries of a scan where one side of one new session is due."""
        pair = running_pair(programme=programme)
        session = past_session(pair, hours_ago=hours_ago)
        PulseRequest.objects.create(
            meeting=session, participant=pair.mentee, requested_at=timezone.now()
        )
        with CaptureQueriesContext(connection) as queries:
            assert pulse_requests_due() == 1
        return len(queries)

    first = scan_with_one_side_due(hours_ago=2)
    # A week's worth of sessions asked of both sides already...
    for number in range(8):
        past_session(running_pair(programme=programme), hours_ago=3 + number)
    assert pulse_requests_due() == 16
    # ...cost the next scan nothing.
    assert scan_with_one_side_due(hours_ago=2) == first
    with CaptureQueriesContext(connection) as idle:
        assert pulse_requests_due() == 0
    assert len(idle) == 1

"""Pulse requests: due an hour after a session ends, written once per participant and
session, e-mailed once, never for a session already answered, cancelled or in a paused pair.
The beat task run twice sends nothing twice; so does the managers' "not a good fit" alert."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from programmes.models import Meeting, Pair
from surveys import tasks
from surveys.models import Pulse, PulseRequest
from surveys.pulses import pulse_requests_due
from tests.surveys.pulse_helpers import held_answers, past_session, pulse_url, running_pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(programme) -> Pair:
    return running_pair(programme=programme)


def requested() -> list[tuple[int, int]]:
    return sorted(PulseRequest.objects.values_list("meeting_id", "participant_id"))


def test_a_session_is_due_an_hour_after_it_ends_for_both_participants(pair):
    session = past_session(pair, hours_ago=0)  # 45 minutes long, starting now

    with time_machine.travel(session.ends_at + timedelta(minutes=59)):
        assert pulse_requests_due() == []
    with time_machine.travel(session.ends_at + timedelta(minutes=61)):
        due = pulse_requests_due()

    assert requested() == sorted(
        [(session.pk, pair.mentee_id), (session.pk, pair.reverse_mentor_id)]
    )
    assert sorted(due) == sorted(PulseRequest.objects.values_list("pk", flat=True))


def test_nothing_is_due_for_cancelled_or_missed_sessions_or_paused_pairs(programme, pair):
    past_session(pair, hours_ago=3, status=Meeting.Status.CANCELLED, cancelled_by="mentee")
    past_session(pair, hours_ago=5, status=Meeting.Status.MISSED)
    paused = running_pair(programme=programme, status=Pair.Status.PAUSED)
    past_session(paused, hours_ago=3)
    old = past_session(pair, hours_ago=24 * 8)

    assert pulse_requests_due() == []
    assert requested() == []
    assert old.pk  # a session older than the horizon is not asked about either


def test_the_beat_task_run_twice_sends_one_email_per_request(
    pair, django_capture_on_commit_callbacks
):
    session = past_session(pair, hours_ago=3)

    first = tasks.request_due_pulses()
    second = tasks.request_due_pulses()

    assert (first, second) == (2, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [pair.mentee.person.email, pair.reverse_mentor.person.email]
    )
    assert PulseRequest.objects.filter(sent_at=None).count() == 0
    assert requested() == sorted(
        [(session.pk, pair.mentee_id), (session.pk, pair.reverse_mentor_id)]
    )


def test_a_send_task_delivered_twice_sends_once(pair):
    past_session(pair, hours_ago=3)
    request_ids = pulse_requests_due()

    for request_id in request_ids + request_ids:
        tasks.send_pulse_request(request_id)

    assert len(mail.outbox) == 2


def test_a_failed_send_is_retried_by_the_next_scan(pair, monkeypatch):
    past_session(pair, hours_ago=3)
    request_ids = pulse_requests_due()

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr("surveys.emails.send_templated", broken)
    with pytest.raises(ConnectionRefusedError):
        tasks.send_pulse_request.run(request_ids[0])
    monkeypatch.undo()

    assert PulseRequest.objects.get(pk=request_ids[0]).sent_at is None
    assert sorted(pulse_requests_due()) == sorted(request_ids)


def test_no_email_for_a_pulse_answered_first_from_the_pair_page(client, pair):
    session = past_session(pair, hours_ago=3)
    client.post(pulse_url(pair.mentee, session), held_answers(good_fit="yes"))

    tasks.request_due_pulses()

    assert [m.to for m in mail.outbox] == [[pair.reverse_mentor.person.email]]
    # The answer counts as requested, so the response rate stays a share of requests.
    assert requested() == sorted(
        [(session.pk, pair.mentee_id), (session.pk, pair.reverse_mentor_id)]
    )


def test_the_email_opens_the_pulse_in_one_tap_with_held_chosen(client, pair):
    session = past_session(pair, hours_ago=3)
    tasks.request_due_pulses()
    message = next(m for m in mail.outbox if m.to == [pair.mentee.person.email])

    yes_link = next(line.strip() for line in message.body.splitlines() if "held=yes" in line)
    page = client.get(urlsplit(yes_link).path + "?" + urlsplit(yes_link).query)

    assert message.subject.startswith("How was your session with Ravi Patel on ")
    assert "held=no" in message.body
    assert page.status_code == 200
    assert 'value="yes" autocomplete="off" checked' in page.content.decode()
    assert session.pk


def test_the_rematch_alert_task_run_twice_alerts_once(client, manager, pair):
    manager.email = "alice@example.org"
    manager.save()
    session = past_session(pair, hours_ago=3)
    pulse = Pulse.objects.create(
        meeting=session,
        participant=pair.reverse_mentor,
        held=True,
        good_fit=False,
        submitted_at=timezone.now(),
        session_starts_at=session.starts_at,
    )

    tasks.send_rematch_alert(pulse.pk)
    tasks.send_rematch_alert(pulse.pk)

    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert "Ravi Patel answered" in mail.outbox[0].body
    pulse.refresh_from_db()
    assert pulse.rematch_alert_sent_at is not None

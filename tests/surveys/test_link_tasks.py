"""Links sent again on request, through the outbox: the e-mail the page asks for is built
when it is sent, lists a fresh link for each current place, goes out once however often its
task runs, and is cancelled rather than sent when there is no one (or nothing) to write to."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications.models import Notification
from notifications.sending import notification_send, notifications_due
from notifications.tasks import send_notification
from pairs.models import Pair
from programmes.links import Purpose, pair_link_expiry, read_token
from programmes.models import Cohort, Participant, Role
from surveys.models import LinkRequest
from surveys.notices import ask_participant_links
from tests.factories import ParticipantFactory, PersonFactory
from tests.pairs.meeting_helpers import agreed_pair


def _request_for(person, **kwargs) -> LinkRequest:
    return LinkRequest.objects.create(email=person.email.lower(), person=person, **kwargs)


def _asked(link_request: LinkRequest) -> Notification:
    """Ask for the request's e-mail as the page does; the outbox row it writes."""
    ask_participant_links(link_request)
    return Notification.objects.get(kind="participant_links", object_id=link_request.pk)


def _send(link_request: LinkRequest) -> Notification:
    """Ask for the e-mail and run the send task the commit would queue."""
    notification = _asked(link_request)
    send_notification(notification.pk)
    notification.refresh_from_db()
    return notification


def _intake_tokens(body: str) -> list[str]:
    return [
        line.strip().rstrip("/").rsplit("/", 1)[1]
        for line in body.splitlines()
        if "/intake/" in line
    ]


def test_it_sends_once_when_asked_twice_and_its_task_runs_twice(db: None) -> None:
    participant = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)
    link_request = _request_for(participant.person)

    first, second = _asked(link_request), _asked(link_request)
    results = [notification_send(first.pk), notification_send(first.pk)]

    assert first == second
    assert Notification.objects.count() == 1
    assert results == [Notification.Status.SENT, "not claimed"]
    assert len(mail.outbox) == 1


def test_it_lists_a_link_for_each_current_place_in_one_email(db: None) -> None:
    open_place = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)
    person = open_place.person
    running = ParticipantFactory(
        person=person, cohort__status=Cohort.Status.RUNNING, status=Participant.Status.MATCHED
    )

    _send(_request_for(person))

    (message,) = mail.outbox
    (token,) = _intake_tokens(message.body)
    assert read_token(token, purpose=Purpose.INTAKE).participant_id == open_place.pk
    assert running.cohort.name in message.body
    assert "you haven't been paired yet" in message.body


def test_it_includes_the_pair_page_link_once_the_participant_has_a_pair(db: None) -> None:
    mentee = ParticipantFactory(
        cohort__status=Cohort.Status.RUNNING, status=Participant.Status.MATCHED
    )
    mentor = ParticipantFactory(cohort=mentee.cohort, role=Role.REVERSE_MENTOR)
    Pair.objects.create(cohort=mentee.cohort, mentee=mentee, reverse_mentor=mentor)

    _send(_request_for(mentee.person))

    (message,) = mail.outbox
    (line,) = [line for line in message.body.splitlines() if "/pair/" in line]
    token = line.split("/pair/")[1].split("/")[0]
    claims = read_token(token, purpose=Purpose.PAIR)
    assert claims.participant_id == mentee.pk
    # Valid for the cohort and its grace month, not the default lifetime.
    assert claims.expires_at == int(pair_link_expiry(mentee.cohort.ends_on).timestamp())
    assert "Your pair page:" in message.body


def test_it_does_not_send_a_withdrawn_participants_link(db: None) -> None:
    withdrawn = ParticipantFactory(
        cohort__status=Cohort.Status.INTAKE, status=Participant.Status.WITHDRAWN
    )
    other = ParticipantFactory(person=withdrawn.person, cohort__status=Cohort.Status.INTAKE)

    _send(_request_for(withdrawn.person))

    (message,) = mail.outbox
    tokens = _intake_tokens(message.body)
    assert [read_token(t, purpose=Purpose.INTAKE).participant_id for t in tokens] == [other.pk]
    assert withdrawn.cohort.name not in message.body


def test_it_sends_nothing_to_someone_with_no_current_place(db: None) -> None:
    withdrawn = ParticipantFactory(status=Participant.Status.WITHDRAWN)
    ParticipantFactory(
        person=withdrawn.person,
        cohort__status=Cohort.Status.FINISHED,
        cohort__starts_on=date.today() - timedelta(days=121),
        cohort__ends_on=date.today() - timedelta(days=31),
    )
    link_request = _request_for(withdrawn.person)

    notification = _send(link_request)

    assert mail.outbox == []
    assert notification.status == Notification.Status.CANCELLED
    link_request.refresh_from_db()
    assert link_request.sent_at is not None  # handled
    assert notification_send(notification.pk) == "not claimed"  # a rerun does nothing either
    assert mail.outbox == []


def test_it_sends_the_pair_page_for_a_cohort_that_ended_within_a_month(db: None) -> None:
    """The end-of-programme questions and last pulses are reached from the pair page."""
    pair = agreed_pair()
    Cohort.objects.filter(pk=pair.cohort_id).update(
        status=Cohort.Status.FINISHED,
        starts_on=date.today() - timedelta(days=100),
        ends_on=date.today() - timedelta(days=10),
    )

    _send(_request_for(pair.mentee.person))

    (message,) = mail.outbox
    assert "Your pair page" in message.body
    assert "/pair/" in message.body


def test_it_sends_nothing_for_an_unknown_address(db: None) -> None:
    link_request = LinkRequest.objects.create(email="nobody@example.org")

    notification = _send(link_request)

    assert mail.outbox == []
    assert (notification.to_email, notification.status) == (
        "nobody@example.org",
        Notification.Status.CANCELLED,
    )


def test_it_sends_nothing_for_a_refused_request(db: None) -> None:
    # The page never asks for one; the send checks anyway.
    participant = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)

    notification = _send(_request_for(participant.person, rate_limited=True))

    assert mail.outbox == []
    assert notification.status == Notification.Status.CANCELLED


def test_a_failed_send_waits_and_is_sent_by_a_later_attempt(db: None, monkeypatch) -> None:
    participant = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)
    link_request = _request_for(participant.person)
    notification = _asked(link_request)
    failed_at = timezone.now()

    def smtp_down(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("SMTP server not answering")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", smtp_down)
    with pytest.raises(OSError, match="not answering"), time_machine.travel(failed_at, tick=False):
        notification_send(notification.pk)
    monkeypatch.undo()

    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Notification.Status.PENDING, 1)
    assert notification.not_before > failed_at
    with time_machine.travel(failed_at, tick=False):
        assert notification_send(notification.pk) == "not claimed"  # not yet
        assert notification.pk not in notifications_due()
    with time_machine.travel(notification.not_before + timedelta(seconds=1), tick=False):
        assert notifications_due() == [notification.pk]
        assert notification_send(notification.pk) == Notification.Status.SENT
    assert [m.to for m in mail.outbox] == [[participant.person.email]]


def test_it_writes_in_the_persons_language_and_to_their_directory_address(db: None) -> None:
    person = PersonFactory(email="Eve.Martin@Example.org", language="fr")
    ParticipantFactory(person=person, cohort__status=Cohort.Status.INTAKE)

    _send(_request_for(person))

    (message,) = mail.outbox
    assert message.to == ["Eve.Martin@Example.org"]

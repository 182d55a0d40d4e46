from datetime import date, timedelta

from django.core import mail

from programmes.models import Cohort, Pair, Participant
from surveys import emails
from surveys.links import Purpose, pair_link_expiry, read_token
from surveys.models import LinkRequest
from surveys.tasks import send_participant_links
from tests.factories import ParticipantFactory, PersonFactory
from tests.programmes.meeting_helpers import agreed_pair


def _request_for(person, **kwargs) -> LinkRequest:
    return LinkRequest.objects.create(email=person.email.lower(), person=person, **kwargs)


def _intake_tokens(body: str) -> list[str]:
    return [
        line.strip().rstrip("/").rsplit("/", 1)[1]
        for line in body.splitlines()
        if "/intake/" in line
    ]


def test_it_sends_once_when_run_twice(db: None) -> None:
    participant = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)
    link_request = _request_for(participant.person)

    send_participant_links.delay(link_request.pk)
    send_participant_links.delay(link_request.pk)

    assert len(mail.outbox) == 1


def test_it_lists_a_link_for_each_current_place_in_one_email(db: None) -> None:
    open_place = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)
    person = open_place.person
    running = ParticipantFactory(
        person=person, cohort__status=Cohort.Status.RUNNING, status=Participant.Status.MATCHED
    )

    send_participant_links(_request_for(person).pk)

    (message,) = mail.outbox
    (token,) = _intake_tokens(message.body)
    assert read_token(token, purpose=Purpose.INTAKE).participant_id == open_place.pk
    assert running.cohort.name in message.body
    assert "you haven't been paired yet" in message.body


def test_it_includes_the_pair_page_link_once_the_participant_has_a_pair(db: None) -> None:
    mentee = ParticipantFactory(
        cohort__status=Cohort.Status.RUNNING, status=Participant.Status.MATCHED
    )
    mentor = ParticipantFactory(cohort=mentee.cohort, role=Participant.Role.REVERSE_MENTOR)
    Pair.objects.create(cohort=mentee.cohort, mentee=mentee, reverse_mentor=mentor)

    send_participant_links(_request_for(mentee.person).pk)

    (message,) = mail.outbox
    (line,) = [line for line in message.body.splitlines() if "/pair/" in line]
    token = line.strip().rstrip("/").rsplit("/", 1)[1]
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

    send_participant_links(_request_for(withdrawn.person).pk)

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

    send_participant_links(link_request.pk)

    assert mail.outbox == []
    link_request.refresh_from_db()
    assert link_request.sent_at is not None  # handled: a rerun does nothing either


def test_it_sends_the_pair_page_for_a_cohort_that_ended_within_a_month(db: None) -> None:
    """The end-of-programme questions and last pulses are reached from the pair page."""
    pair = agreed_pair()
    Cohort.objects.filter(pk=pair.cohort_id).update(
        status=Cohort.Status.FINISHED,
        starts_on=date.today() - timedelta(days=100),
        ends_on=date.today() - timedelta(days=10),
    )

    send_participant_links(_request_for(pair.mentee.person).pk)

    (message,) = mail.outbox
    assert "Your pair page" in message.body
    assert "/pair/" in message.body


def test_it_sends_nothing_for_an_unknown_address(db: None) -> None:
    link_request = LinkRequest.objects.create(email="nobody@example.org")

    send_participant_links(link_request.pk)

    assert mail.outbox == []


def test_it_sends_nothing_for_a_refused_request(db: None) -> None:
    participant = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)

    send_participant_links(_request_for(participant.person, rate_limited=True).pk)

    assert mail.outbox == []


def test_it_releases_its_claim_when_sending_fails(db: None, monkeypatch) -> None:
    participant = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)
    link_request = _request_for(participant.person)
    real_send = emails.send_participant_links

    def smtp_down(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("SMTP server not answering")

    monkeypatch.setattr(emails, "send_participant_links", smtp_down)
    try:
        send_participant_links(link_request.pk)
    except OSError:
        pass
    else:
        raise AssertionError("the task should let the OSError through for a retry")
    link_request.refresh_from_db()
    assert link_request.sent_at is None

    monkeypatch.setattr(emails, "send_participant_links", real_send)
    send_participant_links(link_request.pk)
    assert len(mail.outbox) == 1


def test_it_writes_in_the_persons_language_and_to_their_directory_address(db: None) -> None:
    person = PersonFactory(email="Eve.Martin@Example.org", language="fr")
    ParticipantFactory(person=person, cohort__status=Cohort.Status.INTAKE)

    send_participant_links(_request_for(person).pk)

    (message,) = mail.outbox
    assert message.to == ["Eve.Martin@Example.org"]

from datetime import timedelta

from django.core import mail
from django.test import Client

from notifications.models import Notification
from notifications.sending import notification_send
from notifications.tasks import send_notification
from programmes.links import Purpose, read_token
from programmes.models import Cohort, Participant
from programmes.services import participants_send_intake_invitations
from tests.factories import CohortFactory, ParticipantFactory


def _link_in(body: str) -> str:
    return next(line for line in body.splitlines() if "/intake/" in line).strip()


def test_it_queues_invitations_only_after_the_transaction_commits(
    db: None, django_capture_on_commit_callbacks
) -> None:
    cohort = CohortFactory(status=Cohort.Status.INTAKE)
    first, second = ParticipantFactory.create_batch(2, cohort=cohort)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = participants_send_intake_invitations(participants=[first, second])

    assert result.queued == 2
    assert len(callbacks) == 2
    assert mail.outbox == []  # nothing sent before commit
    assert set(Notification.objects.values_list("person", "status")) == {
        (first.person_id, "pending"),
        (second.person_id, "pending"),
    }
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.person.email, second.person.email])


def test_it_sends_a_signed_intake_link_built_from_site_url(
    db: None, settings, django_capture_on_commit_callbacks
) -> None:
    settings.SITE_URL = "https://mentoring.example.org"
    participant = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)

    with django_capture_on_commit_callbacks(execute=True):
        participants_send_intake_invitations(participants=[participant])

    (message,) = mail.outbox
    link = _link_in(message.body)
    assert link.startswith("https://mentoring.example.org/intake/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert read_token(token, purpose=Purpose.INTAKE).participant_id == participant.pk
    assert participant.cohort.programme.name in message.subject


def test_it_never_invites_anyone_twice(db: None, django_capture_on_commit_callbacks) -> None:
    participant = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)

    with django_capture_on_commit_callbacks(execute=True):
        participants_send_intake_invitations(participants=[participant])
    # A redelivered task, then the manager clicking the action again.
    (row,) = Notification.objects.all()
    send_notification.delay(row.pk)
    participant.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        again = participants_send_intake_invitations(participants=[participant])

    assert len(mail.outbox) == 1
    assert again.queued == 0
    assert again.already_invited == 1
    assert Notification.objects.get() == row


def test_an_invitation_that_fails_to_send_is_sent_on_a_later_attempt(
    db: None, monkeypatch, time_machine, django_capture_on_commit_callbacks
) -> None:
    participant = ParticipantFactory(cohort__status=Cohort.Status.INTAKE)

    def mail_server_down(*args: object, **kwargs: object) -> None:
        raise OSError("Connection refused")

    with monkeypatch.context() as patched:
        patched.setattr("django.core.mail.EmailMessage.send", mail_server_down)
        # The send runs in a robust on-commit callback: its error is logged, not raised.
        with django_capture_on_commit_callbacks(execute=True):
            participants_send_intake_invitations(participants=[participant])

    row = Notification.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Connection refused" in row.last_error
    assert mail.outbox == []
    participant.refresh_from_db()
    assert participant.invitation_sent_at is not None  # queued: the outbox owns the retry

    assert notification_send(row.pk) == "not claimed"  # not before the pause is over
    time_machine.move_to(row.not_before + timedelta(seconds=1))
    assert notification_send(row.pk) == "sent"
    (message,) = mail.outbox
    assert message.to == [participant.person.email]
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)


def test_it_skips_the_withdrawn_and_closed_cohorts(db: None) -> None:
    running = ParticipantFactory(cohort__status=Cohort.Status.RUNNING)
    withdrawn = ParticipantFactory(
        cohort__status=Cohort.Status.INTAKE, status=Participant.Status.WITHDRAWN
    )

    result = participants_send_intake_invitations(participants=[running, withdrawn])

    assert (result.queued, result.not_open) == (0, 2)


def test_it_lets_a_manager_send_invitations_from_the_admin(
    client: Client, manager, django_capture_on_commit_callbacks
) -> None:
    cohort = CohortFactory(status=Cohort.Status.INTAKE)
    cohort.programme.managers.add(manager)
    participants = ParticipantFactory.create_batch(3, cohort=cohort)
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/programmes/participant/",
            {"action": "send_intake_invitations", "_selected_action": [p.pk for p in participants]},
            follow=True,
        )

    assert "3 invitation(s) queued." in response.content.decode()
    assert len(mail.outbox) == 3
    assert Participant.objects.filter(invitation_sent_at__isnull=False).count() == 3

"""The outbox: a message asked for in a transaction exists if and only if the transaction
commits, is sent once however often its task runs, waits for a sensible local hour, is
retried after a failure and given up after too many, and is found again by the sweep when
the broker lost its task or a worker died mid-send."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import OperationalError, connection, transaction
from django.utils.timezone import now as timezone_now

from notifications import sending, tasks
from notifications.hours import sensible_time
from notifications.models import MessageTemplate, Notification
from notifications.sending import (
    MAX_ATTEMPTS,
    lease,
    message_id,
    notification_send,
    notifications_due,
)
from notifications.services import notify
from programmes.models import Cohort
from tests.factories import CohortFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def participant(programme):
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE)
    return ParticipantFactory(
        cohort=cohort, person__full_name="Ada Brook", person__email="ada@example.org"
    )


def invite(participant, key: str = "invite") -> None:
    notify(kind="intake_invitation", key=key, to=participant.person, about=participant)


def test_a_message_is_sent_after_commit_and_once(
    participant, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invite(participant)
        assert mail.outbox == []  # nothing before the commit

    row = Notification.objects.get()
    assert len(callbacks) == 1
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
    assert mail.outbox[0].subject.startswith("Inclusive Leadership: tell us what you'd like")
    assert (row.status, row.attempts, row.kind) == ("sent", 1, "intake_invitation")
    assert row.about == participant
    assert notification_send(row.pk) == "not claimed"
    assert tasks.send_notification(row.pk) == "not claimed"
    assert len(mail.outbox) == 1


def test_asking_twice_with_one_key_writes_one_row(participant) -> None:
    invite(participant)
    invite(participant)

    assert Notification.objects.count() == 1


def test_a_rolled_back_change_leaves_no_message(participant) -> None:
    def change() -> None:
        with transaction.atomic():
            invite(participant)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change()

    assert not Notification.objects.exists()


def test_a_message_no_longer_wanted_is_cancelled_not_sent(participant) -> None:
    invite(participant)
    participant.status = participant.Status.WITHDRAWN
    participant.save()

    status = notification_send(Notification.objects.get().pk)

    assert status == "cancelled"
    assert mail.outbox == []


def test_a_failed_send_waits_and_is_retried_by_the_sweep(participant, monkeypatch) -> None:
    with time_machine.travel(MONDAY_NOON, tick=False):
        invite(participant)
        row = Notification.objects.get()

        def refuse(self, *args, **kwargs):
            raise ConnectionRefusedError("mail server down")

        monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
        with pytest.raises(ConnectionRefusedError):
            notification_send(row.pk)
        monkeypatch.undo()
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error == "ConnectionRefusedError: mail server down"
        assert row.not_before == MONDAY_NOON + timedelta(minutes=1)
        assert notifications_due() == []

    with time_machine.travel(MONDAY_NOON + timedelta(minutes=2), tick=False):
        assert notifications_due() == [row.pk]
        assert tasks.sweep_notifications() == 1

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_it_gives_up_after_too_many_attempts(participant, monkeypatch) -> None:
    invite(participant)
    Notification.objects.update(attempts=MAX_ATTEMPTS - 1)

    def refuse(self, *args, **kwargs):
        raise OSError("no route")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with pytest.raises(OSError, match="no route"):
        notification_send(Notification.objects.get().pk)

    row = Notification.objects.get()
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert notifications_due(now=row.not_before + timedelta(days=1)) == []


def test_the_sweep_resends_a_row_whose_worker_died_mid_send(participant) -> None:
    """A send claimed the row and its worker was killed: once the lease runs out the sweep
    hands it on, and it is sent once."""
    with time_machine.travel(MONDAY_NOON, tick=False):
        invite(participant)
        row = Notification.objects.get()
        Notification.objects.filter(pk=row.pk).update(
            status="sending", lease_until=MONDAY_NOON + lease(), attempts=1
        )
        assert notifications_due() == []
        assert notification_send(row.pk) == "not claimed"

    with time_machine.travel(MONDAY_NOON + lease() + timedelta(seconds=1), tick=False):
        assert notifications_due() == [row.pk]
        tasks.sweep_notifications()

    assert Notification.objects.get().status == "sent"
    assert len(mail.outbox) == 1


def test_a_message_waits_while_the_broker_is_down_and_goes_when_it_is_back(
    participant, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.send_notification, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        invite(participant)  # the change commits; queuing its send fails quietly

    assert Notification.objects.get().status == "pending"
    assert mail.outbox == []
    monkeypatch.undo()

    assert tasks.sweep_notifications() == 1
    assert Notification.objects.get().status == "sent"
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("utc", "zone", "expected"),
    [
        # 12:00 UTC is 07:00 in New York: held until 08:00 there (13:00 UTC).
        (datetime(2026, 3, 2, 12, 0, tzinfo=UTC), "America/New_York", "2026-03-02 13:00"),
        # 21:30 in London: the next morning at 08:00.
        (datetime(2026, 3, 2, 21, 30, tzinfo=UTC), "Europe/London", "2026-03-03 08:00"),
        # 09:15 in Tokyo is a sensible hour: at once.
        (datetime(2026, 3, 2, 0, 15, tzinfo=UTC), "Asia/Tokyo", "2026-03-02 00:15"),
        # 19:59 in London still goes; 20:00 waits.
        (datetime(2026, 3, 2, 19, 59, tzinfo=UTC), "Europe/London", "2026-03-02 19:59"),
        (datetime(2026, 3, 2, 20, 0, tzinfo=UTC), "Europe/London", "2026-03-03 08:00"),
    ],
)
def test_participants_mail_waits_for_a_sensible_local_hour(settings, utc, zone, expected):
    settings.NOTIFICATIONS_LOCAL_HOURS = (8, 20)

    assert f"{sensible_time(utc, zone).astimezone(UTC):%Y-%m-%d %H:%M}" == expected


def test_a_message_held_for_the_morning_goes_in_the_morning(participant, settings) -> None:
    settings.NOTIFICATIONS_LOCAL_HOURS = (8, 20)
    participant.person.time_zone = "Europe/London"
    participant.person.save()
    night = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)

    with time_machine.travel(night, tick=False):
        invite(participant)
        assert tasks.sweep_notifications() == 0
    with time_machine.travel(datetime(2026, 3, 3, 8, 0, 30, tzinfo=UTC), tick=False):
        assert tasks.sweep_notifications() == 1

    row = Notification.objects.get()
    assert row.not_before == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert row.status == "sent"


def test_a_managers_wording_replaces_the_default_in_the_recipients_language(
    participant,
) -> None:
    MessageTemplate.objects.update_or_create(  # the default wording is seeded
        kind="intake_invitation",
        language="",
        defaults={
            "subject": "Welcome, {{ person.full_name }}",
            "body_text": "Your form: {{ intake_url }}",
            "body_html": "<p>Your <a href='{{ intake_url }}'>form</a>, {{ person.full_name }}</p>",
        },
    )
    MessageTemplate.objects.create(
        kind="intake_invitation",
        language="fr",
        subject="Bienvenue, {{ person.full_name }}",
        body_text="Votre formulaire : {{ intake_url }}",
    )
    other = ParticipantFactory(cohort=participant.cohort, person__language="fr")
    invite(participant, key="a")
    invite(other, key="b")

    for row in Notification.objects.all():
        notification_send(row.pk)

    english, french = sorted(mail.outbox, key=lambda m: m.to != ["ada@example.org"])
    assert english.subject == "Welcome, Ada Brook"
    assert english.body.startswith("Your form: http://testserver/intake/")
    [(html, mimetype)] = english.alternatives
    assert mimetype == "text/html"
    assert "<p>Your <a href='http://testserver/intake/" in html
    assert french.subject.startswith("Bienvenue, ")
    assert french.alternatives == []


def test_an_unknown_kind_is_refused(participant) -> None:
    with pytest.raises(ValueError, match="Unknown kind"):
        notify(kind="spam", key="x", to=participant.person)


def _message_ids() -> list[str]:
    return [message.message()["Message-ID"] for message in mail.outbox]


def _lose_connection_on_marking_sent(*, times: int, after_commit: bool = False) -> Callable:
    """A database wrapper that, the first ``times`` times the outbox marks a row sent, drops
    the connection as a failover would: the real connection is closed under Django (on
    PostgreSQL; SQLite's in-memory test database would vanish) and the UPDATE raises
    OperationalError, before it ran or (``after_commit``) once it ran and committed."""
    lost = []

    def wrapper(execute, sql, params, many, context):
        marking_sent = sql.startswith("UPDATE") and "sent" in (params or ())
        if not marking_sent or len(lost) >= times:
            return execute(sql, params, many, context)
        if after_commit:
            execute(sql, params, many, context)
        lost.append(sql)
        if connection.vendor == "postgresql":
            context["connection"].connection.close()
        raise OperationalError("server closed the connection unexpectedly")

    return wrapper


@pytest.fixture
def no_pause(monkeypatch) -> None:
    monkeypatch.setattr(sending, "RECORD_RETRY_DELAYS", (0.0,) * 5)


def invite_unsent(participant, monkeypatch) -> Notification:
    """Outside a test transaction ``notify``'s after-commit send runs at once; these tests
    send the row themselves."""
    with monkeypatch.context() as patch:
        patch.setattr(tasks.send_notification, "delay", lambda *args, **kwargs: None)
        invite(participant)
    return Notification.objects.get()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("after_commit", [False, True], ids=["before", "after-commit"])
def test_a_connection_lost_while_marking_a_delivered_message_reconnects_and_marks_it(
    participant, no_pause, caplog, monkeypatch, after_commit
) -> None:
    """The mail server accepted the message, then the UPDATE marking it sent lost its
    connection (whether or not PostgreSQL had committed it): the send reconnects, the row is
    sent, and the sweep never sends it again."""
    row = invite_unsent(participant, monkeypatch)

    lost = _lose_connection_on_marking_sent(times=2, after_commit=after_commit)
    with connection.execute_wrapper(lost):
        assert notification_send(row.pk) == "sent"

    row.refresh_from_db()
    assert (row.status, row.attempts, row.lease_until) == ("sent", 1, None)
    assert len(mail.outbox) == 1
    with time_machine.travel(timezone_now() + lease() + timedelta(minutes=1)):
        assert notifications_due() == []
        assert tasks.sweep_notifications() == 0
    assert len(mail.outbox) == 1
    assert "lost its database connection" in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.django_db(transaction=True)
def test_a_delivered_message_that_cannot_be_marked_is_logged_and_keeps_its_message_id(
    participant, no_pause, caplog, monkeypatch
) -> None:
    """The database stays out of reach for every retry: the one duplicate left. It is logged
    as an error naming the row, and the second copy carries the first one's Message-ID, so a
    receiving system can drop it."""
    row = invite_unsent(participant, monkeypatch)

    lost = _lose_connection_on_marking_sent(times=len(sending.RECORD_RETRY_DELAYS) + 1)
    with connection.execute_wrapper(lost), pytest.raises(OperationalError):
        notification_send(row.pk)

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sending", 1)
    assert f"Notification {row.pk} (intake_invitation, key 'invite') was DELIVERED" in caplog.text
    with time_machine.travel(row.lease_until + timedelta(seconds=1)):
        assert tasks.sweep_notifications() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert _message_ids() == [message_id("invite")] * 2


def test_a_lost_connection_inside_a_callers_transaction_is_not_retried(
    participant, no_pause, monkeypatch
) -> None:
    """Inside a transaction the connection took the transaction with it: nothing to retry."""
    invite(participant)
    row = Notification.objects.get()
    closed = []
    monkeypatch.setattr(connection, "close", lambda: closed.append(True))

    lost = _lose_connection_on_marking_sent(times=1)
    with connection.execute_wrapper(lost), pytest.raises(OperationalError), transaction.atomic():
        notification_send(row.pk)

    assert closed == []


def test_each_message_has_a_message_id_from_its_key_the_same_on_every_attempt(
    participant, monkeypatch
) -> None:
    invite(participant, key="invite")
    invite(participant, key="reminder")
    first, second = Notification.objects.order_by("pk")
    sent = []

    def refuse_then_send(self, *args, **kwargs):
        sent.append(self.message()["Message-ID"])
        if len(sent) == 1:
            raise ConnectionRefusedError("mail server down")
        return 1

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse_then_send)
    with pytest.raises(ConnectionRefusedError):
        notification_send(first.pk)
    Notification.objects.filter(pk=first.pk).update(not_before=timezone_now())
    notification_send(first.pk)
    notification_send(second.pk)

    assert sent == [message_id("invite"), message_id("invite"), message_id("reminder")]
    assert message_id("invite") != message_id("reminder")
    assert re.fullmatch(r"<[0-9a-f]{32}@[a-z0-9.-]+>", message_id("invite"))


@pytest.mark.parametrize(
    ("from_email", "site_url", "domain"),
    [
        ("Mentoring <noreply@mentoring.example.org>", "https://x.example", "mentoring.example.org"),
        ("noreply", "https://mentoring.example.com/app", "mentoring.example.com"),
    ],
)  # fmt: skip
def test_a_message_id_is_at_the_senders_domain_else_the_sites(
    settings, from_email, site_url, domain
) -> None:
    settings.DEFAULT_FROM_EMAIL = from_email
    settings.SITE_URL = site_url

    assert message_id("invite").endswith(f"@{domain}>")


def test_two_sites_give_one_key_different_message_ids(settings) -> None:
    settings.SITE_URL = "https://staging.example.org"
    staging = message_id("invite")
    settings.SITE_URL = "https://mentoring.example.org"

    assert message_id("invite") != staging

"""The "forgot your password" page records the request and queues one outbox message, known
address or not, and sends nothing while it answers; the send finds the account or cancels.
Requests are limited per address and per client, and the page is the same whatever happened.
The link in the e-mail works once and expires as Django's does."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from notifications.sending import notification_send
from programmes.models import PasswordResetRequest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RESET = reverse("password_reset")
DONE = reverse("password_reset_done")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "a brand new passphrase 42"


def ask(client: Client, email: str, ip: str = "198.51.100.1", **extra):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip, **extra)


def rows() -> int:
    return Notification.objects.filter(kind="password_reset").count()


def link_in(message: mail.EmailMessage) -> str:
    [url] = re.findall(r"http://testserver(/accounts/reset/\S+/)", message.body)
    return url


def test_known_and_unknown_addresses_take_the_same_path(
    client: Client, sponsor, django_capture_on_commit_callbacks
) -> None:
    # Warm, as a server that has answered before: the outbox looks the content type up once.
    ContentType.objects.get_for_model(PasswordResetRequest)
    with (
        CaptureQueriesContext(connection) as known_queries,
        django_capture_on_commit_callbacks(execute=False) as known_callbacks,
    ):
        known = ask(client, sponsor.email)
    with (
        CaptureQueriesContext(connection) as unknown_queries,
        django_capture_on_commit_callbacks(execute=False) as unknown_callbacks,
    ):
        unknown = ask(client, "nobody@example.org")

    # The same answer, the same queries, one row and one queued send each, nothing sent.
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known["Location"] == DONE
    assert len(known_queries) == len(unknown_queries)
    assert "auth_user" not in " ".join(q["sql"] for q in known_queries.captured_queries)
    assert len(known_callbacks) == len(unknown_callbacks) == 1
    assert PasswordResetRequest.objects.count() == 2
    assert rows() == 2
    assert mail.outbox == []

    # The send, later, mails the account and cancels the unknown address.
    to_known, to_unknown = (
        Notification.objects.get(kind="password_reset", to_email=email)
        for email in (sponsor.email, "nobody@example.org")
    )
    assert notification_send(to_known.pk) == Notification.Status.SENT
    assert notification_send(to_unknown.pk) == Notification.Status.CANCELLED
    [message] = mail.outbox
    assert message.to == [sponsor.email]
    to_known.refresh_from_db()
    assert to_known.user == sponsor


def test_the_email_names_nothing_but_the_person_and_the_links(
    client: Client, sponsor, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, sponsor.email)

    [message] = mail.outbox
    assert message.subject == "Reset your password for Reverse mentoring"
    assert message.body.startswith(f"Hello {sponsor.get_full_name()},")
    assert sponsor.username not in message.body
    assert sponsor.password not in message.body
    assert f"http://testserver{RESET}" in message.body


def test_an_address_gets_one_mail_per_quarter_hour_and_three_a_day(
    sponsor, django_capture_on_commit_callbacks
) -> None:
    sent = []
    with time_machine.travel(NOW, tick=False) as clock:
        for _ in range(5):
            with django_capture_on_commit_callbacks(execute=True):
                # Twenty-five tries in the quarter hour, from twenty-five clients.
                answers = {
                    ask(Client(), sponsor.email, ip=f"198.51.100.{n}")["Location"]
                    for n in range(25)
                }
            assert answers == {DONE}
            sent.append(len(mail.outbox))
            clock.shift(timedelta(hours=1))

    assert sent == [1, 2, 3, 3, 3]
    assert rows() == 3


@time_machine.travel(NOW, tick=False)
def test_a_client_may_ask_for_ten_addresses_an_hour(client: Client, db: None) -> None:
    for n in range(12):
        assert ask(client, f"someone{n}@example.org", ip="203.0.113.7")["Location"] == DONE
    assert ask(Client(), "someone-else@example.org", ip="203.0.113.8")["Location"] == DONE

    assert rows() == 11
    assert not Notification.objects.filter(to_email="someone11@example.org").exists()


@time_machine.travel(NOW, tick=False)
def test_a_refused_request_gets_the_same_page(
    client: Client, sponsor, django_capture_on_commit_callbacks
) -> None:
    first = client.post(RESET, {"email": sponsor.email}, follow=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        refused = client.post(RESET, {"email": sponsor.email}, follow=True)

    assert refused.redirect_chain == first.redirect_chain == [(DONE, 302)]
    assert refused.content == first.content
    assert callbacks == []
    assert rows() == 1


@time_machine.travel(NOW, tick=False)
def test_the_client_behind_a_trusted_proxy_is_the_forwarded_address(settings, db: None) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    for n in range(10):
        ask(Client(), f"a{n}@example.org", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    ask(Client(), "a10@example.org", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7")
    ask(Client(), "b@example.org", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.8")

    assert set(PasswordResetRequest.objects.values_list("ip_address", flat=True)) == {
        "203.0.113.7",
        "203.0.113.8",
    }
    assert not PasswordResetRequest.objects.filter(email="a10@example.org").exists()
    assert PasswordResetRequest.objects.filter(email="b@example.org").exists()


def test_the_link_works_once_and_expires_as_djangos_does(
    client: Client, sponsor, settings, django_capture_on_commit_callbacks
) -> None:
    settings.PASSWORD_RESET_TIMEOUT = 60 * 60
    with time_machine.travel(NOW, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            ask(client, sponsor.email)
        link = link_in(mail.outbox[0])
        clock.shift(timedelta(minutes=61))

        expired = client.get(link, follow=True)

        assert "This link cannot be used" in expired.content.decode()
        clock.shift(timedelta(minutes=15))
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            ask(client, sponsor.email)
        form = client.get(link_in(mail.outbox[0]))["Location"]
        done = client.post(form, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert done["Location"] == reverse("password_reset_complete")
        assert "This link cannot be used" in client.get(form, follow=True).content.decode()
    sponsor.refresh_from_db()
    assert sponsor.check_password(NEW_PASSWORD)


def test_each_account_sharing_an_address_gets_its_own_link(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    first = UserFactory(username="dora", email="shared@example.org")
    second = UserFactory(username="erin", email="Shared@Example.org")

    with django_capture_on_commit_callbacks(execute=True):
        ask(client, "shared@example.org")

    assert len(mail.outbox) == 2
    uids = {link_in(message).split("/")[3] for message in mail.outbox}
    assert len(uids) == 2
    assert set(Notification.objects.values_list("user", flat=True)) == {first.pk, second.pk}

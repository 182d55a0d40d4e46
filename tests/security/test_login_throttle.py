"""Signing in is throttled (django-axes, programmes.sign_in): five failures lock an account,
twenty lock a client whatever usernames it tries, on the site's sign-in page and the admin's
alike, for fifteen minutes after the last failure; the page says when to try again and that a
password reset is possible. The client is REMOTE_ADDR unless that is a trusted proxy."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # the factories' password
LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sign_in(client: Client, username: str, password: str, url: str = LOGIN, **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(client: Client, username: str, times: int, **extra) -> None:
    for _ in range(times):
        response = sign_in(client, username, "wrong guess", **extra)
        assert response.status_code in (200, 429)


def text(response) -> str:
    return " ".join(response.content.decode().split())


def assert_locked_out(response) -> None:
    page = text(response)
    assert response.status_code == 429
    assert "Sign-in paused" in page
    assert "Please try again in 15 minutes" in page
    assert f'href="{reverse("password_reset")}">reset it by e-mail</a>' in page


@time_machine.travel(NOW, tick=False)
def test_it_refuses_the_right_password_after_five_wrong_ones(client: Client, sponsor) -> None:
    fail(client, sponsor.username, 5)

    response = sign_in(client, sponsor.username, PASSWORD)

    assert_locked_out(response)
    assert not signed_in(client)


@time_machine.travel(NOW, tick=False)
def test_four_wrong_passwords_still_let_the_right_one_in(client: Client, sponsor) -> None:
    fail(client, sponsor.username, 4)

    response = sign_in(client, sponsor.username, PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_the_lockout_ends_fifteen_minutes_after_the_last_failure(client: Client, sponsor) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        fail(client, sponsor.username, 5)
        clock.shift(timedelta(minutes=10))
        # Trying while locked out does not move the end of the lockout.
        response = sign_in(client, sponsor.username, "another guess")
        assert response.status_code == 429
        assert "Please try again in 5 minutes (after 09:15)" in text(response)
        clock.shift(timedelta(minutes=5, seconds=1))

        response = sign_in(client, sponsor.username, PASSWORD)

        assert response.status_code == 302
        assert signed_in(client)


@time_machine.travel(NOW, tick=False)
def test_the_account_is_locked_from_every_client(sponsor) -> None:
    # The account's limit: a guesser who changes address each time is still stopped.
    for n in range(5):
        sign_in(Client(), sponsor.username, "wrong guess", REMOTE_ADDR=f"198.51.100.{n}")

    response = sign_in(Client(), sponsor.username, PASSWORD, REMOTE_ADDR="198.51.100.99")

    assert_locked_out(response)


@time_machine.travel(NOW, tick=False)
def test_a_client_is_locked_after_twenty_failures_across_usernames(client: Client) -> None:
    UserFactory(username="dora")
    for n in range(20):
        # Four tries each at five names: no account reaches its own limit.
        fail(client, f"name{n % 5}", 1, REMOTE_ADDR="203.0.113.7")

    locked = sign_in(client, "dora", PASSWORD, REMOTE_ADDR="203.0.113.7")
    elsewhere = sign_in(Client(), "dora", PASSWORD, REMOTE_ADDR="203.0.113.8")

    assert_locked_out(locked)
    assert elsewhere.status_code == 302


@time_machine.travel(NOW, tick=False)
def test_nineteen_failures_from_one_client_do_not_lock_it(client: Client) -> None:
    UserFactory(username="dora")
    for n in range(19):
        fail(client, f"name{n % 5}", 1, REMOTE_ADDR="203.0.113.7")

    assert sign_in(client, "dora", PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 302


@time_machine.travel(NOW, tick=False)
def test_the_admin_sign_in_is_throttled_too(client: Client, manager) -> None:
    for _ in range(5):
        sign_in(client, manager.username, "wrong guess", url=ADMIN_LOGIN)

    response = sign_in(client, manager.username, PASSWORD, url=ADMIN_LOGIN)

    assert_locked_out(response)
    assert not signed_in(client)
    # …and the lock holds on the site's own page.
    assert_locked_out(sign_in(client, manager.username, PASSWORD))


@time_machine.travel(NOW, tick=False)
def test_the_page_is_the_same_for_an_account_that_does_not_exist(client: Client, sponsor) -> None:
    fail(client, sponsor.username, 5, REMOTE_ADDR="198.51.100.1")
    fail(client, "nobody-here", 5, REMOTE_ADDR="198.51.100.2")

    known = sign_in(client, sponsor.username, PASSWORD, REMOTE_ADDR="198.51.100.1")
    unknown = sign_in(client, "nobody-here", PASSWORD, REMOTE_ADDR="198.51.100.2")

    assert known.status_code == unknown.status_code == 429
    assert known.content == unknown.content


@time_machine.travel(NOW, tick=False)
def test_a_forwarded_address_counts_only_from_a_trusted_proxy(settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    UserFactory(username="dora")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(20):
        fail(Client(), f"name{n % 5}", 1, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)

    # Through the proxy, the forwarded client is locked and another one is not.
    locked = sign_in(Client(), "dora", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    other = sign_in(Client(), "dora", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)
    assert_locked_out(locked)
    assert other.status_code == 302

    # From an untrusted address, the header is the client's own word and is ignored: a
    # different X-Forwarded-For on every try does not escape the limit.
    for n in range(20):
        fail(
            Client(),
            f"other{n % 5}",
            1,
            REMOTE_ADDR="198.51.100.9",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    spoofed = sign_in(
        Client(), "dora", PASSWORD, REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="192.0.2.200"
    )
    assert_locked_out(spoofed)
    assert User.objects.filter(username="dora").exists()


@time_machine.travel(NOW, tick=False)
def test_a_name_longer_than_any_account_is_counted_not_a_server_error(client: Client) -> None:
    # Django's sign-in form tries any length of name; the attempt is still recorded.
    long_name = "x" * 10_000

    fail(client, long_name, 5)

    assert_locked_out(sign_in(client, long_name, "wrong guess"))

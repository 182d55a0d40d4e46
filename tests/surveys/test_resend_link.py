import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from kombu.exceptions import OperationalError

from notifications import tasks
from notifications.models import Notification
from notifications.sending import notification_send
from programmes.links import Purpose, read_token
from programmes.models import Cohort
from surveys import services
from surveys.models import LinkRequest
from tests.factories import ParticipantFactory

URL = "/link/"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SENT_TEXT = (
    "If this address belongs to someone in a programme, we've sent their links to it. "
    "Check your inbox (and spam folder) in the next few minutes."
)
LIMIT_TEXT = (
    "You've asked for several links in a short time. Please wait an hour, or contact your "
    "programme manager."
)


@pytest.fixture
def alice(db: None):
    """Alice is a mentee whose cohort's intake is open."""
    return ParticipantFactory(
        person__full_name="Alice Moreau",
        person__email="alice@example.org",
        cohort__status=Cohort.Status.INTAKE,
    )


def _ask(client: Client, email: str, ip: str = "127.0.0.1", **extra):
    return client.post(URL, {"email": email}, REMOTE_ADDR=ip, **extra)


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def _intake_link_in(body: str) -> str:
    return next(line for line in body.splitlines() if "/intake/" in line).strip()


def test_it_shows_the_form_without_touching_the_database(
    client: Client, db: None, django_assert_num_queries
) -> None:
    # Anonymous, no session cookie: nothing to read.
    with django_assert_num_queries(0):
        response = client.get(URL)

    assert response.status_code == 200
    assert 'name="email"' in response.text
    assert 'autocomplete="email"' in response.text


def test_it_gives_the_same_answer_for_known_and_unknown_addresses(
    client: Client, alice, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        known = _ask(client, "alice@example.org")
        unknown = _ask(client, "nobody@example.org")

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known.status_code == 302
    known_page = client.get(known["Location"])
    unknown_page = client.get(unknown["Location"])
    assert known_page.status_code == unknown_page.status_code == 200
    assert _without_csrf(known_page.text) == _without_csrf(unknown_page.text)
    assert SENT_TEXT in known_page.text
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]


def test_it_takes_the_same_path_for_known_and_unknown_addresses(
    client: Client, alice, django_capture_on_commit_callbacks
) -> None:
    # Same queries, the same rows written (the request and its e-mail in the outbox), one
    # send queued for each, and nothing sent while the page answers: the send alone finds out
    # whether there is anyone to write to.
    # The outbox looks up LinkRequest's content type once per process; warm, as in a server
    # that has answered before, so that neither request below pays for it.
    ContentType.objects.get_for_model(LinkRequest)
    with (
        CaptureQueriesContext(connection) as known_queries,
        django_capture_on_commit_callbacks(execute=False) as known_callbacks,
    ):
        _ask(client, "alice@example.org")
    known_rows = (LinkRequest.objects.count(), Notification.objects.count())
    with (
        CaptureQueriesContext(connection) as unknown_queries,
        django_capture_on_commit_callbacks(execute=False) as unknown_callbacks,
    ):
        _ask(client, "nobody@example.org")
    both_rows = (LinkRequest.objects.count(), Notification.objects.count())

    assert len(known_queries) == len(unknown_queries)
    assert len(known_callbacks) == len(unknown_callbacks) == 1
    assert (known_rows, both_rows) == ((1, 1), (2, 2))
    assert mail.outbox == []
    known, unknown = (
        Notification.objects.get(kind="participant_links", to_email=email)
        for email in ("alice@example.org", "nobody@example.org")
    )
    assert known.status == unknown.status == Notification.Status.PENDING

    # Sent later, the known address gets its links; the unknown one's e-mail is cancelled.
    assert notification_send(known.pk) == Notification.Status.SENT
    assert notification_send(unknown.pk) == Notification.Status.CANCELLED
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]


def test_it_emails_a_known_address_one_working_intake_link(
    client: Client, alice, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _ask(client, "alice@example.org")

    (message,) = mail.outbox
    assert message.to == ["alice@example.org"]
    assert "Alice Moreau" in message.body
    assert alice.cohort.programme.name in message.body
    link = _intake_link_in(message.body)
    claims = read_token(link.rstrip("/").rsplit("/", 1)[1], purpose=Purpose.INTAKE)
    assert claims.participant_id == alice.pk
    # Following the link (expecting 200) belongs here once the intake page has landed.
    link_request = LinkRequest.objects.get()
    assert (link_request.person, link_request.sent_at is not None) == (alice.person, True)


def test_it_sends_nothing_to_an_unknown_address(
    client: Client, alice, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(client, "nobody@example.org")

    assert response.status_code == 302
    assert mail.outbox == []
    assert LinkRequest.objects.get().person is None


def test_it_matches_the_address_whatever_its_case(
    client: Client, alice, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _ask(client, "  Alice@Example.ORG ")

    (message,) = mail.outbox
    assert message.to == ["alice@example.org"]
    assert LinkRequest.objects.get().email == "alice@example.org"


def test_it_matches_a_directory_address_stored_in_capitals(
    client: Client, db: None, django_capture_on_commit_callbacks
) -> None:
    participant = ParticipantFactory(
        person__email="Dana.Okafor@Example.org", cohort__status=Cohort.Status.INTAKE
    )

    with django_capture_on_commit_callbacks(execute=True):
        _ask(client, "dana.okafor@example.org")

    (message,) = mail.outbox
    assert message.to == ["Dana.Okafor@Example.org"]
    assert LinkRequest.objects.get().person == participant.person


def test_it_explains_an_invalid_address_and_keeps_what_was_typed(client: Client, db: None) -> None:
    response = _ask(client, "alice.example.org")

    assert response.status_code == 200
    assert "Enter an e-mail address in the form name@example.org." in response.text
    assert 'value="alice.example.org"' in response.text
    assert 'id="error-summary"' in response.text
    assert LinkRequest.objects.count() == 0


def test_it_asks_for_an_address_when_none_is_given(client: Client, db: None) -> None:
    response = client.post(URL, {})

    assert response.status_code == 200
    assert "Enter your e-mail address." in response.text


def test_it_limits_requests_for_one_address_and_lets_the_window_slide(
    client: Client, alice, time_machine, django_capture_on_commit_callbacks
) -> None:
    time_machine.move_to(START, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        for minutes, ip in [(0, "10.0.0.1"), (10, "10.0.0.2"), (20, "10.0.0.3")]:
            time_machine.move_to(START + timedelta(minutes=minutes), tick=False)
            assert _ask(client, "alice@example.org", ip=ip).status_code == 302

        # A fourth within the hour is refused, whichever IP it comes from.
        time_machine.move_to(START + timedelta(minutes=50), tick=False)
        refused = _ask(client, "alice@example.org", ip="10.0.0.4")
        # An hour after the first, one more is allowed; the refused attempt doesn't count.
        time_machine.move_to(START + timedelta(minutes=61), tick=False)
        allowed = _ask(client, "alice@example.org", ip="10.0.0.5")
        again = _ask(client, "alice@example.org", ip="10.0.0.6")

    assert refused.status_code == 429
    assert LIMIT_TEXT in refused.text
    assert allowed.status_code == 302
    assert again.status_code == 429
    assert len(mail.outbox) == 4


def test_it_limits_an_unknown_address_the_same_way(client: Client, db: None) -> None:
    for _ in range(services.MAX_PER_EMAIL):
        assert _ask(client, "nobody@example.org").status_code == 302

    response = _ask(client, "nobody@example.org")

    assert response.status_code == 429
    assert LIMIT_TEXT in response.text


def test_it_limits_requests_from_one_ip_and_lets_the_window_slide(
    client: Client, alice, time_machine, django_capture_on_commit_callbacks
) -> None:
    time_machine.move_to(START, tick=False)
    for n in range(services.MAX_PER_IP):
        assert _ask(client, f"someone{n}@example.org", ip="192.0.2.7").status_code == 302

    # The eleventh address from that IP is refused, even a known one; another IP is not.
    time_machine.move_to(START + timedelta(minutes=59), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        refused = _ask(client, "alice@example.org", ip="192.0.2.7")
        elsewhere = _ask(client, "other@example.org", ip="192.0.2.8")
    assert (refused.status_code, elsewhere.status_code) == (429, 302)
    assert mail.outbox == []

    time_machine.move_to(START + timedelta(minutes=61), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        later = _ask(client, "alice@example.org", ip="192.0.2.7")
    assert later.status_code == 302
    assert len(mail.outbox) == 1


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    client: Client, db: None, settings
) -> None:
    # Every request arrives from the proxy; the client is the address the proxy forwards.
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = {"ip": "10.0.0.2"}
    for n in range(services.MAX_PER_IP):
        assert _ask(client, f"someone{n}@example.org", **proxy, HTTP_X_FORWARDED_FOR="192.0.2.7")

    refused = _ask(client, "more@example.org", **proxy, HTTP_X_FORWARDED_FOR="192.0.2.7")
    other = _ask(client, "other@example.org", **proxy, HTTP_X_FORWARDED_FOR="192.0.2.8")

    assert (refused.status_code, other.status_code) == (429, 302)
    assert set(LinkRequest.objects.values_list("ip_address", flat=True)) == {
        "192.0.2.7",
        "192.0.2.8",
    }


def test_a_forwarded_address_from_an_untrusted_client_is_ignored(client: Client, db: None) -> None:
    # No trusted proxy: a client that writes a new X-Forwarded-For each time is still one client.
    for n in range(services.MAX_PER_IP):
        _ask(client, f"someone{n}@example.org", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    refused = _ask(client, "more@example.org", HTTP_X_FORWARDED_FOR="198.51.100.99")

    assert refused.status_code == 429
    assert set(LinkRequest.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}


def test_it_records_refused_attempts_only_once_per_window(client: Client, db: None) -> None:
    for _ in range(services.MAX_PER_EMAIL + 5):
        _ask(client, "nobody@example.org")

    assert LinkRequest.objects.filter(rate_limited=False).count() == services.MAX_PER_EMAIL
    assert LinkRequest.objects.filter(rate_limited=True).count() == 1


def test_it_still_limits_by_address_without_a_client_ip(client: Client, db: None) -> None:
    for _ in range(services.MAX_PER_EMAIL):
        assert _ask(client, "nobody@example.org", ip="").status_code == 302

    assert _ask(client, "nobody@example.org", ip="").status_code == 429
    assert set(LinkRequest.objects.values_list("ip_address", flat=True)) == {None}


def test_it_answers_the_same_when_the_broker_is_down(
    client: Client, alice, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    def broker_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_notification, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _ask(client, "alice@example.org")

    assert len(callbacks) == 1  # the queueing was tried, and failed
    assert (response.status_code, response["Location"]) == (302, f"{URL}?sent=1")
    assert mail.outbox == []
    # The e-mail stays in the outbox, unsent: the sweep delivers it once the broker is back.
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == (Notification.Status.PENDING, 0)
    assert LinkRequest.objects.get().sent_at is None
    monkeypatch.undo()
    assert tasks.sweep_notifications() == 1
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    assert LinkRequest.objects.get().sent_at is not None


def test_it_refuses_other_methods(client: Client, db: None) -> None:
    assert client.put(URL).status_code == 405

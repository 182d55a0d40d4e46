"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, on a port the system picks, in a
thread of the test process. Django's SMTP backend delivers to it (in this process through the
``smtp_email`` fixture, in a worker started with ``EMAIL_URL=smtp_server.url``) and the tests
read what arrived, parsed by the standard library's ``email`` package.

A test module uses the fixtures with ``pytest_plugins = ["tests.smtp_server"]``."""

import asyncio
import email
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Hold:
    """One message held in DATA: ``reached`` is set when a client is waiting for the server's
    answer; after ``release()`` the server refuses it with a 4xx and keeps nothing, or, for a
    hold made with ``deliver=True`` (a slow server rather than a failing one), accepts it."""

    def __init__(self, *, deliver: bool = False) -> None:
        self.reached = threading.Event()
        self.released = threading.Event()
        self.deliver = deliver

    def release(self) -> None:
        self.released.set()


class Inbox:
    """An aiosmtpd handler that accepts every message and keeps it, in arrival order."""

    host = "127.0.0.1"
    port = 0

    def __init__(self) -> None:
        self._messages: list[EmailMessage] = []
        self._holds: list[Hold] = []
        self._changed = threading.Condition()

    @property
    def url(self) -> str:
        """The server as an EMAIL_URL, for a worker process."""
        return f"smtp://{self.host}:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self._changed:
            return list(self._messages)

    def hold_next(self, *, deliver: bool = False) -> Hold:
        """Hold the next message to arrive (see ``Hold``)."""
        hold = Hold(deliver=deliver)
        with self._changed:
            self._holds.append(hold)
        return hold

    def release_all(self) -> None:
        with self._changed:
            for hold in self._holds:
                hold.release()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._changed:
            hold = next((h for h in self._holds if not h.reached.is_set()), None)
            if hold is not None:
                hold.reached.set()
        if hold is not None:
            # Poll rather than block: the event loop keeps serving other connections, and a
            # client that disconnects cancels this coroutine.
            while not hold.released.is_set():
                await asyncio.sleep(0.05)
            if not hold.deliver:
                return "451 4.3.0 Held by the test and not delivered"
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self._changed:
            self._messages.append(message)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, *, timeout: float) -> list[EmailMessage]:
        """The messages, once at least ``count`` have arrived; fails after ``timeout`` s."""
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self._messages) >= count, timeout)
            assert arrived, (
                f"{len(self._messages)} message(s) reached the SMTP server within {timeout} s, "
                f"expected {count}"
            )
            return list(self._messages)


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # Listening on port 0 lets the system pick a free port with no race; the controller
        # connects to its own port once to check that the server answers, so learn it first.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture
def smtp_server() -> Iterator[Inbox]:
    """A running SMTP server that keeps every message it is sent."""
    inbox = Inbox()
    controller = _Controller(inbox, hostname=inbox.host, port=0)
    controller.start()
    inbox.port = controller.port
    yield inbox
    inbox.release_all()
    controller.stop()


@pytest.fixture
def smtp_email(settings, smtp_server: Inbox) -> Inbox:
    """This process's mail goes through Django's SMTP backend to ``smtp_server``."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10  # a test fails rather than hangs on a stuck server
    return smtp_server

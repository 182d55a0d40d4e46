"""Real e-mail: the outbox sends through Django's SMTP backend to an SMTP server the test
starts, and what arrives there (headers, body, the .ics invitation) is what people get."""

import socket
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications import tasks
from notifications.models import Notification
from notifications.sending import notification_send, retry_delay
from pairs import meetings
from programmes.links import Purpose, read_token
from programmes.models import Cohort
from programmes.services import participants_send_intake_invitations
from tests.factories import ParticipantFactory
from tests.pairs.meeting_helpers import agreed_pair

if TYPE_CHECKING:
    from tests.smtp_server import Inbox

pytest_plugins = ["tests.smtp_server"]  # the smtp_server and smtp_email fixtures
pytestmark = pytest.mark.django_db


def _text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_a_scheduled_session_reaches_the_partner_with_the_invitation_attached(
    smtp_email: "Inbox", django_capture_on_commit_callbacks
) -> None:
    pair = agreed_pair()
    day = timezone.localdate() + timedelta(days=2)
    starts_at = datetime.combine(day, time(10), tzinfo=ZoneInfo("Europe/London"))

    with django_capture_on_commit_callbacks(execute=True):
        meeting = meetings.meeting_schedule(
            pair=pair, by=pair.reverse_mentor, starts_at=starts_at, duration_minutes=45, topic=None
        )

    [message] = smtp_email.wait_for(1, timeout=10)
    assert mail.outbox == []  # it went through SMTP, not the test backend
    assert message["To"] == pair.mentee.person.email
    assert "Ravi Patel booked a session" in message["Subject"]
    assert f"{starts_at:%-d %B %Y}, 10:00 to 10:45 (Europe/London time)" in _text_of(message)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == f"session-{starts_at:%Y-%m-%d}.ics"
    ics = attachment.get_content()
    assert "METHOD:REQUEST" in ics.splitlines()
    calendar = icalendar.Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]).startswith(f"{meeting.uid}@")
    assert Notification.objects.get().status == Notification.Status.SENT


def test_an_intake_invitation_arrives_with_its_intake_link(
    smtp_email: "Inbox", settings, django_capture_on_commit_callbacks
) -> None:
    settings.SITE_URL = "https://mentoring.example.org"
    participant = ParticipantFactory(
        cohort__status=Cohort.Status.INTAKE, person__email="ada@example.org"
    )

    with django_capture_on_commit_callbacks(execute=True):
        participants_send_intake_invitations(participants=[participant])

    [message] = smtp_email.wait_for(1, timeout=10)
    assert message["To"] == "ada@example.org"
    assert participant.cohort.programme.name in message["Subject"]
    link = next(line for line in _text_of(message).splitlines() if "/intake/" in line).strip()
    assert link.startswith("https://mentoring.example.org/intake/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert read_token(token, purpose=Purpose.INTAKE).participant_id == participant.pk


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


def test_a_mail_server_down_then_back_gets_each_message_once_at_the_next_try(
    smtp_email: "Inbox", settings
) -> None:
    participants = [
        ParticipantFactory(cohort__status=Cohort.Status.INTAKE, person__email=f"p{n}@example.org")
        for n in range(3)
    ]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        participants_send_intake_invitations(participants=participants)
        # The mail server is down: every send is refused, and every row waits.
        settings.EMAIL_PORT = _closed_port()
        for row in Notification.objects.all():
            with pytest.raises(ConnectionRefusedError):
                notification_send(row.pk)
        assert set(Notification.objects.values_list("status", "attempts")) == {("pending", 1)}

    # It is back: the first pause (one minute) and the next sweep deliver each message once.
    settings.EMAIL_PORT = smtp_email.port
    with time_machine.travel(start + retry_delay(1) + timedelta(seconds=1), tick=False):
        assert tasks.sweep_notifications() == 3
        assert tasks.sweep_notifications() == 0

    messages = smtp_email.wait_for(3, timeout=10)
    assert sorted(m["To"] for m in messages) == [f"p{n}@example.org" for n in range(3)]
    assert len({m["Message-ID"] for m in messages}) == 3
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 2)}

"""Real e-mail: the outbox sends through Django's SMTP backend to an SMTP server the test
starts, and what arrives there (headers, body, the .ics invitation) is what people get."""

from datetime import datetime, time, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Notification
from programmes import meetings
from programmes.models import Cohort
from programmes.services import participants_send_intake_invitations
from surveys.links import Purpose, read_token
from tests.factories import ParticipantFactory
from tests.programmes.meeting_helpers import agreed_pair

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

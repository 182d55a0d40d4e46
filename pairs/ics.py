"""A session's calendar invitation (.ics), as each side of the pair receives it, and the local
time it is shown in."""

from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from pairs.models import Meeting
from pairs.queries import partner_of
from programmes.models import Participant, Role


def local_time(moment: datetime, zone: str) -> datetime:
    return timezone.localtime(moment, ZoneInfo(zone))


def _lost_link_url() -> str:
    """The page where anyone asks for their links again: it identifies nobody, so a calendar
    that is forwarded, shared or synced to the partner's account opens nobody's pair page."""
    return settings.SITE_URL + reverse("surveys:resend_link")


def _address(participant: Participant, *, role: str | None = None) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{participant.person.email}")
    address.params["CN"] = participant.person.full_name
    if role:
        address.params["ROLE"] = role
    return address


def meeting_ics(meeting: Meeting, *, for_participant: Participant) -> bytes:
    """The invitation as ``for_participant`` receives it: a REQUEST while the session stands,
    a CANCEL once it is cancelled or withdrawn; the same UID throughout and the meeting's
    SEQUENCE. It carries no personal link (see ``_lost_link_url``)."""
    pair = meeting.pair
    partner = partner_of(pair=pair, participant=for_participant)
    cancelled = meeting.called_off
    host = urlsplit(settings.SITE_URL).hostname or "localhost"

    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//Reverse mentoring//{host}//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")

    event = icalendar.Event()
    event.add("uid", f"{meeting.uid}@{host}")
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", timezone.now().astimezone(ZoneInfo("UTC")))
    event.add("dtstart", meeting.starts_at.astimezone(ZoneInfo("UTC")))
    event.add("dtend", meeting.ends_at.astimezone(ZoneInfo("UTC")))
    event.add("summary", f"Reverse mentoring: {partner.person.full_name}")
    lines = []
    if meeting.topic is not None:
        lines.append(f"Topic: {meeting.topic.title}")
    if meeting.status == Meeting.Status.WITHDRAWN:
        lines.append("Cancelled: your pair has ended.")
    elif cancelled and meeting.cancel_reason:
        lines.append(f"Cancelled: {meeting.cancel_reason}")
    # Never a signed link: a calendar file is forwarded and shared (it is, after all, an
    # invitation), and a personal link would open its holder's notes to whoever gets it.
    lost = _lost_link_url()
    lines.append(f"Your pair page: open it from your e-mails, or ask for a new link at {lost}")
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organiser = pair.mentee if meeting.scheduled_by == Role.MENTEE else pair.reverse_mentor
    event.add("organizer", _address(organiser))
    for participant in (pair.mentee, pair.reverse_mentor):
        event.add("attendee", _address(participant, role="REQ-PARTICIPANT"))
    calendar.add_component(event)
    return calendar.to_ical()


def ics_filename(meeting: Meeting) -> str:
    return f"session-{meeting.starts_at:%Y-%m-%d}.ics"

"""The messages of a pair: its agreement, its sessions and their reminders, and its end,
built when the outbox sends them (see notifications/kinds.py). Each returns the message's
context, or None when it is no longer wanted: the row is then cancelled rather than sent.

``ask_*`` functions are called by the services inside their transactions; they name each
message with a key, so asking twice sends once.
"""

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import notify
from pairs.ics import ics_filename, local_time, meeting_ics
from pairs.models import Agreement, Meeting, Pair
from pairs.queries import agreement_pending, agreement_waits_for
from programmes.links import Purpose, pair_link_expiry, participant_url
from programmes.models import Participant, Role


def pair_people(via: str = "") -> list[str]:
    """What a message to one side of a pair needs of the pair, for ``select_related``: from
    the pair itself, or through ``via`` ("pair__") from a row about it."""
    paths: tuple[str, ...] = ("cohort__programme", "mentee__person", "mentee__cohort")
    paths += ("reverse_mentor__person", "reverse_mentor__cohort")
    return [via + path for path in paths]


def sides_for(notification: Notification, pair: Pair) -> tuple[Participant, Participant]:
    """The participant of ``pair`` the message goes to, and their partner."""
    if notification.person_id == pair.mentee.person_id:
        return pair.mentee, pair.reverse_mentor
    return pair.reverse_mentor, pair.mentee


def pair_context(pair: Pair, me: Participant, partner: Participant) -> dict:
    """The placeholders every message to one side of a pair has (``kinds.PAIR_MESSAGE``)."""
    return {
        "person": me.person,
        "partner": partner.person,
        "programme": pair.cohort.programme,
        "cohort": pair.cohort,
        "site_url": settings.SITE_URL,
        "pair_url": pair_url(me, pair),
    }


def pair_url(participant: Participant, pair: Pair) -> str:
    """The page of ``pair`` through ``participant``'s own pair link: a message about one
    pair opens that pair, even for a reverse-mentor who has two."""
    return participant_url(
        participant_id=participant.pk,
        purpose=Purpose.PAIR,
        expires_at=pair_link_expiry(participant.cohort.ends_on),
        pair_id=pair.pk,
    )


# --- The agreement ----------------------------------------------------------------------------


def ask_agreement_proposed(agreement: Agreement, *, not_before: datetime | None = None) -> None:
    pair = agreement.pair
    recipient = pair.reverse_mentor if agreement.proposed_by == Role.MENTEE else pair.mentee
    notify(
        kind="agreement_proposed",
        key=f"agreement_proposed:{agreement.pk}",
        to=recipient.person,
        about=agreement,
        not_before=not_before,
    )


def agreement_proposed(notification: Notification) -> Message | None:
    """To the partner of whoever proposed a version, unless it has since been agreed or
    replaced, or the pair has ended."""
    agreement = (
        Agreement.objects.select_related(  # type: ignore[misc]  # pk=None is a valid lookup
            "pair__cohort__programme", "pair__mentee__person", "pair__reverse_mentor__person"
        )
        .filter(pk=notification.object_id)
        .first()
    )
    if agreement is None or not agreement.proposed_by or agreement.agreed:
        return None
    pair = agreement.pair
    if pair.status == Pair.Status.ENDED or pair.agreements.filter(number__gt=agreement.number):
        return None
    proposer, recipient = (
        (pair.mentee, pair.reverse_mentor)
        if agreement.proposed_by == Role.MENTEE
        else (pair.reverse_mentor, pair.mentee)
    )
    return Message(
        {
            "person": recipient.person,
            "partner": proposer.person,
            "agreement": agreement,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "site_url": settings.SITE_URL,
            "pair_url": pair_url(recipient, pair),
        }
    )


# --- Sessions -----------------------------------------------------------------------------------


def ask_meeting_update(meeting: Meeting, change: str, by: Role) -> None:
    """Tell the partner of ``by`` that a session was scheduled, rescheduled, cancelled or
    marked. A mark does not change the invitation's sequence, so its key carries the time of
    the change: a corrected mark is news of its own, and replaces an earlier one not yet
    sent."""
    pair = meeting.pair
    recipient = pair.reverse_mentor if by == Role.MENTEE else pair.mentee
    version = meeting.updated_at.isoformat() if change == "marked" else str(meeting.sequence)
    notify(
        kind=f"meeting_{change}",
        key=f"meeting_{change}:{meeting.pk}:{version}",
        to=recipient.person,
        about=meeting,
        data={"sequence": meeting.sequence, "by": str(by)}
        | ({"marked_at": version} if change == "marked" else {}),
    )


def _meeting(notification: Notification) -> Meeting | None:
    """The session a message is about, with the pair, people and zones its wording needs."""
    return (
        Meeting.objects.select_related("topic", *pair_people("pair__"))  # type: ignore[misc]  # pk=None is a valid lookup
        .filter(pk=notification.object_id)
        .first()
    )


def meeting_update(notification: Notification) -> Message | None:
    """The time in the recipient's own zone and, for a new, moved or cancelled session, the
    invitation attached. Nothing when the change has been overtaken (the meeting's sequence
    moved on) or no longer matches the meeting's state, so nobody gets stale news."""
    change = notification.kind.removeprefix("meeting_")
    sequence, by = notification.data.get("sequence"), notification.data.get("by")
    marked_at = notification.data.get("marked_at")
    meeting = _meeting(notification)
    if meeting is None or meeting.sequence != sequence or by not in Role.values:
        return None
    expected = {
        "scheduled": sequence == 0 and meeting.status == Meeting.Status.SCHEDULED,
        "rescheduled": sequence > 0 and meeting.status == Meeting.Status.SCHEDULED,
        "cancelled": meeting.status == Meeting.Status.CANCELLED,
        # A mark corrected since (its time moved on) is told by the correction's own message.
        "marked": meeting.status in Meeting.MARKED
        and marked_at is not None
        and parse_datetime(marked_at) == meeting.updated_at,
    }
    if not expected.get(change, False):
        return None
    pair = meeting.pair
    actor, recipient = (
        (pair.mentee, pair.reverse_mentor)
        if by == Role.MENTEE
        else (pair.reverse_mentor, pair.mentee)
    )
    zone = recipient.person.time_zone
    attachments = []
    if change != "marked":
        invitation = meeting_ics(meeting, for_participant=recipient)
        attachments.append((ics_filename(meeting), invitation, "text/calendar"))
    return Message(
        {
            "person": recipient.person,
            "partner": actor.person,
            "meeting": meeting,
            "starts": local_time(meeting.starts_at, zone),
            "ends": local_time(meeting.ends_at, zone),
            "zone": zone,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "site_url": settings.SITE_URL,
            "pair_url": pair_url(recipient, pair),
            "led_by": {
                Role.MENTEE.value: pair.mentee.person,
                Role.REVERSE_MENTOR.value: pair.reverse_mentor.person,
            }.get(meeting.led_by),
        },
        attachments=attachments,
    )


# --- A pair ends (pairs.services.pair_close) -----------------------------------------------


def ask_pair_ended(pair: Pair, participant: Participant) -> None:
    notify(
        kind="pair_ended",
        key=f"pair_ended:{pair.pk}:{participant.pk}",
        to=participant.person,
        about=pair,
    )


def pair_ended(notification: Notification) -> Message | None:
    """That the pair has ended, with the times of its withdrawn sessions in the recipient's
    zone and their calendar cancellations attached. Never the manager's reason: it may say
    more about one side than the other should read."""
    pair = (
        Pair.objects.select_related(*pair_people())  # type: ignore[misc]  # pk=None is a valid lookup
        .filter(pk=notification.object_id, status=Pair.Status.ENDED)
        .first()
    )
    if pair is None:
        return None
    me, partner = sides_for(notification, pair)
    zone = me.person.time_zone
    withdrawn = list(
        pair.meetings.filter(status=Meeting.Status.WITHDRAWN)
        .select_related("topic")
        .order_by("starts_at")
    )
    return Message(
        pair_context(pair, me, partner)
        | {
            "sessions": [local_time(meeting.starts_at, zone) for meeting in withdrawn],
            "zone": zone,
        },
        attachments=[
            (ics_filename(meeting), meeting_ics(meeting, for_participant=me), "text/calendar")
            for meeting in withdrawn
        ],
    )


def agreement_reminder_key(pair: Pair, participant: Participant) -> str:
    return f"agreement_reminder:{pair.pk}:{participant.pk}"


def ask_agreement_reminder(pair: Pair, participant: Participant) -> None:
    notify(
        kind="agreement_reminder",
        key=agreement_reminder_key(pair, participant),
        to=participant.person,
        about=pair,
        data={"participant": participant.pk},
    )


def agreement_reminder(notification: Notification) -> Message | None:
    """Nothing if the pair is no longer active, or the agreement no longer waits for the
    recipient (agreed meanwhile, or they have accepted the latest version)."""
    pair = (
        Pair.objects.select_related(  # type: ignore[misc]  # pk=None is a valid lookup
            "cohort__programme",
            "mentee__person",
            "mentee__cohort",
            "reverse_mentor__person",
            "reverse_mentor__cohort",
        )
        .prefetch_related("agreements")
        .filter(pk=notification.object_id, status=Pair.Status.ACTIVE)
        .first()
    )
    if pair is None:
        return None
    recipient = next(
        (
            who
            for who in agreement_waits_for(pair)
            if who.pk == notification.data.get("participant")
        ),
        None,
    )
    if recipient is None:
        return None
    partner = pair.reverse_mentor if recipient.pk == pair.mentee_id else pair.mentee
    return Message(
        {
            "person": recipient.person,
            "partner": partner.person,
            "agreement": agreement_pending(pair),
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "site_url": settings.SITE_URL,
            "pair_url": pair_url(recipient, pair),
        }
    )


def session_reminder_key(meeting: Meeting, participant: Participant) -> str:
    """Per session time: a moved session (a higher sequence) is reminded of again."""
    return f"session_reminder:{meeting.pk}:{participant.pk}:{meeting.sequence}"


def ask_session_reminder(meeting: Meeting, participant: Participant) -> None:
    notify(
        kind="session_reminder",
        key=session_reminder_key(meeting, participant),
        to=participant.person,
        about=meeting,
        data={"participant": participant.pk, "sequence": meeting.sequence},
    )


def session_reminder(notification: Notification) -> Message | None:
    """The time in the recipient's own zone; no invitation attached (they have it already).
    Nothing if the session was moved since (its sequence moved on) or cancelled, has started,
    or the pair is not active (a paused pair gets no session mail)."""

    meeting = _meeting(notification)
    if (
        meeting is None
        or meeting.sequence != notification.data.get("sequence")
        or meeting.status != Meeting.Status.SCHEDULED
        or meeting.starts_at <= timezone.now()
        or meeting.pair.status != Pair.Status.ACTIVE
    ):
        return None
    pair = meeting.pair
    sides = {pair.mentee_id: (pair.mentee, pair.reverse_mentor)}
    sides[pair.reverse_mentor_id] = (pair.reverse_mentor, pair.mentee)
    if notification.data.get("participant") not in sides:
        return None
    recipient, partner = sides[notification.data["participant"]]
    zone = recipient.person.time_zone
    return Message(
        {
            "person": recipient.person,
            "partner": partner.person,
            "meeting": meeting,
            "starts": local_time(meeting.starts_at, zone),
            "ends": local_time(meeting.ends_at, zone),
            "zone": zone,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "site_url": settings.SITE_URL,
            "pair_url": pair_url(recipient, pair),
        }
    )

"""The pair services: the kickoff agreement (versions proposed by one side and accepted by the
other), one-line notes and their sharing, and the reads the pair page is built from.

Every action takes the participant acting (``by`` or ``author``) and checks they belong to the
pair; an ended pair is history and refuses every change. Errors are ValidationErrors whose
messages are written for the participant, so views can show them as they are.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Exists, F, Max, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.dateformat import format as format_date

from notifications.models import Notification
from pairs import notices
from pairs.models import Agreement, Guide, Meeting, Note, Pair
from pairs.queries import agreement_versions, partner_of, side_of
from pairs.signals import pair_closing, partners_found
from programmes.models import Intake, Participant, Role, Topic
from programmes.throttle import Kind as ActionKind
from programmes.throttle import action_count, participant_lock

NOTE_MAX_LENGTH = 280
# How long the partner's e-mail about a proposal waits for a newer proposal to replace it.
PROPOSAL_HOLD = timedelta(minutes=2)
PLEDGE_REQUIRED = "Both of you need to keep the confidentiality pledge"


def ended_message(pair: Pair) -> str:
    when = f" on {format_date(pair.ended_on, 'j F Y')}" if pair.ended_on else ""
    return f"This pair ended{when}, so nothing here can be changed any more."


def _check_open(pair: Pair) -> None:
    if pair.status == Pair.Status.ENDED:
        raise ValidationError(ended_message(pair), code="ended")


def _locked(pair: Pair, by: Participant) -> Pair:
    """The acting participant's row and then the pair's, locked until the transaction ends
    (the order every pair-page service keeps): proposals and acceptances of one pair take
    turns, so version numbers never collide and an acceptance never lands on a version that
    has just been replaced. (A no-op on SQLite, which locks the whole database.)"""
    participant_lock(by)
    return Pair.objects.select_for_update().get(pk=pair.pk)


# --- Ending a pair ---------------------------------------------------------------------------


def participants_paired(*, participant_ids: list[int], now: datetime) -> None:
    """Whoever was just given a new pair (by an approved run, a re-match or a late match) is
    matched, and no longer waiting for a partner (``partners_found``: risks/ resolves its
    "left without a partner" flags about them). Two queries, however many people."""
    Participant.objects.filter(pk__in=participant_ids).update(status=Participant.Status.MATCHED)
    partners_found.send(sender=Pair, participant_ids=participant_ids, now=now)


def pair_close(pair: Pair, *, reason: str, now: datetime) -> None:
    """End ``pair`` (whose row the caller holds locked, inside its transaction), for whatever
    reason: a manager ending it or re-matching one side, or an approved matching run that
    pairs someone anew. The one place a pair ends, so every way of ending it leaves the same:

    - the pair ENDED today, with ``reason`` (cut to the field) as its end reason;
    - its sessions still to come WITHDRAWN: off both calendars, and counted by no KPI or
      at-risk rule, since neither side cancelled them;
    - its unsent mail about sessions still to come and its pulse requests cancelled;
    - each participant who has not withdrawn told, once, that the pair has ended, with the
      calendar cancellations of the withdrawn sessions;
    - a participant left with no current pair back to "intake complete" (or "invited" if
      they were paired without an intake), so the admin does not show them as matched.
    """
    pair.status, pair.ended_on, pair.paused_until = Pair.Status.ENDED, timezone.localdate(now), None
    pair.end_reason = reason[: Pair._meta.get_field("end_reason").max_length]
    pair.save(update_fields=["status", "ended_on", "paused_until", "end_reason"])

    to_come = Meeting.objects.filter(pair=pair, starts_at__gt=now)
    unsent = Q(
        content_type=ContentType.objects.get_for_model(Meeting),
        object_id__in=to_come.values("pk"),
    )
    # What the apps above asked of the pair (surveys/: its pulse requests), in the same UPDATE.
    for _, asked in pair_closing.send(sender=Pair, pair=pair):
        unsent |= cast(Q, asked)
    Notification.objects.filter(unsent, status=Notification.Status.PENDING).update(
        status=Notification.Status.CANCELLED
    )
    # A higher SEQUENCE, as for any change, so calendars take the cancellation.
    to_come.filter(status=Meeting.Status.SCHEDULED).update(
        status=Meeting.Status.WITHDRAWN, sequence=F("sequence") + 1, updated_at=now
    )

    people = Participant.objects.filter(pk__in=[pair.mentee_id, pair.reverse_mentor_id])
    for participant in people.exclude(status=Participant.Status.WITHDRAWN).select_related("person"):
        notices.ask_pair_ended(pair, participant)
    submitted = Intake.objects.filter(participant=OuterRef("pk"), submitted_at__isnull=False)
    people.filter(status=Participant.Status.MATCHED).exclude(
        Exists(
            Pair.objects.current().filter(
                Q(mentee=OuterRef("pk")) | Q(reverse_mentor=OuterRef("pk"))
            )
        )
    ).update(
        # Someone paired by hand, without an intake, is back to being asked for one.
        status=Case(
            When(Exists(submitted), then=Value(Participant.Status.INTAKE_COMPLETE)),
            default=Value(Participant.Status.INVITED),
        )
    )


# --- The kickoff agreement ----------------------------------------------------------------


def agreement_start(*, pair: Pair) -> Agreement:
    """Version 1 with the defaults, proposed by nobody so both sides accept it, if the pair has
    no agreement yet; otherwise the latest version. Called lazily on the first page view."""
    _check_open(pair)
    versions = agreement_versions(pair)
    if versions:
        return versions[0]
    with transaction.atomic():
        # Two first views at once: the unique (pair, number) makes the second one read the
        # first one's row instead of creating its own.
        agreement, _ = Agreement.objects.get_or_create(pair=pair, number=1)
    return agreement


def agreement_propose(
    *,
    pair: Pair,
    by: Participant,
    driver: str,
    cadence: str,
    meeting_mode: str,
    cancellation: str,
    pledge: bool,
    submission: UUID | None = None,
) -> Agreement:
    """A new version, accepted for the proposer's side at once; the partner is e-mailed once
    it is saved. An earlier pending version is replaced (kept as history, never agreed).

    The partner's e-mail waits PROPOSAL_HOLD, and replacing a version cancels the e-mail about
    it that has not gone yet: proposals close together make one e-mail, about the latest.
    ``submission`` is the form's one-time token: the same form sent again returns the version
    it proposed, without another version or e-mail. Counted by the rate limit."""
    side = side_of(pair=pair, participant=by)
    _check_open(pair)
    if not pledge:
        raise ValidationError({"pledge": PLEDGE_REQUIRED})
    with transaction.atomic():
        _locked(pair, by)
        if submission is not None:
            proposed = Agreement.objects.filter(pair=pair, submission=submission).first()
            if proposed is not None:
                return proposed
        action_count(participant=by, kind=ActionKind.PARTNER_MAIL)
        latest = Agreement.objects.filter(pair=pair).aggregate(number=Max("number"))["number"]
        now = timezone.now()
        agreement = Agreement(
            pair=pair,
            number=(latest or 0) + 1,
            driver=driver,
            cadence=cadence,
            meeting_mode=meeting_mode,
            cancellation=" ".join(cancellation.split()),
            pledge=pledge,
            proposed_by=side,
            mentee_accepted_at=now if side == Role.MENTEE else None,
            mentor_accepted_at=now if side == Role.REVERSE_MENTOR else None,
            submission=submission,
        )
        # The pair was checked above; the (pair, number) uniqueness is held by the lock.
        agreement.full_clean(exclude=["pair"], validate_unique=False)
        agreement.save()
        Notification.objects.filter(
            kind="agreement_proposed",
            status=Notification.Status.PENDING,
            content_type=ContentType.objects.get_for_model(Agreement),
            object_id__in=Agreement.objects.filter(pair=pair, number__lt=agreement.number).values(
                "pk"
            ),
        ).update(status=Notification.Status.CANCELLED)
        notices.ask_agreement_proposed(agreement, not_before=now + PROPOSAL_HOLD)
    return agreement


def agreement_accept(*, pair: Pair, by: Participant, agreement_id: int) -> Agreement:
    """Accept the pending version for ``by``'s side. Only a side that has not accepted it yet
    can (so never the proposer), and only the pending version: an older one, replaced by a
    newer proposal, is refused. Raises Agreement.DoesNotExist for a version of another pair."""
    side = side_of(pair=pair, participant=by)
    _check_open(pair)
    with transaction.atomic():
        _locked(pair, by)
        agreement = Agreement.objects.get(pair=pair, pk=agreement_id)
        if agreement.agreed:
            raise ValidationError("You have both already agreed to this version.", code="agreed")
        newest = Agreement.objects.filter(pair=pair).aggregate(number=Max("number"))["number"]
        if agreement.number != newest:
            raise ValidationError(
                "This is an older version of your agreement: a newer proposal has replaced it. "
                "The page now shows the latest one.",
                code="old_version",
            )
        field = "mentee_accepted_at" if side == Role.MENTEE else "mentor_accepted_at"
        if getattr(agreement, field) is not None:
            raise ValidationError(
                "You have already accepted this version; it is waiting for your partner.",
                code="own_version",
            )
        setattr(agreement, field, timezone.now())
        agreement.save(update_fields=[field])
    return agreement


# --- Notes --------------------------------------------------------------------------------


def note_add(
    *,
    pair: Pair,
    author: Participant,
    text: str,
    meeting: Meeting | None = None,
    shared: bool = False,
    submission: UUID | None = None,
) -> Note:
    """A one-line note (line breaks become spaces), private unless ``shared``. A paused pair
    can still take notes; an ended one cannot. ``submission`` is the form's one-time token:
    the same form sent again returns the note it made. Counted by the rate limit."""
    side_of(pair=pair, participant=author)
    _check_open(pair)
    text = " ".join(text.split())
    if not text:
        raise ValidationError({"text": "Write your note first."})
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {"text": f"Keep your note to one line of {NOTE_MAX_LENGTH} characters at most "
             f"(it has {len(text)})."}
        )  # fmt: skip
    if meeting is not None and meeting.pair_id != pair.pk:
        raise ValidationError({"meeting": "Choose one of your own sessions."})
    with transaction.atomic():
        participant_lock(author)
        if submission is not None:
            written = Note.objects.filter(pair=pair, submission=submission).first()
            if written is not None:
                return written
        action_count(participant=author, kind=ActionKind.NOTE)
        note = Note(
            pair=pair,
            author=author,
            text=text,
            meeting=meeting,
            shared=shared,
            submission=submission,
        )
        note.full_clean(exclude=["pair", "author", "meeting", "submission"])
        note.save()
    return note


def note_share(*, note: Note, by: Participant, shared: bool) -> Note:
    """Share a note with the partner, or make it private again. Only its author can."""
    if note.author_id != by.pk:
        raise ValidationError("Only the person who wrote a note can share it.", code="not_author")
    _check_open(note.pair)
    if note.shared != shared:
        note.shared = shared
        note.save(update_fields=["shared"])
    return note


def notes_for(*, pair: Pair, viewer: Participant) -> QuerySet[Note]:
    """What ``viewer`` may read: their own notes and the ones their partner shared."""
    partner = partner_of(pair=pair, participant=viewer)
    return Note.objects.filter(pair=pair).filter(Q(author=viewer) | Q(author=partner, shared=True))


# --- What the pair page shows -------------------------------------------------------------


def topics_covered(meetings: list[Meeting]) -> set[int]:
    """Ids of the topics of the pair's held sessions."""
    return {
        meeting.topic_id
        for meeting in meetings
        if meeting.status == Meeting.Status.HELD and meeting.topic_id
    }


def next_session(meetings: list[Meeting], *, now: datetime) -> Meeting | None:
    upcoming = [
        meeting
        for meeting in meetings
        if meeting.status == Meeting.Status.SCHEDULED and meeting.starts_at >= now
    ]
    return min(upcoming, key=lambda meeting: meeting.starts_at, default=None)


def next_step(
    *,
    pair: Pair,
    viewer: Participant,
    current: Agreement | None,
    meetings: list[Meeting],
    now: datetime,
) -> str:
    """One sentence that says what this pair should do next, from the viewer's side."""
    if pair.status == Pair.Status.ENDED:
        when = f" on {format_date(pair.ended_on, 'j F Y')}" if pair.ended_on else ""
        return f"This pair ended{when}."
    if pair.status == Pair.Status.PAUSED:
        if pair.paused_until:
            return f"Paused until {format_date(pair.paused_until, 'j F Y')}."
        return "Paused for now."
    if current is None:
        return "Agree how you'll work together."
    upcoming = next_session(meetings, now=now)
    if upcoming is not None:
        zone = viewer.person.time_zone
        local = timezone.localtime(upcoming.starts_at, ZoneInfo(zone))
        when = format_date(local, r"D j M \a\t H:i")
        return f"Your next session is on {when} ({zone})."
    if current.driver == side_of(pair=pair, participant=viewer):
        return "You book your next session."
    driver = partner_of(pair=pair, participant=viewer)
    return f"{driver.person.full_name} books your next session."


@dataclass(frozen=True)
class PairGuides:
    role_cards: list[Guide]
    first_meeting: list[Guide]
    agendas: list[tuple[str, list[Guide]]]  # (topic title, or "" for general agendas)


def guides_for(*, pair: Pair, viewer: Participant, topics: Sequence[Topic]) -> PairGuides:
    """The viewer's role card, the first-meeting guide and agenda templates for the
    programme's road map: the programme's own rows where it has any, else the defaults
    (rows with no programme). One query."""
    programme_id = pair.cohort.programme_id
    rows = list(
        Guide.objects.filter(Q(programme_id=programme_id) | Q(programme=None)).order_by(
            "position", "pk"
        )
    )

    def own_first(guides: list[Guide]) -> list[Guide]:
        own = [guide for guide in guides if guide.programme_id == programme_id]
        return own or guides

    role = viewer.role
    role_cards = own_first(
        [row for row in rows if row.kind == Guide.Kind.ROLE_CARD and row.role == role]
    )
    first_meeting = own_first([row for row in rows if row.kind == Guide.Kind.FIRST_MEETING])

    by_title = {topic.title.casefold(): topic for topic in topics}
    by_id = {topic.pk: topic for topic in topics}
    for_topic: dict[int, list[Guide]] = {}
    general: list[Guide] = []
    for row in rows:
        if row.kind != Guide.Kind.AGENDA:
            continue
        topic = by_id.get(row.topic_id) if row.topic_id else None
        if topic is None and row.topic_title:
            topic = by_title.get(row.topic_title.strip().casefold())
        if topic is not None:
            for_topic.setdefault(topic.pk, []).append(row)
        elif not row.topic_id and not row.topic_title:
            general.append(row)
    agendas = [
        (topic.title, own_first(for_topic[topic.pk])) for topic in topics if topic.pk in for_topic
    ]
    if general:
        agendas.append(("", own_first(general)))
    return PairGuides(role_cards=role_cards, first_meeting=first_meeting, agendas=agendas)

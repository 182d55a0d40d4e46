"""The pair page and its actions (agreement, notes, consent to success stories), reached
through each participant's own signed link. Whose page it is comes from the link alone; which
of their pairs, from the pair id in the path, looked up only among their own pairs
(pairs/access.py): no id in a URL or a form can reach another pair."""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, cast
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, Model, OuterRef, Prefetch, Value, prefetch_related_objects
from django.db.models.expressions import BaseExpression
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from pairs import queries as pair_queries
from pairs import services as pair_services
from pairs.access import (
    ambiguous,
    not_your_pair,
    pair_choices,
    pair_page_url,
    pair_scope,
    pairs_of,
    render_chooser,
)
from pairs.forms import (
    AgreementAcceptForm,
    AgreementProposeForm,
    NoteForm,
    NoteShareForm,
)
from pairs.models import Agreement, Meeting, Note, Pair
from pairs.sections import MEETING_PULSES, PARTS
from programmes.links import DEFAULT_LIFETIME, Purpose, make_token, participant_link_required
from programmes.models import Intake, Participant, Programme, Role, Topic

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class _CanShare(TypedDict):
        partner_can_share: bool

    RoadMapTopic = WithAnnotations[Topic, _CanShare]

PULSE_OFFER = DEFAULT_LIFETIME[Purpose.PULSE]


def _get_pair_for_participant(participant: Participant, pair_id: int | None) -> Pair | None:
    """The participant's pair ``pair_id``, or without an id their only open pair (the newest
    open one when there are several, which ``pair_access.ambiguous`` then tells), else their
    latest ended one, which the page shows read-only; None if there is no such pair of theirs.
    Loads all the page needs but notes and what the other apps' parts load themselves (they
    annotate the pair with whether they have anything, so most pages cost no query for them);
    ``has_others`` says whether the participant is in another pair."""
    annotations: dict[str, Any] = {}
    for part in PARTS:
        if part.annotate is not None:
            annotations |= part.annotate(participant)
    pair = (
        pair_scope(participant, pair_id)
        .select_related(
            "cohort__programme",
            "mentee__person",
            "mentee__intake",
            "reverse_mentor__person",
            "reverse_mentor__intake",
        )
        .annotate(has_others=Exists(pairs_of(participant).exclude(pk=OuterRef("pk"))))
        .annotate(**annotations)
        .first()
    )
    if pair is not None and not ambiguous(pair):
        meetings = Meeting.objects.select_related("topic").prefetch_related(
            *(part.meeting_prefetch(participant) for part in PARTS if part.meeting_prefetch)
        )
        prefetch_related_objects([pair], "agreements", Prefetch("meetings", queryset=meetings))
    return pair


def _load(
    request: HttpRequest, participant: Participant, token: str, pair_id: int | None
) -> Pair | HttpResponse:
    """The pair a request is about, or the page to answer with instead: a pair id that is not
    theirs gets the page that says so, a participant never paired the not-paired page, and a
    path without an id while several pairs are open the chooser (for a form posted there,
    with a refusal: nothing is saved on a guess)."""
    pair = _get_pair_for_participant(participant, pair_id)
    if pair is None:
        if pair_id is not None:
            return not_your_pair(request)
        status = 200 if request.method in ("GET", "HEAD") else 404
        return _not_paired(request, participant, status=status)
    if ambiguous(pair):
        status = 200 if request.method in ("GET", "HEAD") else 409
        return render_chooser(request, participant, token, status=status)
    return pair


def _intake(participant: Participant) -> Intake | None:
    try:
        return participant.intake
    except Intake.DoesNotExist:
        return None


@dataclass(frozen=True)
class SessionRow:
    meeting: Meeting
    starts_at: datetime  # in the viewer's time zone
    status: str
    topic: str
    led_by: str
    # The pulse: whether it can be answered, the viewer's own answer, the partner's if shared.
    pulse_open: bool = False
    my_pulse: Model | None = None
    partner_pulse: Model | None = None


def _who(role: str, *, my_side: Role, partner: Participant) -> str:
    if not role:
        return ""
    return "You" if role == my_side else partner.person.full_name


def _not_paired(request: HttpRequest, participant: Participant, *, status: int) -> HttpResponse:
    context = {
        "participant": participant,
        "person": participant.person,
        "programme": participant.cohort.programme,
        "cohort": participant.cohort,
    }
    return render(request, "pairs/pair_none.html", context, status=status)


@dataclass(frozen=True)
class _Viewer:
    """Who looks at the page, from which side, and when."""

    participant: Participant
    side: Role
    partner: Participant
    zone: ZoneInfo
    now: datetime


def _session_row(meeting: Meeting, viewer: _Viewer) -> SessionRow:
    now, partner = viewer.now, viewer.partner
    status = meeting.get_status_display()
    if meeting.status == Meeting.Status.SCHEDULED and meeting.starts_at < now:
        status = "Not logged yet"
    elif meeting.status == Meeting.Status.CANCELLED and meeting.cancelled_by:
        who = "you" if meeting.cancelled_by == viewer.side else partner.person.full_name
        status = f"Cancelled by {who}"
    pulses = {pulse.participant_id: pulse for pulse in getattr(meeting, MEETING_PULSES, [])}
    me = viewer.participant.pk
    return SessionRow(
        meeting=meeting,
        starts_at=timezone.localtime(meeting.starts_at, viewer.zone),
        status=status,
        topic=meeting.topic.title if meeting.topic else "",
        led_by=_who(meeting.led_by, my_side=viewer.side, partner=partner),
        # Answers can be looked at any time; a session's questions are offered for as long as
        # the e-mail's link would last, so old gaps do not nag.
        pulse_open=not meeting.called_off
        and meeting.starts_at <= now
        and (me in pulses or now - meeting.starts_at <= PULSE_OFFER),
        my_pulse=pulses.get(me),
        partner_pulse=pulses.get(partner.pk),
    )


def _sessions_context(meetings: list[Meeting], viewer: _Viewer) -> dict[str, Any]:
    """Sessions to come, soonest first, and the rest, latest first."""

    def to_come(meeting: Meeting) -> bool:
        return meeting.status == Meeting.Status.SCHEDULED and meeting.starts_at >= viewer.now

    return {
        "upcoming": [_session_row(m, viewer) for m in meetings if to_come(m)],
        "past": [_session_row(m, viewer) for m in reversed(meetings) if not to_come(m)],
        "before_first_session": not any(m.status == Meeting.Status.HELD for m in meetings),
    }


def _agreement_context(
    pair: Pair, viewer: _Viewer, form: AgreementProposeForm | None
) -> dict[str, Any]:
    """The terms agreed, a newer version waiting for acceptance, and the form to propose one
    (filled with the latest terms)."""
    current = pair_queries.agreement_current(pair)
    pending = pair_queries.agreement_pending(pair)
    if form is None:
        base = pending or current
        fields = ("driver", "cadence", "meeting_mode", "cancellation", "pledge")
        initial = {name: getattr(base, name) for name in fields} if base else {}
        form = AgreementProposeForm(pair=pair, initial=initial)
    accepted = "mentee_accepted_at" if viewer.side == Role.MENTEE else "mentor_accepted_at"
    side, partner = viewer.side, viewer.partner
    return {
        "current": current,
        "pending": pending,
        "awaiting_me": pending is not None and getattr(pending, accepted) is None,
        "driver_name": _who(current.driver, my_side=side, partner=partner) if current else "",
        "pending_driver_name": _who(pending.driver, my_side=side, partner=partner)
        if pending
        else "",
        "agreement_form": form,
    }


def _notes_context(
    pair: Pair, meetings: list[Meeting], viewer: _Viewer, form: NoteForm | None
) -> dict[str, Any]:
    """The notes the viewer may read, and the form to add one about a session that began."""
    if form is None:
        form = NoteForm(
            meetings=[
                (meeting, f"{timezone.localtime(meeting.starts_at, viewer.zone):%a %-d %b}")
                for meeting in reversed(meetings)
                if meeting.starts_at <= viewer.now or meeting.status == Meeting.Status.HELD
            ]
        )
    notes = pair_services.notes_for(pair=pair, viewer=viewer.participant).select_related("meeting")
    me = viewer.participant.pk
    return {"note_form": form, "notes": [(note, note.author_id == me) for note in notes]}


def _road_map(programme: Programme, partner: Participant) -> "list[RoadMapTopic]":
    """The programme's topics in road-map order, each with ``partner_can_share``: whether
    the partner said at intake they can share about it. One query."""
    partner_intake = _intake(partner)
    can_share: BaseExpression = Value(False)
    if partner_intake is not None:
        shares = Intake.can_share.through.objects.filter(
            intake_id=partner_intake.pk, topic=OuterRef("pk")
        )
        can_share = Exists(shares)
    return list(programme.topics.annotate(partner_can_share=can_share))


def _road_map_context(
    pair: Pair, meetings: list[Meeting], viewer: _Viewer, topics: "list[RoadMapTopic]"
) -> dict[str, Any]:
    """Both sides' goals, the topics the partner can share, and the road map covered so far.
    The pair's own participant rows carry the intakes it loaded with them."""
    me = pair.mentee if viewer.side == Role.MENTEE else pair.reverse_mentor
    my_intake, partner_intake = _intake(me), _intake(viewer.partner)
    covered = pair_services.topics_covered(meetings)
    return {
        "my_goals": my_intake.goals if my_intake else [],
        "partner_goals": partner_intake.goals if partner_intake else [],
        "partner_shares": [topic for topic in topics if topic.partner_can_share],
        "road_map": [(topic, topic.pk in covered) for topic in topics],
        "covered_count": sum(1 for topic in topics if topic.pk in covered),
    }


def _render_page(
    request: HttpRequest,
    participant: Participant,
    pair: Pair,
    token: str,
    *,
    agreement_form: AgreementProposeForm | None = None,
    note_form: NoteForm | None = None,
) -> HttpResponse:
    now = timezone.now()
    programme = pair.cohort.programme
    partner = pair_queries.partner_of(pair=pair, participant=participant)
    viewer = _Viewer(
        participant=participant,
        side=pair_queries.side_of(pair=pair, participant=participant),
        partner=partner,
        zone=ZoneInfo(participant.person.time_zone),
        now=now,
    )
    topics = _road_map(programme, partner)
    meetings = sorted(pair.meetings.all(), key=lambda meeting: meeting.starts_at)
    agreement = _agreement_context(pair, viewer, agreement_form)
    context: dict[str, Any] = {
        "token": token,
        "participant": participant,
        "person": participant.person,
        "programme": programme,
        "cohort": pair.cohort,
        "pair": pair,
        "my_side": viewer.side,
        "partner": partner,
        "partner_person": partner.person,
        "time_zone": participant.person.time_zone,
        "read_only": pair.status == Pair.Status.ENDED,
        **_road_map_context(pair, meetings, viewer, topics),
        **_sessions_context(meetings, viewer),
        "next_step": pair_services.next_step(
            pair=pair, viewer=participant, current=agreement["current"], meetings=meetings, now=now
        ),
        **agreement,
        **_notes_context(pair, meetings, viewer, note_form),
        "guides": pair_services.guides_for(pair=pair, viewer=participant, topics=topics),
        # The viewer's other pairs (a reverse-mentor with two places, or someone re-matched):
        # one query, only for those who have any.
        "other_pairs": (
            [choice for choice in pair_choices(participant) if choice.pair.pk != pair.pk]
            if getattr(pair, "has_others", False)
            else []
        ),
    }
    for part in PARTS:
        if part.context is not None:
            context |= part.context(pair, participant, now)
    status = 400 if context["agreement_form"].errors or context["note_form"].errors else 200
    return render(request, "pairs/pair_page.html", context, status=status)


@require_safe
@participant_link_required(Purpose.PAIR)
def pair_page(
    request: HttpRequest, participant: Participant, *, token: str, pair_id: int | None = None
) -> HttpResponse:
    pair = _load(request, participant, token, pair_id)
    if isinstance(pair, HttpResponse):
        return pair
    if pair.status != Pair.Status.ENDED and not pair.agreements.all():
        pair_services.agreement_start(pair=pair)
        pair = cast(Pair, _get_pair_for_participant(participant, pair.pk))  # still there
    return _render_page(request, participant, pair, token)


@require_POST
@participant_link_required(Purpose.PAIR)
def agreement(
    request: HttpRequest, participant: Participant, *, token: str, pair_id: int | None = None
) -> HttpResponse:
    pair = _load(request, participant, token, pair_id)
    if isinstance(pair, HttpResponse):
        return pair
    page = pair_page_url(token, pair.pk)
    if pair.status == Pair.Status.ENDED:
        messages.error(request, pair_services.ended_message(pair))
        return redirect(page)
    if request.POST.get("action") == "accept":
        accept = AgreementAcceptForm(request.POST)
        if not accept.is_valid():
            messages.error(request, "That version of your agreement could not be found.")
            return redirect(page)
        try:
            pair_services.agreement_accept(
                pair=pair, by=participant, agreement_id=accept.cleaned_data["agreement_id"]
            )
        except Agreement.DoesNotExist as exc:
            raise Http404("No such agreement in your pair.") from exc
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(page)
        messages.success(request, "You accepted the agreement.")
        return redirect(page)

    form = AgreementProposeForm(request.POST, pair=pair)
    if form.is_valid():
        try:
            pair_services.agreement_propose(pair=pair, by=participant, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            partner = pair_queries.partner_of(pair=pair, participant=participant)
            messages.success(
                request,
                f"Your proposal is saved. We've let {partner.person.full_name} know; it "
                "applies once they accept it.",
            )
            return redirect(page)
    return _render_page(request, participant, pair, token, agreement_form=form)


@require_POST
@participant_link_required(Purpose.PAIR)
def note_create(
    request: HttpRequest, participant: Participant, *, token: str, pair_id: int | None = None
) -> HttpResponse:
    pair = _load(request, participant, token, pair_id)
    if isinstance(pair, HttpResponse):
        return pair
    if pair.status == Pair.Status.ENDED:
        messages.error(request, pair_services.ended_message(pair))
        return redirect(pair_page_url(token, pair.pk))
    form = NoteForm(request.POST, meetings=[(meeting, "") for meeting in pair.meetings.all()])
    if form.is_valid():
        try:
            note = pair_services.note_add(pair=pair, author=participant, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            partner = pair_queries.partner_of(pair=pair, participant=participant)
            messages.success(
                request,
                f"Your note is saved and shared with {partner.person.full_name}."
                if note.shared
                else "Your note is saved. Only you can see it.",
            )
            return redirect(f"{pair_page_url(token, pair.pk)}#notes")
    return _render_page(request, participant, pair, token, note_form=form)


@require_POST
@participant_link_required(Purpose.PAIR)
def note_share(
    request: HttpRequest,
    participant: Participant,
    note_id: int,
    *,
    token: str,
    pair_id: int | None = None,
) -> HttpResponse:
    # Only the viewer's own notes in their own pairs (in the pair the path names, if it names
    # one): any other id is a 404, whoever wrote it.
    notes = Note.objects.filter(pk=note_id, author=participant, pair__in=pairs_of(participant))
    if pair_id is not None:
        notes = notes.filter(pair_id=pair_id)
    note = notes.select_related(
        "pair__mentee__person", "pair__reverse_mentor__person", "pair__cohort"
    ).first()
    if note is None:
        if pair_id is not None and not pairs_of(participant).filter(pk=pair_id).exists():
            return not_your_pair(request)
        raise Http404("No such note of yours.")
    pair = note.pair
    form = NoteShareForm(request.POST)
    form.is_valid()  # A single optional checkbox: anything but "on"/"true" means private.
    shared = form.cleaned_data.get("shared", False)
    try:
        pair_services.note_share(note=note, by=participant, shared=shared)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        partner = pair_queries.partner_of(pair=pair, participant=participant)
        messages.success(
            request,
            f"{partner.person.full_name} can now see this note."
            if shared
            else "This note is private again: only you can see it.",
        )
    return redirect(f"{pair_page_url(token, pair.pk)}#notes")


@require_safe
@participant_link_required(Purpose.PAIR)
def pulse_start(
    request: HttpRequest,
    participant: Participant,
    meeting_id: int,
    *,
    token: str,
    pair_id: int | None = None,
) -> HttpResponse:
    """From a session on the pair page to its pulse: a fresh pulse link for this participant
    and session, so a lost or expired pulse e-mail never stops anyone answering."""
    found = Meeting.objects.filter(pk=meeting_id, pair__in=pairs_of(participant))
    if pair_id is not None:
        found = found.filter(pair_id=pair_id)
    meeting = found.only("pk").first()
    if meeting is None:
        if pair_id is not None and not pairs_of(participant).filter(pk=pair_id).exists():
            return not_your_pair(request)
        raise Http404("No such session in your pair.")
    pulse_token = make_token(participant_id=participant.pk, purpose=Purpose.PULSE, scope=meeting.pk)
    return redirect("surveys:pulse", pulse_token)

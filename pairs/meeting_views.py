"""Session pages: schedule, change, cancel or mark a session, and download its invitation.
Reached through the participant's pair link; the pair is one of the link holder's own pairs
(the id in the path, or the pair the session belongs to: pairs/access.py), and a
meeting id in a URL is looked up only within their pairs, so no id reaches another pair."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.views.decorators.http import require_GET, require_http_methods

from pairs import ics, meetings
from pairs.access import ambiguous, not_your_pair, pair_scope, pairs_of, render_chooser
from pairs.meeting_forms import (
    MeetingCancelForm,
    MeetingMarkForm,
    MeetingScheduleForm,
    MeetingTimeForm,
)
from pairs.models import Meeting, Pair
from pairs.queries import partner_of
from programmes.links import Purpose, participant_link_required
from programmes.models import Participant, Role

# Service errors name model fields; the forms ask for the start as a date and a time.
FIELD_OF = {"starts_at": "time"}


PAIR_PEOPLE = (
    "cohort__programme",
    "mentee__person",
    "mentee__cohort",
    "reverse_mentor__person",
    "reverse_mentor__cohort",
)


def _get_pair(
    request: HttpRequest, participant: Participant, token: str, pair_id: int | None
) -> Pair | HttpResponse:
    """The participant's pair ``pair_id``, or without an id their only open pair, else their
    latest ended one (which refuses every change with a message); or the page to answer with
    instead: a pair id not theirs, never paired, or several open pairs and no id (the
    chooser; a form posted there saves nothing)."""
    pair = (
        pair_scope(participant, pair_id)
        .select_related(*PAIR_PEOPLE)
        .prefetch_related("agreements")
        .first()
    )
    if pair is None:
        if pair_id is not None:
            return not_your_pair(request)
        raise Http404("You have no pair yet.")
    if ambiguous(pair):
        status = 200 if request.method in ("GET", "HEAD") else 409
        return render_chooser(request, participant, token, status=status)
    return pair


def _get_meeting(
    request: HttpRequest, participant: Participant, meeting_id: int, pair_id: int | None
) -> Meeting | HttpResponse:
    """The session ``meeting_id`` of one of the participant's pairs (of pair ``pair_id``, if
    the path names one), with its pair loaded; a path without a pair id needs none, since the
    session says which pair it is."""
    found = Meeting.objects.select_related("topic", *(f"pair__{path}" for path in PAIR_PEOPLE))
    found = found.prefetch_related("pair__agreements").filter(
        pk=meeting_id, pair__in=pairs_of(participant)
    )
    if pair_id is not None:
        found = found.filter(pair_id=pair_id)
    meeting = found.first()
    if meeting is None:
        if pair_id is not None and not pairs_of(participant).filter(pk=pair_id).exists():
            return not_your_pair(request)
        raise Http404("No such session on your pair page.")
    return meeting


def _apply(form: Form, error: ValidationError) -> None:
    """Show a service's refusal beside the field it is about, or above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        name = FIELD_OF.get(field, field)
        form.add_error(name if name in form.fields else None, errors)


def _when(meeting: Meeting, zone: str) -> str:
    return format_date(ics.local_time(meeting.starts_at, zone), r"l j F \a\t H:i")


def _pair_url(token: str, pair: Pair) -> str:
    return reverse("pairs:pair", args=[token, pair.pk])


def _booking_blocker(pair: Pair, participant: Participant) -> str:
    try:
        meetings.meeting_booking_check(pair=pair, by=participant)
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


@require_http_methods(["GET", "POST"])
@participant_link_required(Purpose.PAIR)
def meeting_schedule(
    request: HttpRequest, participant: Participant, *, token: str, pair_id: int | None = None
) -> HttpResponse:
    pair = _get_pair(request, participant, token, pair_id)
    if isinstance(pair, HttpResponse):
        return pair
    zone = participant.person.time_zone
    topics = pair.cohort.programme.topics.all()
    form = MeetingScheduleForm(request.POST or None, zone=zone, topics=topics)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = meetings.meeting_schedule(
                pair=pair,
                by=participant,
                starts_at=form.cleaned_data["starts_at"],
                duration_minutes=form.cleaned_data["duration_minutes"],
                topic=form.cleaned_data["topic"],
                submission=form.cleaned_data["submission"],
            )
        except ValidationError as error:
            _apply(form, error)
        else:
            partner = partner_of(pair=pair, participant=participant)
            messages.success(
                request,
                f"Session booked for {_when(meeting, zone)} ({zone}). "
                f"{partner.person.full_name} has been sent the invitation.",
            )
            return redirect(_pair_url(token, pair))
    context = {
        "participant": participant,
        "person": participant.person,
        "pair": pair,
        "partner": partner_of(pair=pair, participant=participant),
        "programme": pair.cohort.programme,
        "form": form,
        "zone": zone,
        "token": token,
        "blocker": _booking_blocker(pair, participant),
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "pairs/meeting_form.html", context, status=status)


ACTIONS = ("reschedule", "cancel", "mark")


@require_http_methods(["GET", "POST"])
@participant_link_required(Purpose.PAIR)
def meeting_edit(
    request: HttpRequest,
    participant: Participant,
    *,
    token: str,
    meeting_id: int,
    pair_id: int | None = None,
) -> HttpResponse:
    meeting = _get_meeting(request, participant, meeting_id, pair_id)
    if isinstance(meeting, HttpResponse):
        return meeting
    pair = meeting.pair
    zone = participant.person.time_zone
    topics = pair.cohort.programme.topics.all()
    action = request.POST.get("action") if request.method == "POST" else None
    data = request.POST if action else None

    def bound(name: str) -> Any:
        return data if action == name else None

    move_form = MeetingTimeForm(
        bound("reschedule"),
        prefix="move",
        zone=zone,
        topics=topics,
        initial=MeetingTimeForm.initial_for(meeting, zone),
    )
    cancel_form = MeetingCancelForm(bound("cancel"), prefix="cancel")
    mark_form = MeetingMarkForm(
        bound("mark"),
        prefix="mark",
        pair=pair,
        topics=topics,
        initial=MeetingMarkForm.initial_for(meeting),
    )
    problem = ""
    if request.method == "POST":
        if action not in ACTIONS:
            problem = "Choose what to do with the session: move, cancel or mark it."
        else:
            done = _act(request, action, meeting, participant, move_form, cancel_form, mark_form)
            if done:
                return redirect(_pair_url(token, pair))

    now = timezone.now()
    can_move = meeting.status == Meeting.Status.SCHEDULED
    can_mark = not meeting.called_off and meeting.starts_at <= now
    shown = {"reschedule": can_move, "cancel": can_move, "mark": can_mark}
    if action in shown and not shown[action]:
        # The form for this action is not on the page any more: say why above the details.
        form = {"reschedule": move_form, "cancel": cancel_form, "mark": mark_form}[action]
        problem = " ".join(str(message) for errors in form.errors.values() for message in errors)
    context = {
        "participant": participant,
        "person": participant.person,
        "pair": pair,
        "partner": partner_of(pair=pair, participant=participant),
        "programme": pair.cohort.programme,
        "meeting": meeting,
        "zone": zone,
        "token": token,
        "ended": pair.status == Pair.Status.ENDED,
        "can_move": can_move,
        "can_mark": can_mark,
        "move_form": move_form,
        "cancel_form": cancel_form,
        "mark_form": mark_form,
        "action": action,
        "problem": problem,
        "cancelled_by": _side_name(meeting.cancelled_by, pair, participant),
        "led_by": _side_name(meeting.led_by, pair, participant),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "pairs/meeting_edit.html", context, status=status)


def _side_name(role: str, pair: Pair, viewer: Participant) -> str:
    if not role:
        return ""
    who = pair.mentee if role == Role.MENTEE else pair.reverse_mentor
    return "you" if who.pk == viewer.pk else who.person.full_name


def _act(
    request: HttpRequest,
    action: str,
    meeting: Meeting,
    participant: Participant,
    move_form: MeetingTimeForm,
    cancel_form: MeetingCancelForm,
    mark_form: MeetingMarkForm,
) -> bool:
    """Run one action; True when it succeeded (with a message queued), False when the bound
    form now carries the reasons."""
    partner = partner_of(pair=meeting.pair, participant=participant).person.full_name
    zone = participant.person.time_zone
    form: Form = {"reschedule": move_form, "cancel": cancel_form, "mark": mark_form}[action]
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        if action == "reschedule":
            meetings.meeting_reschedule(
                meeting=meeting,
                by=participant,
                starts_at=data["starts_at"],
                duration_minutes=data["duration_minutes"],
                topic=data["topic"],
            )
            text = (
                f"Session moved to {_when(meeting, zone)} ({zone}). "
                f"{partner} has been sent the updated invitation."
            )
        elif action == "cancel":
            meetings.meeting_cancel(meeting=meeting, by=participant, reason=data["reason"])
            text = f"Session cancelled. {partner} has been told."
        else:
            meetings.meeting_mark(
                meeting=meeting,
                by=participant,
                status=data["status"],
                led_by=data["led_by"],
                topic=data["topic"],
                missed_by=data.get("missed_by", ""),
            )
            marked = meeting.get_status_display().lower()
            text = f"Session marked as {marked}. {partner} has been told."
    except ValidationError as error:
        _apply(form, error)
        return False
    messages.success(request, text)
    return True


@require_GET
@participant_link_required(Purpose.PAIR)
def meeting_ics(
    request: HttpRequest,
    participant: Participant,
    *,
    token: str,
    meeting_id: int,
    pair_id: int | None = None,
) -> HttpResponse:
    meeting = _get_meeting(request, participant, meeting_id, pair_id)
    if isinstance(meeting, HttpResponse):
        return meeting
    response = HttpResponse(
        ics.meeting_ics(meeting, for_participant=participant),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{ics.ics_filename(meeting)}"'
    return response

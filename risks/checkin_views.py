"""The check-in page, reached from the e-mail after two missed or cancelled sessions. The
signed link names the participant and the check-in; ``?answer=pause`` (one link per answer in
the e-mail) only preselects a choice. Mail scanners open links, so a GET never changes
anything: the page asks, one tap on its button (a POST) records."""

from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from pairs.models import Pair
from pairs.queries import partner_of
from programmes.links import Purpose, link_problem, participant_link_required
from programmes.models import Participant
from risks import checkins
from risks.models import CheckIn


class CheckInForm(forms.Form):
    answer = forms.ChoiceField(
        label="Your answer",
        choices=CheckIn.Choice.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": checkins.CHOOSE_ONE,
            "invalid_choice": checkins.CHOOSE_ONE,
        },
    )


def _get_checkin_for_participant(participant: Participant, scope: str) -> CheckIn | None:
    """The check-in the link names, if it is this participant's own."""
    if not (scope.isascii() and scope.isdigit()):
        return None
    return (
        CheckIn.objects.select_related(
            "pair__cohort__programme", "pair__mentee__person", "pair__reverse_mentor__person"
        )
        .filter(pk=int(scope), participant=participant)
        .first()
    )


def _context(checkin: CheckIn, participant: Participant) -> dict[str, Any]:
    pair = checkin.pair
    zone = participant.person.time_zone
    answered_at = checkin.answered_at
    return {
        "checkin": checkin,
        "pair": pair,
        "person": participant.person,
        "partner_person": partner_of(pair=pair, participant=participant).person,
        "programme": pair.cohort.programme,
        "open": pair.status in Pair.OPEN_STATUSES,
        "paused_by_answer": checkin.choice == CheckIn.Choice.PAUSE,
        "paused_message": checkins.paused_message(pair),
        "answered_at": timezone.localtime(answered_at, ZoneInfo(zone)) if answered_at else None,
        "time_zone": zone,
    }


def _render(
    request: HttpRequest,
    checkin: CheckIn,
    participant: Participant,
    form: CheckInForm | None,
    *,
    status: int = 200,
) -> HttpResponse:
    context = _context(checkin, participant) | {"form": form}
    return render(request, "risks/checkin.html", context, status=status)


def _not_yours(request: HttpRequest) -> HttpResponse:
    return link_problem(request, reason="not_yours", purpose=Purpose.CHECKIN)


@require_http_methods(["GET", "HEAD", "POST"])
@participant_link_required(Purpose.CHECKIN)
def checkin(
    request: HttpRequest, participant: Participant, *, token: str, scope: str
) -> HttpResponse:
    found = _get_checkin_for_participant(participant, scope)
    if found is None:
        return _not_yours(request)
    if request.method != "POST":
        if found.pair.status not in Pair.OPEN_STATUSES or found.choice == CheckIn.Choice.PAUSE:
            return _render(request, found, participant, None)  # says why, no form
        preselected: str | None = request.GET.get("answer", "")
        if preselected not in CheckIn.Choice.values:
            preselected = found.choice or None
        return _render(request, found, participant, CheckInForm(initial={"answer": preselected}))
    form = CheckInForm(request.POST)
    if form.is_valid():
        try:
            checkins.checkin_answer(checkin=found, choice=form.cleaned_data["answer"])
        except ValidationError as error:
            if getattr(error, "code", None) in ("paused", "closed"):
                # The page was out of date (the pair ended, or this answer paused it
                # already): show how things stand now, without the form.
                current = _get_checkin_for_participant(participant, scope) or found
                return _render(request, current, participant, None, status=400)
            form.add_error(None, error)
        else:
            return redirect("risks:checkin_done", token)
    return _render(request, found, participant, form, status=400)


@require_safe
@participant_link_required(Purpose.CHECKIN)
def checkin_done(
    request: HttpRequest, participant: Participant, *, token: str, scope: str
) -> HttpResponse:
    found = _get_checkin_for_participant(participant, scope)
    if found is None:
        return _not_yours(request)
    if not found.choice:
        return redirect("risks:checkin", token)
    context = _context(found, participant) | {"checkin_url": reverse("risks:checkin", args=[token])}
    return render(request, "risks/checkin_done.html", context)

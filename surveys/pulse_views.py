"""The pulse page, reached in one tap from the e-mail after a session (or from the pair page).
The signed link names the participant and the session; ``?held=yes`` or ``?held=no`` from
the e-mail only preselects the first answer."""

from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from programmes.links import Purpose, link_problem, participant_link_required
from programmes.models import Participant
from surveys.pulse_forms import PulseForm, initial_from
from surveys.pulses import BUSY_MESSAGE, PulseSituation, State, pulse_save, situation_for


def _context(situation: PulseSituation) -> dict[str, Any]:
    """What both pulse pages show, with times in the participant's own zone."""
    zone = ZoneInfo(situation.participant.person.time_zone)
    until = situation.editable_until
    return {
        "situation": situation,
        "pulse": situation.existing,
        "meeting": situation.meeting,
        "programme": situation.meeting.pair.cohort.programme,
        "partner_person": situation.partner.person,
        "starts_at": timezone.localtime(situation.meeting.starts_at, zone),
        "time_zone": situation.participant.person.time_zone,
        "editable_until": timezone.localtime(until, zone) if until else None,
    }


def _render(
    request: HttpRequest,
    situation: PulseSituation,
    form: PulseForm | None,
    *,
    status: int = 200,
    shown: dict[str, Any] | None = None,
) -> HttpResponse:
    # A TemplateResponse renders once the view has returned: for a POST, after the
    # submission's transaction has ended (committed or rolled back), so the page's own reads
    # neither hold the participant's lock nor run in a transaction that has failed. What it
    # shows of the session is taken before saving (``shown``): a failed save may have
    # reloaded the session, and a rolled-back transaction takes no more queries.
    existing = situation.existing
    context = (shown or _context(situation)) | {
        "form": form,
        "ratings": existing.confidence.select_related("key_skill") if existing else [],
    }
    return TemplateResponse(request, "surveys/pulse_form.html", context, status=status)


def _not_yours(request: HttpRequest) -> HttpResponse:
    return link_problem(request, reason="not_yours", purpose=Purpose.PULSE)


@require_http_methods(["GET", "HEAD", "POST"])
@participant_link_required(Purpose.PULSE, lock_on_post=True)
def pulse(
    request: HttpRequest, participant: Participant, *, token: str, scope: str
) -> HttpResponse:
    # For a POST this runs in the transaction the decorator opened with the participant's row
    # locked, so the situation read here is current: one reading serves the form's questions,
    # the service's checks and the save.
    situation = situation_for(participant, scope)
    if situation is None:
        return _not_yours(request)
    if situation.state != State.OPEN:
        # Answered and closed, cancelled, or not happened yet: the page says which, no form.
        status = 200 if request.method != "POST" else 400
        return _render(request, situation, None, status=status)
    if request.method != "POST":
        held = request.GET.get("held", "")
        form = PulseForm(initial=initial_from(situation.existing, held=held), situation=situation)
        return _render(request, situation, form)
    form = PulseForm(request.POST, situation=situation)
    shown = _context(situation)
    if form.is_valid():
        try:
            pulse_save(situation=situation, answers=form.answers(), now=timezone.now())
        except ValidationError as error:
            transaction.set_rollback(True)  # nothing is half-saved
            form.apply(error)
        except IntegrityError:
            # Only reachable where the lock is a no-op and another submission won.
            transaction.set_rollback(True)
            form.apply(ValidationError(BUSY_MESSAGE, code="busy"))
        else:
            return redirect("surveys:pulse_thanks", token)
    return _render(request, situation, form, status=400, shown=shown)


@require_safe
@participant_link_required(Purpose.PULSE)
def pulse_thanks(
    request: HttpRequest, participant: Participant, *, token: str, scope: str
) -> HttpResponse:
    situation = situation_for(participant, scope)
    if situation is None:
        return _not_yours(request)
    if situation.existing is None:
        return redirect("surveys:pulse", token)
    context = _context(situation) | {"pulse_url": reverse("surveys:pulse", args=[token])}
    return render(request, "surveys/pulse_thanks.html", context)

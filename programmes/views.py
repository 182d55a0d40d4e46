"""Participant pages, reached through signed links: whose page it is comes from the link.
And, at the end, where sponsors and managers land when they sign in, and the password reset
e-mail's links."""

from itertools import groupby
from typing import Any, TypeGuard, cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lib.clients import client_ip
from programmes import availability, services
from programmes.forms import CONFIDENCE_PREFIX, OBJECTIVE_FIELDS, IntakeForm
from programmes.links import Purpose, participant_link_required
from programmes.models import BASELINE, Intake, Participant
from programmes.password_resets import password_reset_request_create, reset_link_lifetime

LOCKED_MESSAGE = (
    "The intake for your cohort has closed and matching has started, so your answers can no "
    "longer be changed."
)


def _programme_contacts(participant: Participant) -> list[tuple[str, str]]:
    """(name, e-mail) of the programme's managers, for a participant who needs a person to
    write to: a closed intake can be reopened or a late one matched only by them."""
    managers = participant.cohort.programme.managers.filter(is_active=True).order_by(
        "first_name", "last_name", "pk"
    )
    return [(user.get_full_name() or user.get_username(), user.email) for user in managers]


def _intake_of(participant: Participant) -> Intake | None:
    return Intake.objects.filter(participant=participant).first()


def _shows_draft(intake: Intake | None) -> TypeGuard[Intake]:
    """A draft newer than the submitted answers is what the person last typed."""
    if intake is None or not intake.draft or intake.draft_saved_at is None:
        return False
    return intake.submitted_at is None or intake.draft_saved_at > intake.submitted_at


def _submitted_answers(participant: Participant, intake: Intake) -> dict[str, Any]:
    initial: dict[str, Any] = {
        name: getattr(intake, name) for name in (*Intake.ANSWER_FIELDS, "availability")
    }
    ranked = intake.ranked_objectives.values_list("topic_id", flat=True)  # ordered by rank
    initial.update(zip(OBJECTIVE_FIELDS, ranked, strict=False))
    initial["can_share"] = list(intake.can_share.values_list("pk", flat=True))
    initial["off_limits"] = list(intake.off_limits.values_list("pk", flat=True))
    initial["avoid"] = [str(pk) for pk in intake.avoid.values_list("pk", flat=True)]
    ratings = participant.confidence_ratings.filter(context=BASELINE).values_list(
        "key_skill_id", "value"
    )
    initial.update({f"{CONFIDENCE_PREFIX}{skill_id}": value for skill_id, value in ratings})
    return initial


def _intake_form(participant: Participant, *args: Any, **kwargs: Any) -> IntakeForm:
    programme = participant.cohort.programme
    return IntakeForm(
        *args,
        participant=participant,
        topics=list(programme.topics.all()),
        key_skills=list(programme.key_skills.all()),
        **kwargs,
    )


def _render_form(
    request: HttpRequest,
    participant: Participant,
    intake: Intake | None,
    form: IntakeForm,
    token: str,
) -> HttpResponse:
    context = {
        "participant": participant,
        "person": participant.person,
        "programme": participant.cohort.programme,
        "cohort": participant.cohort,
        "intake": intake,
        "form": form,
        "token": token,
        "restored_draft": not form.is_bound and _shows_draft(intake),
        "days": list(zip(availability.DAYS, availability.DAY_ABBREVIATIONS, strict=True)),
    }
    return render(request, "programmes/intake_form.html", context)


def _hour_ranges(hours: list[int]) -> list[str]:
    """[9, 10, 14] → ["09:00–11:00", "14:00–15:00"]"""
    ranges = []
    for _, run in groupby(enumerate(hours), key=lambda pair: pair[1] - pair[0]):
        block = [hour for _, hour in run]
        ranges.append(f"{block[0]:02d}:00–{block[-1] + 1:02d}:00")
    return ranges


def _render_readonly(
    request: HttpRequest,
    participant: Participant,
    intake: Intake | None,
    token: str,
    *,
    refused: bool = False,
) -> HttpResponse:
    """The person's own answers, private text included, once matching has started. A refused
    change answers 409 and says why."""
    context: dict[str, Any] = {
        "participant": participant,
        "person": participant.person,
        "programme": participant.cohort.programme,
        "cohort": participant.cohort,
        "intake": intake,
        "token": token,
        "locked_message": LOCKED_MESSAGE,
        "refused": refused,
        "contacts": _programme_contacts(participant),
    }
    if intake is not None and intake.submitted_at is not None:
        slots = sorted(slot for slot in intake.availability if slot in availability.SLOTS)
        context |= {
            "objectives": [
                objective.topic for objective in intake.ranked_objectives.select_related("topic")
            ],
            "can_share": list(intake.can_share.all()),
            "off_limits": list(intake.off_limits.all()),
            "avoid": list(intake.avoid.order_by("full_name")),
            "ratings": list(
                participant.confidence_ratings.filter(context=BASELINE).select_related("key_skill")
            ),
            "availability": [
                (availability.DAYS[day], _hour_ranges([slot % 24 for slot in day_slots]))
                for day, day_slots in groupby(slots, key=lambda slot: slot // 24)
            ],
        }
    status = 409 if refused else 200
    return render(request, "programmes/intake_readonly.html", context, status=status)


@participant_link_required(Purpose.INTAKE)
def intake(request: HttpRequest, participant: Participant, *, token: str) -> HttpResponse:
    intake = _intake_of(participant)
    if participant.intake_locked:
        if request.method == "POST":
            return _render_readonly(request, participant, intake, token, refused=True)
        return _render_readonly(request, participant, intake, token)

    if request.method == "POST":
        if request.POST.get("action") == "save":
            # "Save and finish later", for browsers without JavaScript: keep it all, check
            # nothing yet.
            services.intake_save_draft(participant=participant, data=request.POST)
            messages.success(
                request,
                "Your answers so far are saved. Come back with the link from your e-mail to "
                "finish: nothing is sent until you press “Submit my answers”.",
            )
            return redirect("programmes:intake", token)
        form = _intake_form(participant, request.POST)
        if form.is_valid():
            try:
                services.intake_submit(participant=participant, data=form.cleaned_data)
            except services.IntakeLocked:
                return _render_readonly(request, participant, intake, token, refused=True)
            return redirect("programmes:intake_done", token)
        # Keep what was typed, even though it cannot be submitted yet.
        services.intake_save_draft(participant=participant, data=request.POST)
        return _render_form(request, participant, intake, form, token)

    if _shows_draft(intake):
        initial = dict(intake.draft)
    elif intake is not None and intake.submitted_at is not None:
        initial = _submitted_answers(participant, intake)
    else:
        initial = {}
    return _render_form(
        request, participant, intake, _intake_form(participant, initial=initial), token
    )


@require_POST
@participant_link_required(Purpose.INTAKE)
def intake_draft(request: HttpRequest, participant: Participant, *, token: str) -> JsonResponse:
    """Autosave: the page posts the whole form here as the person types."""
    saved_at = services.intake_save_draft(participant=participant, data=request.POST)
    if saved_at is None:
        return JsonResponse({"saved": False, "message": LOCKED_MESSAGE}, status=409)
    return JsonResponse({"saved": True, "saved_at": saved_at.isoformat()})


@participant_link_required(Purpose.INTAKE)
def intake_done(request: HttpRequest, participant: Participant, *, token: str) -> HttpResponse:
    intake = _intake_of(participant)
    if intake is None or intake.submitted_at is None:
        return redirect("programmes:intake", token)
    context = {
        "participant": participant,
        "person": participant.person,
        "programme": participant.cohort.programme,
        "cohort": participant.cohort,
        "intake": intake,
        "token": token,
    }
    return render(request, "programmes/intake_done.html", context)


# --- Accounts: sponsors and managers --------------------------------------------------------


@login_required
def after_login(request: HttpRequest) -> HttpResponse:
    """Where signing in leads when no ``?next=`` says otherwise (LOGIN_REDIRECT_URL): staff
    (programme managers) to the admin, sponsors to the list of programmes they sponsor,
    anyone else home."""
    user = cast(User, request.user)  # signed in
    if user.is_staff:
        return redirect("admin:index")
    if user.sponsored_programmes.exists():
        return redirect("reporting:sponsor_index")
    return redirect("home")


class PasswordResetView(auth_views.PasswordResetView):
    """Django's form and pages; the e-mail goes through the outbox (programmes.password_resets),
    so the page answers the same, in the same time, whether or not an account uses the
    address and whether or not a limit refused the request."""

    def form_valid(self, form: Form) -> HttpResponse:
        password_reset_request_create(
            email=form.cleaned_data["email"], ip_address=client_ip(self.request)
        )
        return redirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's own; the page for a used or expired link says how long links last."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | {"valid_for": reset_link_lifetime()}

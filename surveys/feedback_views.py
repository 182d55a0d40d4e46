"""The programme questions' page, reached through the participant's own signed link, which
names the moment (mid-point or end): whose answers they are comes from the link alone."""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from programmes.forms import CONFIDENCE_PREFIX
from programmes.links import Purpose, link_problem, participant_link_required
from programmes.models import KeySkill, Participant
from surveys import feedback as nps
from surveys.feedback_forms import FeedbackForm
from surveys.models import EDIT_WINDOW, NpsResponse

INTRO = {
    nps.MIDPOINT: "You are halfway through the programme. Two quick questions, under a minute.",
    nps.END: "The programme is coming to an end. Two quick questions and how confident "
    "you feel now, about a minute.",
}


def _context(participant: Participant, moment: str, token: str, **extra: Any) -> dict[str, Any]:
    cohort = participant.cohort
    return {
        "participant": participant,
        "person": participant.person,
        "programme": cohort.programme,
        "cohort": cohort,
        "moment": moment,
        "moment_label": nps.MOMENT_LABELS[moment],
        "window": nps.feedback_window(cohort, moment),
        "token": token,
        **extra,
    }


def _key_skills(participant: Participant, moment: str) -> list[KeySkill]:
    if moment != nps.END:
        return []
    return list(KeySkill.objects.filter(programme_id=participant.cohort.programme_id))


def _render_answers(
    request: HttpRequest,
    participant: Participant,
    moment: str,
    token: str,
    answer: NpsResponse,
    *,
    notice: str,
    status: int,
) -> HttpResponse:
    """The person's own answers, why included: only they hold this link."""
    ratings = nps.feedback_end_ratings(participant) if moment == nps.END else {}
    skills = _key_skills(participant, moment)
    context = _context(
        participant,
        moment,
        token,
        answer=answer,
        ratings=[(skill, ratings.get(skill.pk)) for skill in skills],
        notice=notice,
        refused=status == 409,
    )
    return render(request, "surveys/feedback_answers.html", context, status=status)


def _render_closed(
    request: HttpRequest,
    participant: Participant,
    moment: str,
    token: str,
    *,
    state: str,
    status: int,
) -> HttpResponse:
    context = _context(participant, moment, token, state=state, refused=status == 409)
    return render(request, "surveys/feedback_closed.html", context, status=status)


def _render_form(
    request: HttpRequest,
    participant: Participant,
    moment: str,
    token: str,
    form: FeedbackForm,
    answer: NpsResponse | None,
) -> HttpResponse:
    context = _context(
        participant,
        moment,
        token,
        form=form,
        answer=answer,
        intro=INTRO[moment],
        editable_until=answer.submitted_at + EDIT_WINDOW if answer else None,
    )
    return render(
        request, "surveys/feedback_form.html", context, status=400 if form.errors else 200
    )


def _add_errors(form: FeedbackForm, error: ValidationError) -> None:
    for field, messages in error.message_dict.items():
        # Anything not about one of the form's fields goes at the top.
        name = field if field != NON_FIELD_ERRORS and field in form.fields else None
        for message in messages:
            form.add_error(name, message)


@require_http_methods(["GET", "POST"])
@participant_link_required(Purpose.FEEDBACK)
def feedback(
    request: HttpRequest, participant: Participant, *, token: str, scope: str
) -> HttpResponse:
    moment = scope
    if moment not in nps.MOMENTS:
        return link_problem(request, reason="tampered", purpose=Purpose.FEEDBACK)
    refused = 409 if request.method == "POST" else 200
    if not nps.participant_was_paired(participant):
        return _render_closed(
            request, participant, moment, token, state="not_paired", status=refused
        )

    now = timezone.now()
    today = nps.feedback_today(now)
    window = nps.feedback_window(participant.cohort, moment)
    answer = nps.feedback_answer(participant, moment)
    if answer is not None and not nps.feedback_editable(answer, now=now):
        return _render_answers(
            request, participant, moment, token, answer, notice="locked", status=refused
        )
    if not window.is_open(today):
        if answer is not None:
            return _render_answers(
                request, participant, moment, token, answer, notice="closed", status=refused
            )
        state = "not_yet" if today < window.opens_on else "closed"
        return _render_closed(request, participant, moment, token, state=state, status=refused)

    skills = _key_skills(participant, moment)
    if request.method == "POST":
        form = FeedbackForm(request.POST, moment=moment, key_skills=skills)
        if form.is_valid():
            try:
                nps.feedback_submit(
                    participant=participant,
                    moment=moment,
                    score=form.cleaned_data["score"],
                    why=form.cleaned_data["why"],
                    confidence=form.cleaned_data["confidence"],
                    now=now,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                return redirect("surveys:feedback_thanks", token)
        return _render_form(request, participant, moment, token, form, answer)

    initial: dict[str, Any] = {}
    if answer is not None:
        initial = {"score": answer.score, "why": answer.why}
        ratings = nps.feedback_end_ratings(participant) if skills else {}
        initial |= {f"{CONFIDENCE_PREFIX}{skill_id}": value for skill_id, value in ratings.items()}
    form = FeedbackForm(initial=initial, moment=moment, key_skills=skills)
    return _render_form(request, participant, moment, token, form, answer)


@require_safe
@participant_link_required(Purpose.FEEDBACK)
def feedback_thanks(
    request: HttpRequest, participant: Participant, *, token: str, scope: str
) -> HttpResponse:
    moment = scope
    if moment not in nps.MOMENTS:
        return link_problem(request, reason="tampered", purpose=Purpose.FEEDBACK)
    answer = nps.feedback_answer(participant, moment)
    if answer is None:
        return redirect("surveys:feedback", token)
    context = _context(participant, moment, token, answer=answer)
    context["editable_until"] = answer.submitted_at + EDIT_WINDOW
    return render(request, "surveys/feedback_thanks.html", context)

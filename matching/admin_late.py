"""The admin page behind the participant list's "Match this participant now": who
``matching.late`` would propose for one participant, and why, then the manager's
confirmation. Shows names, job titles, departments, the score and the matching's reasons
(topic titles, shared hours), never an intake answer."""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from matching import late
from programmes.models import Participant
from programmes.scoping import get_scoped_or_404

# Matching one person makes a pair, as approving a run does.
PERMISSIONS = ("matching.change_matchingrun", "pairs.add_pair")


class MatchNowForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Participant.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "The proposal has changed: look at it again."},
    )

    def __init__(self, *args: Any, participant: Participant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["partner"]).queryset = Participant.objects.filter(
            cohort_id=participant.cohort_id
        ).exclude(role=participant.role)


def _participants_url(participant: Participant) -> str:
    changelist = reverse("admin:programmes_participant_changelist")
    return f"{changelist}?cohort__id__exact={participant.cohort_id}"


def match_one(request: HttpRequest, participant_id: int, *, site: AdminSite) -> HttpResponse:
    if not request.user.has_perms(PERMISSIONS):
        raise PermissionDenied
    participant = get_scoped_or_404(
        Participant.objects.select_related("person", "cohort__programme"),
        request,
        "cohort__programme",
        pk=participant_id,
    )
    problem = ""
    form: MatchNowForm | None
    if request.method == "POST":
        form = MatchNowForm(request.POST, participant=participant)
        if form.is_valid():
            try:
                pair = late.participant_match_now(
                    participant=participant,
                    by=cast(User, request.user),
                    expected_partner=form.cleaned_data["partner"],
                )
            except ValidationError as error:
                problem = " ".join(error.messages)
            else:
                messages.success(
                    request,
                    f"Matched: {pair.mentee.person.full_name} & "
                    f"{pair.reverse_mentor.person.full_name} are a new pair, introduced by "
                    "e-mail.",
                )
                return HttpResponseRedirect(_participants_url(participant))
        else:
            problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
    suggestion = None
    try:
        suggestion = late.participant_match_preview(participant=participant)
    except ValidationError as error:
        problem = problem or " ".join(error.messages)
    form = None
    if suggestion is not None:
        form = MatchNowForm(initial={"partner": suggestion.partner.pk}, participant=participant)
    context = {
        **site.each_context(request),
        "title": f"Match {participant.person.full_name} now",
        "opts": Participant._meta,
        "participant": participant,
        "suggestion": suggestion,
        "form": form,
        "problem": problem,
        "participants_url": _participants_url(participant),
    }
    status = 400 if problem and request.method == "POST" else 200
    return TemplateResponse(
        request, "admin/matching/matchingrun/match_one.html", context, status=status
    )

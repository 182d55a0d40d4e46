"""The re-match page of the at-risk queue (``/admin/risks/riskflag/<id>/rematch/``): the
best candidates the matching rules offer for one side of the flag's pair, with their scores
and fit reasons, how many others each rule rules out, and what happens to the partner being
left; the manager picks one (or none: nothing changes) and confirms. For a "left without a
partner" flag, the page finds a partner for the one its re-match left.

Everything goes through ``risks.remediation``: the preview changes nothing, and the
confirmation re-checks the pick under locks, so a stale or tampered pick, or a second click,
comes back into the page with its reason and what was typed, and nothing saved.
Confidentiality: names, scores and the matching code's reasons only; never what a participant
wrote (not the intake's note for the programme team, which stays on the matching review)."""

from typing import Any, Protocol, cast

from django import forms
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.options import Options
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from pairs.models import Pair
from programmes.models import Role
from risks import remediation
from risks.display import SIDE_WORD
from risks.models import RiskFlag


class FlagPages(Protocol):
    """What the re-match page needs of the flag admin that serves it (risks/admin.py)."""

    admin_site: AdminSite
    opts: "Options[RiskFlag]"

    def flag_for(self, request: HttpRequest, flag_id: str | int, *, change: bool) -> RiskFlag: ...

    def queue_url(self, request: HttpRequest) -> str: ...

    def page_url(self, request: HttpRequest, name: str, flag: RiskFlag, **query: str) -> str: ...


NOTE_MAX_LENGTH = 1000
# Beyond any participant id: a bigger number is not an id, and never reaches the database.
LARGEST_ID = 2**63 - 1


class RematchForm(forms.Form):
    side = forms.ChoiceField(choices=Role.choices, widget=forms.HiddenInput)
    # The candidates are radio buttons in the page; which ids may be picked is the service's
    # rule (the candidates the matching rules offer when the manager confirms).
    partner = forms.IntegerField(
        min_value=1,
        max_value=LARGEST_ID,
        error_messages={
            "required": "Choose one of the candidates, or cancel to change nothing.",
            "invalid": "That partner was not among those offered: choose one of the candidates.",
            "min_value": "That partner was not among those offered: choose one of the candidates.",
            "max_value": "That partner was not among those offered: choose one of the candidates.",
        },
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    )


def _names(pair: Pair) -> str:
    return f"{pair.mentee.person.full_name} & {pair.reverse_mentor.person.full_name}"


def _done(new_pair: Pair, old_pair: Pair, *, ended: bool, left_waiting: bool) -> str:
    said = f"Re-matched: {_names(new_pair)} are a new pair, introduced by e-mail."
    if not ended:
        return said + " The flag is resolved."
    said += f" The pair of {_names(old_pair)} has ended and its flags are resolved."
    if left_waiting:
        said += (
            " The partner left is back on the waiting list, with a flag in the queue that "
            "offers them a re-match too."
        )
    return said


def rematch_view(request: HttpRequest, flag_id: int, *, model_admin: "FlagPages") -> HttpResponse:
    """Preview (GET) and confirm (POST) a re-match from a flag. ``model_admin`` is the
    RiskFlag admin: it loads the flag with its permission check and builds the way back."""
    flag = model_admin.flag_for(request, flag_id, change=True)
    if not request.user.has_perm("pairs.add_pair"):
        raise PermissionDenied  # a re-match makes a pair, as approving a run does
    pair = flag.pair
    side = request.POST.get("side") or request.GET.get("side") or Role.MENTEE
    if side not in Role.values:
        side = Role.MENTEE
    problem, note, picked = "", "", None
    if request.method == "POST":
        form = RematchForm(request.POST)
        note = request.POST.get("note", "")[:NOTE_MAX_LENGTH]
        if form.is_valid():
            picked = form.cleaned_data["partner"]
            try:
                new_pair = remediation.pair_rematch(
                    pair=pair,
                    by=cast(User, request.user),
                    flag=flag,
                    note=form.cleaned_data["note"],
                    side=form.cleaned_data["side"],
                    partner=picked,
                )
            except ValidationError as error:
                problem = " ".join(error.messages)
            else:
                ended = flag.rule != RiskFlag.Rule.NEEDS_PARTNER
                left = (
                    ended
                    and pair.risk_flags.filter(
                        rule=RiskFlag.Rule.NEEDS_PARTNER, resolved_at__isnull=True
                    ).exists()
                )
                messages.success(request, _done(new_pair, pair, ended=ended, left_waiting=left))
                return HttpResponseRedirect(model_admin.queue_url(request))
        else:
            problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
    preview = None
    try:
        preview = remediation.pair_rematch_preview(pair=pair, side=side, flag=flag)
    except ValidationError as error:
        problem = problem or " ".join(error.messages)
    if preview is not None:
        side = preview.side
    form = RematchForm(initial={"side": side, "partner": picked, "note": note})
    other = Role.REVERSE_MENTOR if side == Role.MENTEE else Role.MENTEE
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Re-match {_names(pair)}",
        "subtitle": None,
        "flag": flag,
        "pair": pair,
        "preview": preview,
        "candidates": preview.suggestions.candidates if preview else [],
        "picked": picked,
        "form": form,
        "note": note,
        "problem": problem,
        "other_side_url": model_admin.page_url(request, "rematch", flag, side=other),
        # The other side's person would get a partner of this side's kind.
        "other_side_word": SIDE_WORD[Role(side)],
        "partner_word": SIDE_WORD[Role(other)],
        "flag_url": model_admin.page_url(request, "change", flag),
        "queue_url": model_admin.queue_url(request),
    }
    return TemplateResponse(
        request,
        "admin/risks/riskflag/rematch.html",
        context,
        status=400 if problem and request.method == "POST" else 200,
    )


def context_for_flag(flag: RiskFlag) -> dict[str, Any]:
    """What a flag's page needs to offer the re-match: for a "left without a partner" flag,
    whose partner to find."""
    if flag.rule != RiskFlag.Rule.NEEDS_PARTNER:
        return {}
    pair = flag.pair
    side = flag.evidence.get("side")
    left = pair.mentee if side == Role.MENTEE else pair.reverse_mentor
    return {"left_without_partner": left if side in Role.values else None}

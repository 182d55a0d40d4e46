"""The programme managers' matching review in the admin: start a run, watch its progress,
review the proposal with its explanations, adjust it (lock, exclude, change partner, swap),
rerun and approve. Every change goes through ``matching.services``; these views only load,
check permission, validate and report.

Confidentiality: the review shows names, job titles, departments, scores and the reasons the
service writes (topic titles, shared hours, the rules that ruled a pair out, never who asked
for one). The only intake text it shows is each person's note for the programme team
(``Intake.boundaries_text``), to the managers of the run's own programme, and only for the
people in that run; no other page shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Field, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from matching import services
from matching.engine import DEFAULT_WEIGHTS
from matching.forms import (
    ChangePartnerForm,
    PairRuleForm,
    StartRunForm,
    SwapForm,
    cohort_mentors,
    first_error,
)
from matching.models import MatchingPolicy, MatchingRun, PairRule, ProposedPair
from matching.review import NOT_EDITABLE, SUPERSEDED, MatchingError, PairCheck
from programmes.admin_intake import ids_seen
from programmes.models import Cohort, Intake, Participant
from programmes.scoping import get_scoped_or_404, scope_choices
from programmes.services import (
    IntakeGaps,
    cohort_intake_close,
    cohort_intake_unfinished,
    intake_closed_message,
)

REVIEW = "matching.change_matchingrun"
START = "matching.add_matchingrun"
RULE = "matching.add_pairrule"
APPROVE = "pairs.add_pair"
IN_PROGRESS = (MatchingRun.Status.QUEUED, MatchingRun.Status.RUNNING)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from matching.models import WaitingEntry

    # What the run's page adds to its rows for the template.
    class PlacesTaken(TypedDict):
        places_taken: int

    class Noted(TypedDict):
        note: str

    class ProposalNotes(TypedDict):
        mentee_note: str
        mentor_note: str
        lock_recorded: bool
        exclusion_recorded: bool


def _require(request: HttpRequest, *perms: str) -> None:
    if not request.user.has_perms((REVIEW, *perms)):
        raise PermissionDenied


def _get_run_for_user(request: HttpRequest, run_id: int, *perms: str) -> MatchingRun:
    _require(request, *perms)
    return get_scoped_or_404(
        MatchingRun.objects.select_related("cohort__programme", "created_by", "approved_by"),
        request,
        "cohort__programme",
        pk=run_id,
    )


def _scoped(form: StartRunForm, request: HttpRequest) -> StartRunForm:
    """The start form offering only the cohorts of the user's programmes."""
    field = cast(ModelChoiceField, form.fields["cohort"])
    field.queryset = scope_choices(cast(QuerySet, field.queryset), request.user)
    return form


def _review_url(run: MatchingRun, *, edit: ProposedPair | None = None) -> str:
    url = reverse("admin:matching_matchingrun_review", args=[run.pk])
    return f"{url}?edit={edit.pk}#proposal-{edit.pk}" if edit else url


# --- start ----------------------------------------------------------------------------------


CLOSE_INTAKE = "programmes.change_cohort"


def start_run(request: HttpRequest, *, site: AdminSite) -> HttpResponse:
    """A run closes the cohort's intake (its proposal is worked out from the answers as they
    are, and must not change under review). While intake is open, starting first shows who
    has not finished and asks to close it; only "Close intake and start matching", posted
    with the list the manager saw, closes it. If someone else joined the unfinished since,
    the page asks again."""
    _require(request, START)
    if request.method == "POST":
        form = _scoped(StartRunForm(request.POST), request)
        if form.is_valid():
            cohort = form.cleaned_data["cohort"]
            protect = form.cleaned_data["protect_worst_off"]
            closing = None
            if cohort.intake_open:
                gaps = cohort_intake_unfinished(cohort=cohort)
                confirmed = request.POST.get("close_intake") == "yes"
                if not confirmed or not gaps.ids <= ids_seen(request.POST.get("unfinished")):
                    return _confirm_close(request, site, cohort, protect, gaps, changed=confirmed)
                if not request.user.has_perm(CLOSE_INTAKE):
                    raise PermissionDenied
            with transaction.atomic():
                if cohort.intake_open:
                    closing = cohort_intake_close(cohort=cohort, by=cast(User, request.user))
                run = services.matching_run_start(
                    cohort=cohort, user=request.user, protect_worst_off=protect
                )
            if closing is not None:
                messages.info(request, intake_closed_message(cohort, closing.withdrawn))
            messages.info(request, f"Matching of {run.cohort} started.")
            return HttpResponseRedirect(_review_url(run))
    else:
        form = _scoped(StartRunForm(initial={"cohort": request.GET.get("cohort")}), request)
    context = {
        **site.each_context(request),
        "title": "Start a matching run",
        "opts": MatchingRun._meta,
        "form": form,
        "protect_defaults": form.protect_defaults,
    }
    return TemplateResponse(request, "admin/matching/matchingrun/start.html", context)


def _confirm_close(
    request: HttpRequest,
    site: AdminSite,
    cohort: Cohort,
    protect: bool,
    gaps: IntakeGaps,
    *,
    changed: bool,
) -> HttpResponse:
    context = {
        **site.each_context(request),
        "title": f"Close the intake of {cohort}?",
        "opts": MatchingRun._meta,
        "cohort": cohort,
        "protect_worst_off": protect,
        "gaps": gaps,
        "seen": ",".join(str(pk) for pk in sorted(gaps.ids)),
        "changed": changed,
        "can_close": request.user.has_perm(CLOSE_INTAKE),
    }
    return TemplateResponse(request, "admin/matching/matchingrun/start_confirm.html", context)


# --- watch ----------------------------------------------------------------------------------


@never_cache
@require_safe
def progress(request: HttpRequest, run_id: int, *, site: AdminSite) -> JsonResponse:
    _require(request)
    run = get_scoped_or_404(
        MatchingRun.objects.only("status", "progress", "stage", "message", "attempts"),
        request,
        "cohort__programme",
        pk=run_id,
    )
    return JsonResponse(
        {
            "status": run.status,
            "status_display": run.get_status_display(),
            "progress": run.progress,
            "stage": run.stage,
            "situation": run.situation,
            "message": run.message,
            "stages": [{"label": label, "state": state} for label, state in run.stages()],
            "finished": run.status not in IN_PROGRESS,
        }
    )


# --- review ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerCheck:
    proposal: ProposedPair
    mentor: Participant
    result: PairCheck

    @property
    def change(self) -> float | None:
        """How much the pair's score would move."""
        if self.result.score is None:
            return None
        return self.result.score - self.proposal.score


@dataclass(frozen=True)
class SwapCheck:
    proposal: ProposedPair
    other: ProposedPair
    first: PairCheck  # proposal's mentee with other's reverse-mentor
    second: PairCheck  # other's mentee with proposal's reverse-mentor

    @property
    def broken(self) -> bool:
        return bool(self.first.broken or self.second.broken)

    @property
    def change(self) -> float | None:
        """How much the two pairs' total would move."""
        if self.first.score is None or self.second.score is None:
            return None
        return self.first.score + self.second.score - self.proposal.score - self.other.score


@never_cache
@require_safe
def review(request: HttpRequest, run_id: int, *, site: AdminSite) -> HttpResponse:
    run = _get_run_for_user(request, run_id)
    try:
        edit_id = int(request.GET.get("edit", ""))
    except ValueError:
        edit_id = None
    return _render_review(request, run, site=site, edit_id=edit_id)


def _render_review(
    request: HttpRequest,
    run: MatchingRun,
    *,
    site: AdminSite,
    edit_id: int | None = None,
    partner_check: PartnerCheck | None = None,
    swap_check: SwapCheck | None = None,
) -> HttpResponse:
    in_progress = run.status in IN_PROGRESS
    # The newest run of the cohort that has not failed decides; an older one is superseded.
    superseded = run.superseded_by()
    editable = run.status == MatchingRun.Status.DONE and superseded is None
    proposals: list[ProposedPair] = []
    waiting = []
    mentors: list[Participant] = []
    rules: dict[tuple[int, int], set[str]] = {}
    if not in_progress:
        proposals = list(
            run.proposals.select_related("mentee__person", "reverse_mentor__person").order_by(
                "-score", "pk"
            )
        )
        waiting = list(
            run.waiting.select_related("participant__person").order_by(
                "participant__role", "participant__person__full_name"
            )
        )
        for mentee_id, mentor_id, kind in PairRule.objects.filter(
            cohort_id=run.cohort_id, kind__in=[PairRule.Kind.LOCKED, PairRule.Kind.EXCLUDED]
        ).values_list("mentee_id", "reverse_mentor_id", "kind"):
            rules.setdefault((mentee_id, mentor_id), set()).add(kind)
    edit = next((p for p in proposals if p.pk == edit_id), None) if editable else None
    if editable and edit is not None:
        taken: dict[int, int] = {}
        for proposal in proposals:
            taken[proposal.reverse_mentor_id] = taken.get(proposal.reverse_mentor_id, 0) + 1
        mentors = list(cohort_mentors(run))
        for mentor in cast("list[WithAnnotations[Participant, PlacesTaken]]", mentors):
            mentor.places_taken = taken.get(mentor.pk, 0)
    notes = _boundaries_notes(request, run, proposals, waiting)
    for entry in cast("list[WithAnnotations[WaitingEntry, Noted]]", waiting):
        entry.note = notes.get(entry.participant_id, "")
    for proposal in cast("list[WithAnnotations[ProposedPair, ProposalNotes]]", proposals):
        proposal.mentee_note = notes.get(proposal.mentee_id, "")
        proposal.mentor_note = notes.get(proposal.reverse_mentor_id, "")
        kinds = rules.get((proposal.mentee.person_id, proposal.reverse_mentor.person_id), set())
        proposal.lock_recorded = PairRule.Kind.LOCKED in kinds
        proposal.exclusion_recorded = PairRule.Kind.EXCLUDED in kinds

    labels = {
        name: cast(Field, MatchingPolicy._meta.get_field(f"weight_{name}")).verbose_name
        for name in DEFAULT_WEIGHTS
    }
    total_weight = sum(max(float(v), 0.0) for v in run.weights.values()) or 1.0
    weights = [
        (labels.get(name, name), float(value), max(float(value), 0.0) / total_weight)
        for name, value in run.weights.items()
    ]
    user = request.user
    context = {
        **site.each_context(request),
        "title": f"Matching of {run.cohort}",
        "subtitle": run.get_status_display(),
        "opts": MatchingRun._meta,
        "run": run,
        "in_progress": in_progress,
        "editable": editable,
        "proposals": proposals,
        "waiting": waiting,
        "weights": weights,
        "superseded": superseded,
        "stages": run.stages(),
        "edit": edit,
        "mentors": mentors,
        "partner_check": partner_check,
        "swap_check": swap_check,
        "can_rule": editable and user.has_perm(RULE),
        "can_approve": editable and user.has_perm(APPROVE),
        "can_rerun": run.status in (MatchingRun.Status.DONE, MatchingRun.Status.FAILED)
        and superseded is None
        and user.has_perm(START),
        "can_start": run.status == MatchingRun.Status.APPROVED and user.has_perm(START),
        "policy_url": _policy_url(run),
    }
    return TemplateResponse(request, "admin/matching/matchingrun/review.html", context)


def _boundaries_notes(
    request: HttpRequest, run: MatchingRun, proposals: list[ProposedPair], waiting: list
) -> dict[int, str]:
    """{participant id: their note for the programme team} for the people in this run, when
    the user manages the run's programme (not any staff user, not a superuser who does not)
    and the note was written under the form that says the programme manager reads it."""
    people = {p.mentee_id for p in proposals} | {p.reverse_mentor_id for p in proposals}
    people |= {entry.participant_id for entry in waiting}
    if not people:
        return {}
    # One query: the join on the programme's managers is the permission check.
    return dict(
        Intake.objects.filter(
            participant__in=people,
            participant__cohort=run.cohort_id,
            participant__cohort__programme__managers=request.user.pk,
            boundaries_text_for_manager=True,
        )
        .exclude(boundaries_text="")
        .values_list("participant_id", "boundaries_text")
    )


def _policy_url(run: MatchingRun) -> str:
    changelist = reverse("admin:matching_matchingpolicy_changelist")
    return f"{changelist}?programme__id__exact={run.cohort.programme_id}"


def _refuse_unless_editable(request: HttpRequest, run: MatchingRun) -> HttpResponse | None:
    """The page's early answer; the services check again under a lock."""
    if run.status != MatchingRun.Status.DONE:
        messages.error(request, NOT_EDITABLE)
        return HttpResponseRedirect(_review_url(run))
    if run.superseded_by() is not None:
        messages.error(request, SUPERSEDED)
        return HttpResponseRedirect(_review_url(run))
    return None


# --- review actions -------------------------------------------------------------------------


@require_POST
def pair_rule(request: HttpRequest, run_id: int, *, site: AdminSite) -> HttpResponse:
    """Lock or exclude a proposed pair for the cohort's next run."""
    run = _get_run_for_user(request, run_id, RULE)
    if refused := _refuse_unless_editable(request, run):
        return refused
    form = PairRuleForm(request.POST, run=run)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return HttpResponseRedirect(_review_url(run))
    proposal = form.cleaned_data["proposal"]
    kind = form.cleaned_data["kind"]
    services.pair_rule_add(
        cohort=run.cohort,
        mentee=proposal.mentee,
        mentor=proposal.reverse_mentor,
        kind=kind,
        user=request.user,
        note=f"From the review of matching run {run.pk}",
    )
    done = "Locked" if kind == PairRule.Kind.LOCKED else "Excluded"
    messages.success(
        request,
        f"{done}: {proposal.mentee.person} and {proposal.reverse_mentor.person}. "
        "Recorded; it applies to the next run.",
    )
    return HttpResponseRedirect(_review_url(run) + f"#proposal-{proposal.pk}")


@require_POST
def change_partner(request: HttpRequest, run_id: int, *, site: AdminSite) -> HttpResponse:
    """Check (nothing saved) or save another reverse-mentor for one mentee."""
    run = _get_run_for_user(request, run_id)
    if refused := _refuse_unless_editable(request, run):
        return refused
    form = ChangePartnerForm(request.POST, run=run)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return HttpResponseRedirect(_review_url(run, edit=form.cleaned_data.get("proposal")))
    proposal = form.cleaned_data["proposal"]
    mentor = form.cleaned_data["mentor"]
    if form.cleaned_data["action"] == "check":
        result = services.pair_check(run=run, mentee=proposal.mentee, mentor=mentor)
        return _render_review(
            request,
            run,
            site=site,
            edit_id=proposal.pk,
            partner_check=PartnerCheck(proposal=proposal, mentor=mentor, result=result),
        )
    try:
        proposal = services.proposal_change_partner(proposal=proposal, mentor=mentor)
    except MatchingError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(_review_url(run, edit=proposal))
    messages.success(
        request,
        f"{proposal.mentee.person} is now proposed with {mentor.person} "
        f"(score {proposal.score:.2f}).",
    )
    return HttpResponseRedirect(_review_url(run) + f"#proposal-{proposal.pk}")


@require_POST
def swap(request: HttpRequest, run_id: int, *, site: AdminSite) -> HttpResponse:
    """Check (nothing saved) or make a swap of two mentees' reverse-mentors."""
    run = _get_run_for_user(request, run_id)
    if refused := _refuse_unless_editable(request, run):
        return refused
    form = SwapForm(request.POST, run=run)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return HttpResponseRedirect(_review_url(run, edit=form.cleaned_data.get("proposal")))
    first, second = form.cleaned_data["proposal"], form.cleaned_data["other"]
    if form.cleaned_data["action"] == "check":
        checks = [
            services.pair_check(run=run, mentee=a.mentee, mentor=b.reverse_mentor)
            for a, b in ((first, second), (second, first))
        ]
        return _render_review(
            request,
            run,
            site=site,
            edit_id=first.pk,
            swap_check=SwapCheck(proposal=first, other=second, first=checks[0], second=checks[1]),
        )
    try:
        services.proposal_swap(first=first, second=second)
    except MatchingError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(_review_url(run, edit=first))
    messages.success(
        request,
        "Swapped: "
        + " and ".join(
            f"{p.mentee.person} with {p.reverse_mentor.person} ({p.score:.2f})"
            for p in (first, second)
        )
        + ".",
    )
    return HttpResponseRedirect(_review_url(run) + f"#proposal-{first.pk}")


@require_POST
def rerun(request: HttpRequest, run_id: int, *, site: AdminSite) -> HttpResponse:
    run = _get_run_for_user(request, run_id, START)
    if run.status not in (MatchingRun.Status.DONE, MatchingRun.Status.FAILED):
        messages.error(request, "Only a finished run that is not yet approved can be rerun.")
        return HttpResponseRedirect(_review_url(run))
    if newer := run.superseded_by():
        messages.error(request, "A newer run of this cohort exists: rerun from there.")
        return HttpResponseRedirect(_review_url(newer))
    if run.cohort.intake_open:
        # Intake was reopened since: closing it again is the manager's decision, on the
        # start page's confirmation.
        start = reverse("admin:matching_matchingrun_start")
        return HttpResponseRedirect(f"{start}?cohort={run.cohort_id}")
    new = services.matching_run_start(
        cohort=run.cohort, user=request.user, protect_worst_off=run.protect_worst_off
    )
    messages.info(request, "A new run started with the current weights and rules.")
    return HttpResponseRedirect(_review_url(new))


@require_POST
def approve(request: HttpRequest, run_id: int, *, site: AdminSite) -> HttpResponse:
    run = _get_run_for_user(request, run_id, APPROVE)
    try:
        pairs = services.matching_run_approve(run=run, user=request.user)
    except MatchingError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(_review_url(run))
    count = len(pairs)
    if count:
        created = f"{count} pair{'s' if count != 1 else ''} created"
        messages.success(request, f"{created}; introductions are being sent.")
    else:
        messages.success(request, "Approved: every proposed pair already existed, so none changed.")
    return HttpResponseRedirect(_review_url(run))

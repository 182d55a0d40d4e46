"""The at-risk queue and the seven-day diagnosis of a cohort, in the admin.

- **The queue** is RiskFlag's change list: open flags by default, the most severe and then
  the oldest first, each with its reason in plain words and the playbook's recommended action.
- **A flag's page** (the change page, replaced) shows the flag, the pair's history (sessions,
  check-ins and their answers, earlier actions) and the actions: send the check-in, pause for
  a month, re-match (through a preview of who would be proposed, and why), end the pair,
  resolve the flag. Every action goes through ``programmes.remediation``; a refusal comes back
  into the page with what was typed, a success goes back to the queue.
- **The diagnosis** (``/admin/programmes/cohort/<id>/diagnosis/``, also as CSV) lays out each
  pair's last seven days and a checklist for the cohort, with what to do next.

Confidentiality: managers see counts, dates, choices and names here, never what a participant
wrote: no session's cancel reason, no pulse's learning or action, no note, no intake text (a
goal counts as set or not, in the database). The notes shown are the managers' own. Every page
costs a fixed number of queries, however many pairs or flags it shows.
"""

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from programmes import remediation
from programmes.admin import CohortFilter, check_permission
from programmes.admin_filters import (
    AllowListedFiltersMixin,
    ChoiceListFilter,
    field_filter_parameters,
)
from programmes.admin_rematch import NOTE_MAX_LENGTH, SIDE_WORD, context_for_flag, rematch_view
from programmes.models import (
    Agreement,
    CheckIn,
    Cohort,
    Meeting,
    Pair,
    PairAction,
    Participant,
    RiskFlag,
    Role,
    evidence_day,
)
from surveys.counts import format_rate, response_rate
from surveys.models import Pulse, PulseRequest

DIAGNOSIS_DAYS = 7
SPONSOR_RECENT_DAYS = 30
# Below this share of pulses answered, the week's figures say little: a measurement gap.
MIN_RESPONSE_RATE = 0.5
NO_ACTION = "No action needed"
CURRENT = (Pair.Status.ACTIVE, Pair.Status.PAUSED)


def _side(value: str) -> str:
    return SIDE_WORD.get(value, "") if value else ""


def _day(value: date | None) -> str:
    return f"{value:%-d %b %Y}" if value else ""


def _local_day(value: datetime | None) -> str:
    return _day(timezone.localdate(value)) if value else ""


# --- Counting pulses without reading them ----------------------------------------------------


def _answered() -> Exists:
    """For a PulseRequest row: its participant has a pulse for its session (as
    surveys.counts counts an answered request)."""
    return Exists(
        Pulse.objects.filter(meeting=OuterRef("meeting"), participant=OuterRef("participant"))
    )


def _requests_per_meeting(*, answered: bool) -> Coalesce:
    rows = PulseRequest.objects.filter(meeting=OuterRef("pk"))
    if answered:
        rows = rows.filter(_answered())
    counted = rows.order_by().values("meeting").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- The queue --------------------------------------------------------------------------------


class FlagStatusFilter(ChoiceListFilter):
    """Open flags unless asked otherwise: the queue is what still needs doing."""

    title = "status"
    parameter_name = "status"
    DEFAULT = "open"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("open", "Open"), ("resolved", "Resolved"), ("all", "All")]

    def value(self) -> str:
        value = super().value()
        return value if value in {"open", "resolved", "all"} else self.DEFAULT

    def choices(self, changelist: Any):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class NoteForm(forms.Form):
    """The manager's own words for ending a pair or resolving a flag. Whether a note is needed
    is the service's rule; the form only keeps it to a sensible length."""

    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args: Any, label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].label = label


@admin.register(RiskFlag)
class RiskFlagAdmin(AllowListedFiltersMixin, admin.ModelAdmin):
    list_display = [
        "severity_badge",
        "pair_names",
        "cohort_name",
        "reason",
        "recommended_action",
        "age",
        "opened",
    ]
    list_display_links = ["pair_names"]
    list_filter = [
        FlagStatusFilter,
        "pair__cohort__programme",
        ("pair__cohort", CohortFilter),
        "rule",
        "severity",
    ]
    # And one pair's flags: the pair list's "open flags" column links here with its id.
    filter_parameters = field_filter_parameters(
        "pair__cohort__programme__id", "pair__cohort__id", "rule", "severity"
    ) | {FlagStatusFilter.parameter_name, "pair__id__exact"}
    list_select_related = [
        "pair__cohort__programme",
        "pair__mentee__person",
        "pair__reverse_mentor__person",
    ]
    search_fields = ["pair__mentee__person__full_name", "pair__reverse_mentor__person__full_name"]
    ordering = ["severity", "opened_at", "pk"]
    actions = None
    list_per_page = 50

    class Media:
        css = {"all": ["programmes/risks.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # flags are opened by the detection (programmes/risks.py)

    def has_delete_permission(self, request: HttpRequest, obj: RiskFlag | None = None) -> bool:
        return False  # resolved, never deleted: the queue's history

    # -- the list's columns

    @admin.display(description="severity", ordering="severity")
    def severity_badge(self, obj: RiskFlag) -> str:
        return format_html(
            '<span class="risk-severity risk-severity-{}">{}</span>',
            obj.get_severity_display().lower(),
            obj.get_severity_display(),
        )

    @admin.display(description="pair", ordering="pair__mentee__person__full_name")
    def pair_names(self, obj: RiskFlag) -> str:
        return f"{obj.pair.mentee.person.full_name} & {obj.pair.reverse_mentor.person.full_name}"

    @admin.display(description="cohort", ordering="pair__cohort__starts_on")
    def cohort_name(self, obj: RiskFlag) -> str:
        return f"{obj.pair.cohort.programme.name} – {obj.pair.cohort.name}"

    @admin.display(description="reason")
    def reason(self, obj: RiskFlag) -> str:
        return obj.reason

    @admin.display(description="recommended action")
    def recommended_action(self, obj: RiskFlag) -> str:
        return obj.recommended_action

    @admin.display(description="age", ordering="opened_at")
    def age(self, obj: RiskFlag) -> str:
        days = ((obj.resolved_at or timezone.now()) - obj.opened_at).days
        return "1 day" if days == 1 else f"{days} days"

    @admin.display(description="opened", ordering="opened_at")
    def opened(self, obj: RiskFlag) -> str:
        return _local_day(obj.opened_at)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        context = {"title": "At-risk queue", "subtitle": None} | (extra_context or {})
        cohort = request.GET.get("pair__cohort__id__exact", "")
        if cohort.isascii() and cohort.isdigit():
            context["diagnosis_url"] = reverse(
                "admin:programmes_cohort_diagnosis", args=[int(cohort)]
            )
        return super().changelist_view(request, context)

    # -- a flag's page

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:flag_id>/rematch/",
                self.admin_site.admin_view(partial(rematch_view, model_admin=self)),
                name="programmes_riskflag_rematch",
            ),
        ]
        return custom + super().get_urls()

    def flag_for(self, request: HttpRequest, flag_id: str | int, *, change: bool) -> RiskFlag:
        """The flag with what its pages show of the pair, if the user may see it (``change``:
        act on it); 404 if there is no such flag."""
        flag = get_object_or_404(
            RiskFlag.objects.select_related(
                "pair__cohort__programme",
                "pair__mentee__person",
                "pair__reverse_mentor__person",
                "pair__replaces__reverse_mentor__person",
                "pair__replaces__mentee__person",
                "resolved_by",
            ),
            pk=flag_id,
        )
        check_permission(self, request, flag, change=change)
        return flag

    def _keeping_filters(self, request: HttpRequest, url: str) -> str:
        """``url`` with the queue's filters, so the way back lands on the same list."""
        context = {"opts": self.opts, "preserved_filters": self.get_preserved_filters(request)}
        return add_preserved_filters(context, url)

    def queue_url(self, request: HttpRequest) -> str:
        return self._keeping_filters(request, reverse("admin:programmes_riskflag_changelist"))

    def page_url(self, request: HttpRequest, name: str, flag: RiskFlag, **query: str) -> str:
        url = reverse(f"admin:programmes_riskflag_{name}", args=[flag.pk])
        if query:
            url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
        return self._keeping_filters(request, url)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        object_id = unquote(object_id)
        post = request.method == "POST"
        try:
            if not (object_id.isascii() and object_id.isdigit()):
                raise Http404
            flag = self.flag_for(request, object_id, change=post)
        except Http404:
            # As the admin does for the change page of any missing object.
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        end_form = NoteForm(prefix="end", label="Why the pair ends")
        resolve_form = NoteForm(prefix="resolve", label="What was done")
        problem = ""
        if post:
            action = request.POST.get("action", "")
            try:
                if action == "end":
                    end_form = NoteForm(request.POST, prefix="end", label="Why the pair ends")
                    done = self._act_with_note(request, flag, end_form, self._end)
                elif action == "resolve":
                    resolve_form = NoteForm(request.POST, prefix="resolve", label="What was done")
                    done = self._act_with_note(request, flag, resolve_form, self._resolve)
                elif action == "checkin":
                    done = self._checkin(request, flag)
                elif action == "pause":
                    done = self._pause(request, flag)
                else:
                    raise ValidationError("Choose one of the actions below.")
            except ValidationError as error:
                problem = " ".join(error.messages)
            else:
                if done:
                    messages.success(request, done)
                    return HttpResponseRedirect(self.queue_url(request))
                problem = "Please correct the note below."
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{flag.get_rule_display()}: {self.pair_names(flag)}",
            "subtitle": None,
            "flag": flag,
            "pair": flag.pair,
            "evidence": evidence_items(flag),
            "history": pair_history(flag.pair),
            "problem": problem,
            "end_form": end_form,
            "resolve_form": resolve_form,
            "can_change": self.has_change_permission(request, flag),
            # A refused form is shown again with what was typed, even if the pair or the flag
            # has moved on meanwhile (ended, resolved by someone else).
            "posted": request.POST.get("action", "") if post else "",
            "queue_url": self.queue_url(request),
            "rematch_url": self.page_url(request, "rematch", flag),
            "rematch_mentor_url": self.page_url(request, "rematch", flag, side=Role.REVERSE_MENTOR),
            "diagnosis_url": reverse(
                "admin:programmes_cohort_diagnosis", args=[flag.pair.cohort_id]
            ),
            "preserved_filters": self.get_preserved_filters(request),
            **context_for_flag(flag),
            **(extra_context or {}),
        }
        return TemplateResponse(
            request,
            "admin/programmes/riskflag/detail.html",
            context,
            status=400 if problem else 200,
        )

    # Each action returns the success message; a ValidationError is the refusal.

    def _act_with_note(self, request: HttpRequest, flag: RiskFlag, form: NoteForm, act) -> str:
        if not form.is_valid():
            return ""
        try:
            return act(request, flag, form.cleaned_data["note"])
        except ValidationError as error:
            form.add_error(None, error)  # a {"note": …} error lands beside the note
            raise

    def _checkin(self, request: HttpRequest, flag: RiskFlag) -> str:
        asked = remediation.pair_send_checkin(pair=flag.pair, by=request.user, flag=flag)
        names = " and ".join(checkin.participant.person.full_name for checkin in asked)
        return f"Check-in sent to {names}. Their answers will show on this flag's page."

    def _pause(self, request: HttpRequest, flag: RiskFlag) -> str:
        pair = remediation.pair_pause_for_month(pair=flag.pair, by=request.user, flag=flag)
        return (
            f"{self.pair_names(flag)} paused until {pair.paused_until:%-d %B %Y}; the pair "
            "picks up again by itself then. The flag stays open until you resolve it."
        )

    def _end(self, request: HttpRequest, flag: RiskFlag, note: str) -> str:
        remediation.pair_end(pair=flag.pair, by=request.user, note=note, flag=flag)
        return f"{self.pair_names(flag)}: the pair has ended and its open flags are resolved."

    def _resolve(self, request: HttpRequest, flag: RiskFlag, note: str) -> str:
        remediation.flag_resolve(flag=flag, by=request.user, note=note)
        return f"Flag resolved: {flag.get_rule_display()}, {self.pair_names(flag)}."


# --- A flag's page: the evidence and the pair's history ---------------------------------------


def evidence_items(flag: RiskFlag) -> list[tuple[str, str]]:
    """The flag's evidence as labelled counts and dates. Only the keys the RiskFlag docstring
    names are shown, so nothing else stored there can reach the page (not the safety
    threshold that flags stored before kept as ``at_most``)."""
    e = flag.evidence or {}

    def day(value: Any) -> str:
        return evidence_day(value, missing="")

    def session(item: dict) -> str:
        said = (
            [Meeting.Status(item["status"]).label.lower()]
            if item.get("status") in (Meeting.Status.values)
            else []
        )
        if item.get("by"):
            said.append(f"by the {_side(item['by'])}")
        return day(item.get("date")) + (f" ({' '.join(said)})" if said else "")

    items: list[tuple[str, str]] = []

    def add(label: str, value: Any) -> None:
        if value not in (None, ""):
            items.append((label, str(value)))

    add("Missed or cancelled in a row", e.get("in_a_row"))
    if e.get("in_window") is not None:
        add(f"Missed or cancelled within {e.get('window_days', '?')} days", e["in_window"])
    add("Days without a held session", e.get("days"))
    add("Last held session", day(e.get("last_held")))
    add("Counted since", day(e.get("since")))
    add("Session of", day(e.get("date")))
    if e.get("side") in Role.values:
        add("Answered by", f"the {_side(e['side'])}")
    if e.get("reverted") is not None:
        add("Executive did most of the teaching", f"{e['reverted']} of {e.get('of', '?')}")
    sessions = [s for s in e.get("sessions") or [] if isinstance(s, dict)]
    if sessions:
        add("Sessions", ", ".join(session(s) for s in sessions))
    return items


@dataclass
class PairHistory:
    sessions: list[Meeting]
    checkins: list[CheckIn]
    actions: list[PairAction]
    flags: list[RiskFlag]


def pair_history(pair: Pair) -> PairHistory:
    """What a manager needs to see before acting, in four queries: the sessions (when, what
    happened, who cancelled or led, the topic, pulses asked and answered: never a cancel
    reason), the check-ins and their answers, earlier actions and all the pair's flags."""
    sessions = list(
        Meeting.objects.filter(pair=pair)
        .only("starts_at", "status", "cancelled_by", "led_by", "topic__title", "pair_id")
        .select_related("topic")
        .annotate(
            pulses_requested=_requests_per_meeting(answered=False),
            pulses_answered=_requests_per_meeting(answered=True),
        )
        .order_by("-starts_at", "-pk")
    )
    checkins = list(
        CheckIn.objects.filter(pair=pair)
        .select_related("participant__person", "flag")
        .order_by("-asked_at", "pk")
    )
    actions = list(
        PairAction.objects.filter(pair=pair)
        .select_related(
            "by", "flag", "new_pair__mentee__person", "new_pair__reverse_mentor__person"
        )
        .order_by("-at", "-pk")
    )
    flags = list(
        RiskFlag.objects.filter(pair=pair).order_by("resolved_at", "severity", "opened_at")
    )
    return PairHistory(sessions=sessions, checkins=checkins, actions=actions, flags=flags)


# --- The seven-day diagnosis of a cohort --------------------------------------------------------


@dataclass
class PairSignals:
    pair: Pair
    held: int = 0
    cancelled_by_mentee: int = 0
    cancelled_by_mentor: int = 0
    missed: int = 0
    not_logged: int = 0
    pulses_requested: int = 0
    pulses_answered: int = 0
    flags: list[RiskFlag] = field(default_factory=list)
    checkins: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        pair = self.pair
        if pair.status == Pair.Status.ENDED:
            return f"Ended {_day(pair.ended_on)}".strip()
        if pair.status == Pair.Status.PAUSED:
            return f"Paused until {_day(pair.paused_until)}" if pair.paused_until else "Paused"
        return pair.get_status_display()

    @property
    def suggested_action(self) -> str:
        return self.flags[0].recommended_action if self.flags else NO_ACTION

    @property
    def pulses(self) -> str:
        return f"{self.pulses_answered} of {self.pulses_requested}"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    findings: list[str]

    @property
    def status(self) -> str:
        return "ok" if self.ok else "check"


@dataclass
class Diagnosis:
    cohort: Cohort
    since: datetime
    until: datetime
    pairs: list[PairSignals]
    checklist: list[Check]


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {many or one + 's'}"


def cohort_diagnosis(cohort: Cohort, *, now: datetime | None = None) -> Diagnosis:
    """Pair by pair, the last seven days' signals and the suggested action, and the cohort's
    checklist, in eight queries however many pairs the cohort has. Pairs ended before the
    seven days are left out of the table (re-matches still count)."""
    now = now or timezone.now()
    since = now - timedelta(days=DIAGNOSIS_DAYS)
    agreed = Agreement.objects.filter(
        pair=OuterRef("pk"), mentee_accepted_at__isnull=False, mentor_accepted_at__isnull=False
    )
    all_pairs = list(
        Pair.objects.filter(cohort=cohort)
        .select_related("mentee__person", "reverse_mentor__person")
        .annotate(
            is_agreed=Exists(agreed),
            current_pledge=Subquery(agreed.order_by("-number").values("pledge")[:1]),
            not_a_good_fit=Exists(
                Pulse.objects.filter(meeting__pair=OuterRef("pk"), good_fit=False)
            ),
            rematch_asked=Exists(
                CheckIn.objects.filter(pair=OuterRef("pk"), choice=CheckIn.Choice.REMATCH)
            ),
        )
        .order_by("mentee__person__full_name", "reverse_mentor__person__full_name", "pk")
    )
    shown = [
        p
        for p in all_pairs
        if p.status != Pair.Status.ENDED or (p.ended_on and p.ended_on >= timezone.localdate(since))
    ]
    signals = {p.pk: PairSignals(pair=p) for p in shown}

    window = Q(starts_at__gt=since, starts_at__lte=now)
    meetings = Meeting.objects.filter(window, pair__cohort=cohort)
    without_pulse = ~Exists(Pulse.objects.filter(meeting=OuterRef("pk")))
    held_without_pulse = 0
    for row in (
        meetings.order_by()
        .values("pair", "status", "cancelled_by")
        .annotate(n=Count("pk"), no_pulse=Count("pk", filter=without_pulse))
    ):
        if row["status"] == Meeting.Status.HELD:
            held_without_pulse += row["no_pulse"]
        found = signals.get(row["pair"])
        if found is None:
            continue
        match row["status"]:
            case Meeting.Status.HELD:
                found.held += row["n"]
            case Meeting.Status.MISSED:
                found.missed += row["n"]
            case Meeting.Status.CANCELLED if row["cancelled_by"] == Role.MENTEE:
                found.cancelled_by_mentee += row["n"]
            case Meeting.Status.CANCELLED:
                found.cancelled_by_mentor += row["n"]
            case Meeting.Status.SCHEDULED:
                found.not_logged += row["n"]

    requested = answered = 0
    for row in (
        PulseRequest.objects.filter(meeting__in=meetings)
        .order_by()
        .values("meeting__pair")
        .annotate(requested=Count("pk"), answered=Count("pk", filter=_answered()))
    ):
        requested += row["requested"]
        answered += row["answered"]
        if found := signals.get(row["meeting__pair"]):
            found.pulses_requested, found.pulses_answered = row["requested"], row["answered"]

    open_flags = list(
        RiskFlag.objects.filter(pair__cohort=cohort, resolved_at__isnull=True).order_by(
            "severity", "opened_at", "pk"
        )
    )
    for flag in open_flags:
        if found := signals.get(flag.pair_id):
            found.flags.append(flag)

    for checkin in (
        CheckIn.objects.filter(pair__cohort=cohort)
        .filter(Q(asked_at__gt=since) | Q(answered_at__gt=since))
        .select_related("participant")
        .order_by("asked_at", "pk")
    ):
        if found := signals.get(checkin.pair_id):
            who = _side(checkin.participant.role).capitalize()
            answer = (
                f"{checkin.get_choice_display()} ({_local_day(checkin.answered_at)})"
                if checkin.choice
                else "no answer yet"
            )
            found.checkins.append(f"{who}: {answer}")

    checklist = _checklist(
        cohort,
        all_pairs,
        now=now,
        requested=requested,
        answered=answered,
        held_without_pulse=held_without_pulse,
        open_flags=open_flags,
    )
    return Diagnosis(
        cohort=cohort, since=since, until=now, pairs=list(signals.values()), checklist=checklist
    )


def _checklist(
    cohort: Cohort,
    pairs: list[Pair],
    *,
    now: datetime,
    requested: int,
    answered: int,
    held_without_pulse: int,
    open_flags: list[RiskFlag],
) -> list[Check]:
    current = [p for p in pairs if p.status in CURRENT]
    scores = [p.score for p in current if p.score is not None]
    unhappy = sum(1 for p in current if p.not_a_good_fit or p.rematch_asked)
    rematches = sum(1 for p in pairs if p.replaces_id)
    mean = f"{sum(scores) / len(scores):.2f}" if scores else "no data"
    matching = Check(
        "Matching quality",
        ok=unhappy == 0,
        findings=[
            f"Mean match score of the current pairs: {mean}.",
            f"{_plural(unhappy, 'current pair')} with a “not a good fit” answer or a re-match "
            "request.",
            f"{_plural(rematches, 're-match', 're-matches')} so far.",
        ],
    )

    has_goal = Q(intake__goal_1__gt="") | Q(intake__goal_2__gt="") | Q(intake__goal_3__gt="")
    people = (
        Participant.objects.filter(cohort=cohort)
        .exclude(status=Participant.Status.WITHDRAWN)
        .aggregate(total=Count("pk"), with_goals=Count("pk", filter=has_goal))
    )
    agreed = sum(1 for p in current if p.is_agreed)
    goals = Check(
        "Goal clarity",
        ok=people["with_goals"] == people["total"] and agreed == len(current),
        findings=[
            f"{people['with_goals']} of {_plural(people['total'], 'participant')} set at least "
            "one goal at intake.",
            f"{agreed} of {_plural(len(current), 'current pair')} agreed their kickoff agreement.",
        ],
    )

    recent = now - timedelta(days=SPONSOR_RECENT_DAYS)
    sponsors = (
        get_user_model()
        .objects.filter(sponsored_programmes=cohort.programme_id, is_active=True)
        .aggregate(total=Count("pk"), recent=Count("pk", filter=Q(last_login__gte=recent)))
    )
    sponsor = Check(
        "Sponsor engagement",
        ok=sponsors["recent"] > 0,
        findings=[
            f"The programme has {_plural(sponsors['total'], 'sponsor')}."
            if sponsors["total"]
            else "The programme has no sponsor.",
            f"{sponsors['recent']} signed in within the last {SPONSOR_RECENT_DAYS} days.",
        ],
    )

    rate = response_rate(submitted=answered, requested=requested)
    measurement = Check(
        "Measurement gaps",
        ok=held_without_pulse == 0 and (rate is None or rate >= MIN_RESPONSE_RATE),
        findings=[
            f"Pulse response rate over the {DIAGNOSIS_DAYS} days: {format_rate(rate)} "
            f"({answered} of {requested} answered).",
            f"{_plural(held_without_pulse, 'held session')} with no pulse from either side.",
        ],
    )

    low_safety = sum(1 for f in open_flags if f.rule == RiskFlag.Rule.LOW_SAFETY)
    no_pledge = sum(1 for p in current if p.current_pledge is False)
    confidentiality = Check(
        "Confidentiality incidents",
        ok=low_safety == 0 and no_pledge == 0,
        findings=[
            f"{_plural(low_safety, 'open low-safety flag')}.",
            f"{_plural(no_pledge, 'current pair')} whose agreement leaves out the "
            "confidentiality pledge.",
        ],
    )
    return [matching, goals, sponsor, measurement, confidentiality]


PAIR_COLUMNS = [
    "Executive",
    "Reverse-mentor",
    "Status",
    "Held",
    "Cancelled by the executive",
    "Cancelled by the reverse-mentor",
    "Missed",
    "Not logged",
    "Pulses requested",
    "Pulses answered",
    "Open flags",
    "Check-in answers",
    "Suggested action",
]


def _cell(value: Any) -> str:
    """A spreadsheet must not run a name as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def diagnosis_csv(diagnosis: Diagnosis) -> HttpResponse:
    cohort = diagnosis.cohort
    filename = f"diagnosis-{cohort.programme.slug}-cohort-{cohort.pk}-{diagnosis.until:%Y-%m-%d}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    writer = csv.writer(response)
    writer.writerow(PAIR_COLUMNS)
    for s in diagnosis.pairs:
        row = [
            s.pair.mentee.person.full_name,
            s.pair.reverse_mentor.person.full_name,
            s.state,
            s.held,
            s.cancelled_by_mentee,
            s.cancelled_by_mentor,
            s.missed,
            s.not_logged,
            s.pulses_requested,
            s.pulses_answered,
            " | ".join(f"{f.get_severity_display()}: {f.reason}" for f in s.flags),
            " | ".join(s.checkins),
            s.suggested_action,
        ]
        writer.writerow([_cell(value) for value in row])
    writer.writerow([])
    writer.writerow(["Check", "Status", "Findings"])
    for check in diagnosis.checklist:
        writer.writerow([check.name, check.status, " ".join(check.findings)])
    return response


def diagnosis_view(
    request: HttpRequest, cohort_id: int, *, model_admin: admin.ModelAdmin
) -> HttpResponse:
    """The seven-day diagnosis page (or CSV with ``?format=csv``), for managers: those who
    may see the cohort and the at-risk flags."""
    cohort = get_object_or_404(Cohort.objects.select_related("programme"), pk=cohort_id)
    flags_admin = model_admin.admin_site._registry[RiskFlag]
    if not (
        model_admin.has_view_permission(request, cohort)
        and flags_admin.has_view_permission(request)
    ):
        raise PermissionDenied
    diagnosis = cohort_diagnosis(cohort)
    if request.GET.get("format") == "csv":
        return diagnosis_csv(diagnosis)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Seven-day diagnosis: {cohort}",
        "subtitle": None,
        "cohort": cohort,
        "diagnosis": diagnosis,
        "csv_url": f"{request.path}?format=csv",
        "queue_url": reverse("admin:programmes_riskflag_changelist")
        + f"?pair__cohort__id__exact={cohort.pk}",
    }
    return TemplateResponse(request, "admin/programmes/diagnosis.html", context)

"""The at-risk queue and the seven-day diagnosis of a cohort, in the admin.

- **The queue** is RiskFlag's change list: open flags by default, the most severe and then
  the oldest first, each with its reason in plain words and the playbook's recommended action.
- **A flag's page** (the change page, replaced) shows the flag, the pair's history (sessions,
  check-ins and their answers, earlier actions) and the actions: send the check-in, pause for
  a month, re-match (through a preview of who would be proposed, and why), end the pair,
  resolve the flag. Every action goes through ``risks.remediation``; a refusal comes back
  into the page with what was typed, a success goes back to the queue.
- **The diagnosis** of a cohort is in risks/admin_diagnosis.py.

Confidentiality: managers see counts, dates, choices and names here, never what a participant
wrote: no session's cancel reason, no pulse's learning or action, no note, no intake text (a
goal counts as set or not, in the database). The notes shown are the managers' own. Every page
costs a fixed number of queries, however many pairs or flags it shows.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from lib.admin import check_permission
from lib.admin_filters import (
    AllowListedFiltersMixin,
    ChoiceListFilter,
    field_filter_parameters,
)
from pairs.models import Meeting, Pair
from programmes.admin import CohortFilter, ProgrammeFilter
from programmes.models import Role
from programmes.scoping import ProgrammeScopedAdmin, get_scoped_or_404
from risks import remediation
from risks.admin_rematch import NOTE_MAX_LENGTH, context_for_flag, rematch_view
from risks.admin_watch import model_lines, watched
from risks.display import local_day, pulse_answered, side_word
from risks.models import CheckIn, PairAction, RiskFlag, evidence_day
from surveys.models import PulseRequest

# --- Counting pulses without reading them ----------------------------------------------------


def _requests_per_meeting(*, answered: bool) -> Coalesce:
    rows = PulseRequest.objects.filter(meeting=OuterRef("pk"))
    if answered:
        rows = rows.filter(pulse_answered())
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
class RiskFlagAdmin(ProgrammeScopedAdmin, AllowListedFiltersMixin, admin.ModelAdmin):
    # "N of M selected" counts only the filtered rows: the total of the whole table would be
    # a second count over every row the user may see, on every page (docs/performance.md).
    show_full_result_count = False
    programme_path = "pair__cohort__programme"
    list_display = [
        "severity_badge",
        "pair_names",
        "cohort_name",
        "reason",
        "recommended_action",
        "risk_score",
        "age",
        "opened",
    ]
    list_display_links = ["pair_names"]
    list_filter = [
        FlagStatusFilter,
        ("pair__cohort__programme", ProgrammeFilter),
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
        "pair__risk",
    ]
    search_fields = ["pair__mentee__person__full_name", "pair__reverse_mentor__person__full_name"]
    # The most severe first; within a severity, the highest risk score (risks/score.py), then
    # the oldest.
    ordering = [
        "severity",
        F("pair__risk__probability").desc(nulls_last=True),  # type: ignore[list-item]
        "opened_at",
        "pk",
    ]
    actions = None
    list_per_page = 50

    class Media:
        css = {"all": ["programmes/risks.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # flags are opened by the detection (risks/detection.py)

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

    @admin.display(description="risk score", ordering="pair__risk__probability")
    def risk_score(self, obj: RiskFlag) -> str:
        risk = getattr(obj.pair, "risk", None)
        return f"{round(risk.probability * 100)}%" if risk is not None else "–"

    @admin.display(description="age", ordering="opened_at")
    def age(self, obj: RiskFlag) -> str:
        days = ((obj.resolved_at or timezone.now()) - obj.opened_at).days
        return "1 day" if days == 1 else f"{days} days"

    @admin.display(description="opened", ordering="opened_at")
    def opened(self, obj: RiskFlag) -> str:
        return local_day(obj.opened_at)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        context = {
            "title": "At-risk queue",
            "subtitle": None,
            "watched": watched(request),
            "model_lines": model_lines(request),
        } | (extra_context or {})
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
                name="risks_riskflag_rematch",
            ),
        ]
        return custom + super().get_urls()

    def flag_for(self, request: HttpRequest, flag_id: str | int, *, change: bool) -> RiskFlag:
        """The flag with what its pages show of the pair, if the user may see it (``change``:
        act on it); 404 if there is no such flag."""
        flag = get_scoped_or_404(
            RiskFlag.objects.select_related(
                "pair__cohort__programme",
                "pair__mentee__person",
                "pair__reverse_mentor__person",
                "pair__replaces__reverse_mentor__person",
                "pair__replaces__mentee__person",
                "resolved_by",
            ),
            request,
            self.programme_path,
            pk=flag_id,
        )
        check_permission(self, request, flag, change=change)
        return flag

    def _keeping_filters(self, request: HttpRequest, url: str) -> str:
        """``url`` with the queue's filters, so the way back lands on the same list."""
        context: dict[str, Any] = {
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
        }
        return add_preserved_filters(context, url)

    def queue_url(self, request: HttpRequest) -> str:
        return self._keeping_filters(request, reverse("admin:risks_riskflag_changelist"))

    def page_url(self, request: HttpRequest, name: str, flag: RiskFlag, **query: str) -> str:
        url = reverse(f"admin:risks_riskflag_{name}", args=[flag.pk])
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
            "can_rematch": flag.pair.status in Pair.OPEN_STATUSES,
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
            "admin/risks/riskflag/detail.html",
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
        asked = remediation.pair_send_checkin(
            pair=flag.pair, by=cast(User, request.user), flag=flag
        )
        names = " and ".join(checkin.participant.person.full_name for checkin in asked)
        return f"Check-in sent to {names}. Their answers will show on this flag's page."

    def _pause(self, request: HttpRequest, flag: RiskFlag) -> str:
        pair = remediation.pair_pause_for_month(
            pair=flag.pair, by=cast(User, request.user), flag=flag
        )
        return (
            f"{self.pair_names(flag)} paused until {pair.paused_until:%-d %B %Y}; the pair "
            "picks up again by itself then. The flag stays open until you resolve it."
        )

    def _end(self, request: HttpRequest, flag: RiskFlag, note: str) -> str:
        remediation.pair_end(pair=flag.pair, by=cast(User, request.user), note=note, flag=flag)
        return f"{self.pair_names(flag)}: the pair has ended and its open flags are resolved."

    def _resolve(self, request: HttpRequest, flag: RiskFlag, note: str) -> str:
        remediation.flag_resolve(flag=flag, by=cast(User, request.user), note=note)
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
            said.append(f"by the {side_word(item['by'])}")
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
        add("Answered by", f"the {side_word(e['side'])}")
    if e.get("reverted") is not None:
        add("Executive did most of the teaching", f"{e['reverted']} of {e.get('of', '?')}")
    sessions = [s for s in e.get("sessions") or [] if isinstance(s, dict)]
    if sessions:
        add("Sessions", ", ".join(session(s) for s in sessions))
    return items


@dataclass
class PairHistory:
    sessions: Sequence[Meeting]
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

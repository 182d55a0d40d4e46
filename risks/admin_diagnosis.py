"""The seven-day diagnosis of a cohort in the admin (``/admin/programmes/cohort/<id>/diagnosis/``,
also as CSV): each pair's last seven days and a checklist for the cohort, with what to do next.
Split from the at-risk queue (risks/admin.py), whose reasons and counting it shares.

Confidentiality: counts, dates, choices and names, never what a participant wrote (a goal
counts as set or not, in the database). A fixed number of queries however many pairs.
"""

import csv
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from audit.records import audit_record
from lib.figures import NO_DATA
from lib.spreadsheets import csv_cell
from pairs.models import Agreement, Meeting, Pair
from programmes.models import Cohort, Participant, Role
from programmes.scoping import get_scoped_or_404
from risks.display import local_day, pulse_answered, short_day, side_word
from risks.models import CheckIn, RiskFlag
from surveys.counts import format_rate, response_rate
from surveys.models import Pulse, PulseRequest

DIAGNOSIS_DAYS = 7
SPONSOR_RECENT_DAYS = 30
# Below this share of pulses answered, the week's figures say little: a measurement gap.
MIN_RESPONSE_RATE = 0.5
NO_ACTION = "No action needed"


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
            return f"Ended {short_day(pair.ended_on)}".strip()
        if pair.status == Pair.Status.PAUSED:
            return f"Paused until {short_day(pair.paused_until)}" if pair.paused_until else "Paused"
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
    all_pairs = _load_pairs(cohort)
    shown = [
        p
        for p in all_pairs
        if p.status != Pair.Status.ENDED or (p.ended_on and p.ended_on >= timezone.localdate(since))
    ]
    signals = {p.pk: PairSignals(pair=p) for p in shown}

    window = Q(starts_at__gt=since, starts_at__lte=now)
    meetings = Meeting.objects.filter(window, pair__cohort=cohort)
    held_without_pulse = _count_meetings(meetings, signals)
    requested, answered = _count_pulses(meetings, signals)
    open_flags = _add_open_flags(cohort, signals)
    _add_checkins(cohort, since, signals)

    checklist = _checklist(
        cohort,
        cast("list[WithAnnotations[Pair, PairChecks]]", all_pairs),  # annotated above
        now=now,
        requested=requested,
        answered=answered,
        held_without_pulse=held_without_pulse,
        open_flags=open_flags,
    )
    return Diagnosis(
        cohort=cohort, since=since, until=now, pairs=list(signals.values()), checklist=checklist
    )


def _load_pairs(cohort: Cohort) -> list[Pair]:
    """Every pair of the cohort, ended ones too, with what the checklist needs annotated, so
    it costs one query however many pairs."""
    agreed = Agreement.objects.filter(
        pair=OuterRef("pk"), mentee_accepted_at__isnull=False, mentor_accepted_at__isnull=False
    )
    return list(
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


def _count_meetings(meetings: QuerySet[Meeting], signals: dict[int, PairSignals]) -> int:
    """Each shown pair's sessions by outcome, in one grouped query; returns the cohort's held
    sessions with no pulse, which count for pairs not shown too."""
    without_pulse = ~Exists(Pulse.objects.filter(meeting=OuterRef("pk")))
    held_without_pulse = 0
    for row in (
        meetings.order_by()
        .values("pair", "status", "cancelled_by")
        .annotate(n=Count("pk"), no_pulse=Count("pk", filter=without_pulse))
    ):
        if row["status"] == Meeting.Status.HELD:
            held_without_pulse += row["no_pulse"]
        if found := signals.get(row["pair"]):
            _add_meetings(found, row["status"], row["cancelled_by"], row["n"])
    return held_without_pulse


def _add_meetings(found: PairSignals, status: str, cancelled_by: str, n: int) -> None:
    """A cancellation counts against the side that cancelled; a scheduled session in the past
    was never logged."""
    match status:
        case Meeting.Status.HELD:
            found.held += n
        case Meeting.Status.MISSED:
            found.missed += n
        case Meeting.Status.CANCELLED if cancelled_by == Role.MENTEE:
            found.cancelled_by_mentee += n
        case Meeting.Status.CANCELLED:
            found.cancelled_by_mentor += n
        case Meeting.Status.SCHEDULED:
            found.not_logged += n


def _count_pulses(meetings: QuerySet[Meeting], signals: dict[int, PairSignals]) -> tuple[int, int]:
    """Pulses requested and answered, per shown pair and for the whole cohort (whose response
    rate counts pairs not shown too)."""
    requested = answered = 0
    for row in (
        PulseRequest.objects.filter(meeting__in=meetings)
        .order_by()
        .values("meeting__pair")
        .annotate(requested=Count("pk"), answered=Count("pk", filter=pulse_answered()))
    ):
        requested += row["requested"]
        answered += row["answered"]
        if found := signals.get(row["meeting__pair"]):
            found.pulses_requested, found.pulses_answered = row["requested"], row["answered"]
    return requested, answered


def _add_open_flags(cohort: Cohort, signals: dict[int, PairSignals]) -> list[RiskFlag]:
    """Most severe first, so a pair's first flag gives its suggested action; returns all the
    cohort's open flags for the checklist."""
    open_flags = list(
        RiskFlag.objects.filter(pair__cohort=cohort, resolved_at__isnull=True).order_by(
            "severity", "opened_at", "pk"
        )
    )
    for flag in open_flags:
        if found := signals.get(flag.pair_id):
            found.flags.append(flag)
    return open_flags


def _add_checkins(cohort: Cohort, since: datetime, signals: dict[int, PairSignals]) -> None:
    """Check-ins asked or answered in the seven days, each as which side chose what and when
    (or that it is still unanswered)."""
    for checkin in (
        CheckIn.objects.filter(pair__cohort=cohort)
        .filter(Q(asked_at__gt=since) | Q(answered_at__gt=since))
        .select_related("participant")
        .order_by("asked_at", "pk")
    ):
        if found := signals.get(checkin.pair_id):
            who = side_word(checkin.participant.role).capitalize()
            answer = (
                f"{checkin.get_choice_display()} ({local_day(checkin.answered_at)})"
                if checkin.choice
                else "no answer yet"
            )
            found.checkins.append(f"{who}: {answer}")


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class PairChecks(TypedDict):  # annotated by cohort_diagnosis
        is_agreed: bool
        current_pledge: bool | None
        not_a_good_fit: bool
        rematch_asked: bool


def _checklist(
    cohort: Cohort,
    pairs: "list[WithAnnotations[Pair, PairChecks]]",
    *,
    now: datetime,
    requested: int,
    answered: int,
    held_without_pulse: int,
    open_flags: list[RiskFlag],
) -> list[Check]:
    current = [p for p in pairs if p.status in Pair.OPEN_STATUSES]
    scores = [p.score for p in current if p.score is not None]
    unhappy = sum(1 for p in current if p.not_a_good_fit or p.rematch_asked)
    rematches = sum(1 for p in pairs if p.replaces_id)
    mean = f"{sum(scores) / len(scores):.2f}" if scores else NO_DATA
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
        writer.writerow([csv_cell(str(value)) for value in row])
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
    cohort = get_scoped_or_404(
        Cohort.objects.select_related("programme"), request, "programme", pk=cohort_id
    )
    flags_admin = model_admin.admin_site._registry[RiskFlag]
    if not (
        model_admin.has_view_permission(request, cohort)
        and flags_admin.has_view_permission(request)
    ):
        raise PermissionDenied
    diagnosis = cohort_diagnosis(cohort)
    if request.GET.get("format") == "csv":
        response = diagnosis_csv(diagnosis)
        audit_record(
            AuditEntry.Event.EXPORT_DOWNLOADED,
            by=request.user,
            target=cohort,
            programme=cohort.programme,
            changes={"export": ("", f"seven-day diagnosis to {diagnosis.until:%Y-%m-%d}")},
        )
        return response
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": f"Seven-day diagnosis: {cohort}",
        "subtitle": None,
        "cohort": cohort,
        "diagnosis": diagnosis,
        "csv_url": f"{request.path}?format=csv",
        "queue_url": reverse("admin:risks_riskflag_changelist")
        + f"?pair__cohort__id__exact={cohort.pk}",
        "backtest_url": reverse("admin:programmes_cohort_backtest", args=[cohort.pk]),
    }
    return TemplateResponse(request, "admin/risks/diagnosis.html", context)

"""At-risk detection: which of the rules of docs/at-risk.md hold for each open pair, with its
programme's thresholds, written as RiskFlag rows (the model says what evidence each rule keeps).

The timing rules (missed sessions, no session lately, no pulse) are replaced by the risk
score (risks/score.py): an active pair whose score reaches "act" has a "likely to lapse"
(FADING) flag, one per quiet spell (counted from its last held session); every active pair's
latest score is kept as its PairRisk row, which the queue sorts by and lists at "watch".
Stored flags of the old timing rules still show; no new ones are opened.

``risks_detect`` runs hourly for every open pair (beat, ``risks.tasks.detect_risks``) and
for one pair after a pulse or a session change (the ``pair_activity`` signal, connected in
``risks/apps.py``). It evaluates the rules in a fixed number of queries per programme,
however many pairs it has, then writes only for the pairs where something changed, each under
its own lock. For each rule that holds it keeps one *occurrence*, its ``condition``:

- no flag has this condition and no flag of the rule is open: a flag is opened;
- a flag of the rule is open with another condition: that flag is updated (a newer occurrence
  of the same trouble never opens a second flag);
- a flag, open or resolved, has this condition already: nothing (a resolved condition never
  opens again; the next occurrence does).

Flags are never closed here: a manager resolves them. Running it twice changes nothing the
second time. An answer older than one already flagged for the same rule never opens or moves a
flag: a manager who lowers the safety threshold would otherwise see the flag move back to an
older answer still under it, and so learn both answers' values. Only counts, dates, session
and pulse ids are read or kept, never what anyone wrote and never a safety answer's value.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from pairs.models import Meeting, Pair, PairQuerySet
from programmes.models import Programme, Role
from risks.models import PairRisk, RiskFlag
from risks.score import ACT, RiskScore, model_for, score_of
from risks.signals import Signals, signals_for
from surveys.models import Pulse

Rule = RiskFlag.Rule

# The timing rules the score replaced: their stored flags still show, none is opened.
RETIRED: frozenset[Rule] = frozenset({Rule.MISSED, Rule.NO_SESSION, Rule.NO_PULSE})
# Which rules are looked at for a pair in each status.
RULES_FOR: dict[str, frozenset[Rule]] = {
    Pair.Status.ACTIVE: frozenset(
        {Rule.FADING, Rule.LOW_SAFETY, Rule.REVERSION, Rule.NOT_A_GOOD_FIT}
    ),
    Pair.Status.PAUSED: frozenset({Rule.LOW_SAFETY, Rule.NOT_A_GOOD_FIT}),
}


@dataclass(frozen=True)
class Finding:
    """One occurrence of a rule on a pair."""

    rule: str
    condition: str
    evidence: dict[str, Any]


@dataclass(frozen=True)
class _Session:
    id: int
    status: str
    starts_at: datetime
    ends_at: datetime
    reverted: bool


@dataclass(frozen=True)
class _Answer:
    id: int
    starts_at: datetime  # of the session it is about
    side: str
    low_safety: bool
    not_a_good_fit: bool


# A rule's occurrence: its condition and evidence, or None when the rule does not hold.
Occurrence = tuple[str, dict[str, Any]] | None


@dataclass
class _Known:
    """A pair's flags: every condition ever flagged per rule, and the open flag per rule."""

    conditions: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    open: dict[str, tuple[int, str]] = field(default_factory=dict)  # rule: (pk, condition)


# --- Evaluation: a fixed number of queries for any number of pairs -----------------------------


def _pairs_in(programme: Programme, pairs: PairQuerySet) -> QuerySet[Pair]:
    return pairs.open().filter(cohort__programme=programme)


@dataclass(frozen=True)
class _Evaluation:
    findings: dict[int, list[Finding]]
    known: dict[int, _Known]
    scores: dict[int, RiskScore]


def _evaluate(
    programme: Programme, pairs: list[Pair], scope: QuerySet[Pair], now: datetime
) -> _Evaluation:
    """The findings, known flags and scores of ``pairs``, all in ``scope`` (the same pairs,
    as a subquery). Eight queries: the started sessions, the answers that matter, the flags,
    the learned model and the score's signals (risks/signals.py)."""
    at_most = programme.risk_safety_at_most
    zone = ZoneInfo(programme.time_zone)
    for pair in pairs:
        pair.cohort.programme = programme  # the signals read the programme's zone and target
    signals = signals_for(pairs, on=now.astimezone(zone).date(), as_logged=False)
    model = model_for(programme.pk)
    scores = {pk: score_of(its, model) for pk, its in signals.items()}
    sessions: dict[int, list[_Session]] = defaultdict(list)
    for pk, pair_id, status, starts_at, minutes, reverted in (
        Meeting.objects.filter(pair__in=scope.values("pk"), starts_at__lte=now)
        .annotate(
            reverted=Exists(
                Pulse.objects.filter(meeting=OuterRef("pk"), teaching__gte=Pulse.REVERTED_FROM)
            ),
        )
        .order_by("pair_id", "starts_at", "pk")
        .values_list(
            "pk",
            "pair_id",
            "status",
            "starts_at",
            "duration_minutes",
            "reverted",
        )
    ):
        sessions[pair_id].append(
            _Session(
                id=pk,
                status=status,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                reverted=reverted,
            )
        )

    mentees = {pair.pk: pair.mentee_id for pair in pairs}
    answers: dict[int, list[_Answer]] = defaultdict(list)
    # Two yes/no facts per answer, worked out by the database: the safety value itself is
    # never read, nor anything anyone wrote.
    for pk, pair_id, starts_at, participant_id, low, unfit in (
        Pulse.objects.filter(meeting__pair__in=scope.values("pk"))
        .filter(Q(safety__lte=at_most) | Q(good_fit=False))
        .annotate(
            low=ExpressionWrapper(Q(safety__lte=at_most), output_field=BooleanField()),
            unfit=ExpressionWrapper(Q(good_fit=False), output_field=BooleanField()),
        )
        .order_by("pk")
        .values_list(
            "pk", "meeting__pair_id", "meeting__starts_at", "participant_id", "low", "unfit"
        )
    ):
        side = Role.MENTEE if participant_id == mentees.get(pair_id) else Role.REVERSE_MENTOR
        answers[pair_id].append(
            _Answer(
                id=pk,
                starts_at=starts_at,
                side=side,
                low_safety=bool(low),
                not_a_good_fit=bool(unfit),
            )
        )

    known: dict[int, _Known] = defaultdict(_Known)
    for pk, pair_id, rule, condition, resolved_at in RiskFlag.objects.filter(
        pair__in=scope.values("pk")
    ).values_list("pk", "pair_id", "rule", "condition", "resolved_at"):
        known[pair_id].conditions[rule].add(condition)
        if resolved_at is None:
            known[pair_id].open[rule] = (pk, condition)

    findings = {
        pair.pk: _findings(
            programme,
            pair,
            sessions[pair.pk],
            answers[pair.pk],
            (signals[pair.pk], scores[pair.pk]),
            zone=zone,
        )
        for pair in pairs
    }
    return _Evaluation(findings=findings, known=known, scores=scores)


def _day(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).date().isoformat()


def _findings(
    programme: Programme,
    pair: Pair,
    sessions: list[_Session],
    answers: list[_Answer],
    scored: tuple[Signals, RiskScore],
    *,
    zone: ZoneInfo,
) -> list[Finding]:
    """``sessions``: the pair's started sessions, oldest first; ``answers``: its low-safety
    and not-a-good-fit answers, in the order they were given; ``scored``: its signals and
    score."""
    rules = RULES_FOR.get(pair.status, frozenset())
    checks = (
        (Rule.FADING, lambda: _fading(*scored)),
        (Rule.LOW_SAFETY, lambda: _low_safety(answers, zone)),
        (Rule.REVERSION, lambda: _reversion(programme, sessions, zone)),
        (Rule.NOT_A_GOOD_FIT, lambda: _not_a_good_fit(answers, zone)),
    )
    found = []
    for rule, check in checks:
        if rule in rules:
            evidence = check()
            if evidence is not None:
                condition, details = evidence
                found.append(Finding(rule=rule, condition=condition, evidence=details))
    return found


def _fading(signals: Signals, score: RiskScore) -> Occurrence:
    """The score at "act": one occurrence per quiet spell, named by the day it counts from."""
    if score.level != ACT:
        return None
    since = signals.quiet_since.isoformat()
    return f"since:{since}", {
        "probability": score.probability,
        "reasons": score.reasons,
        "last_held": signals.last_held.isoformat() if signals.last_held else None,
        "since": since,
    }


def _low_safety(answers: list[_Answer], zone) -> Occurrence:
    low = [a for a in answers if a.low_safety]
    if not low:
        return None
    answer = low[-1]
    # Never the threshold: see the module's docstring.
    return f"pulse:{answer.id}", {"date": _day(answer.starts_at, zone), "side": answer.side}


def _reversion(programme: Programme, sessions: list[_Session], zone) -> Occurrence:
    held = [s for s in sessions if s.status == Meeting.Status.HELD]
    looked_at = held[-programme.risk_reversion_window :]
    reverted = [s for s in looked_at if s.reverted]
    if len(reverted) < programme.risk_reversion_count:
        return None
    return f"meeting:{reverted[-1].id}", {
        "reverted": len(reverted),
        "of": len(looked_at),
        "sessions": [{"id": s.id, "date": _day(s.starts_at, zone)} for s in reverted],
    }


def _not_a_good_fit(answers: list[_Answer], zone) -> Occurrence:
    unfit = [a for a in answers if a.not_a_good_fit]
    if not unfit:
        return None
    answer = unfit[-1]
    return f"pulse:{answer.id}", {"date": _day(answer.starts_at, zone), "side": answer.side}


def _pulse_id(condition: str) -> int | None:
    kind, _, pk = condition.partition(":")
    return int(pk) if kind == "pulse" and pk.isdigit() else None


def _to_write(findings: list[Finding], known: _Known) -> list[Finding]:
    """The findings not flagged yet, leaving out an answer older than one already flagged
    for its rule (see the module's docstring)."""
    written = []
    for finding in findings:
        if finding.condition in known.conditions[finding.rule]:
            continue
        answer = _pulse_id(finding.condition)
        flagged = [_pulse_id(c) or 0 for c in known.conditions[finding.rule]]
        if answer is not None and any(answer < pk for pk in flagged):
            continue
        written.append(finding)
    return written


# --- Detection ----------------------------------------------------------------------------------


def risks_detect(
    *, now: datetime | None = None, pair_ids: list[int] | None = None
) -> dict[str, int]:
    """Open or update the flags of every open pair (or of ``pair_ids`` only, if open); see
    the module's rules. Returns {"opened": n, "updated": n}.

    One query for the pairs, then three per programme (their started sessions, the answers
    that matter, their flags), however many pairs; a pair with something to write is then
    locked and evaluated again alone before anything is written."""
    now = now or timezone.now()
    pairs = Pair.objects.all()
    if pair_ids is not None:
        pairs = pairs.filter(pk__in=pair_ids)
    by_programme: dict[int, list[Pair]] = defaultdict(list)
    programmes: dict[int, Programme] = {}
    for pair in pairs.open().select_related("cohort__programme").order_by("pk"):
        programme = pair.cohort.programme
        programmes.setdefault(programme.pk, programme)
        by_programme[programme.pk].append(pair)

    counts = {"opened": 0, "updated": 0}
    for programme_id, its_pairs in by_programme.items():
        programme = programmes[programme_id]
        found = _evaluate(programme, its_pairs, _pairs_in(programme, pairs), now)
        _keep_scores(its_pairs, found.scores, now)
        findings, known = found.findings, found.known
        for pair in its_pairs:
            if _to_write(findings[pair.pk], known[pair.pk]):
                opened, updated = _write(programme, pair.pk, now)
                counts["opened"] += opened
                counts["updated"] += updated
    return counts


def _write(programme: Programme, pair_id: int, now: datetime) -> tuple[int, int]:
    """Under the pair's row lock, evaluate the pair again (another run may have written in
    between, or the pair changed) and write what it still needs. Returns (opened, updated).

    On SQLite the lock is a no-op; a concurrent run that wrote the same flag first trips a
    unique constraint, and this run leaves the pair to it."""
    try:
        with transaction.atomic():
            pair = (
                Pair.objects.open()
                .select_for_update(of=("self",))
                .select_related("cohort")
                .filter(pk=pair_id)
                .first()
            )
            if pair is None:
                return 0, 0
            scope = Pair.objects.filter(pk=pair_id)
            found = _evaluate(programme, [pair], scope, now)
            known = found.known[pair.pk]
            return _apply(pair, _to_write(found.findings[pair.pk], known), known, now)
    except IntegrityError:
        return 0, 0


def _apply(pair: Pair, findings: list[Finding], known: _Known, now: datetime) -> tuple[int, int]:
    opened = updated = 0
    for finding in findings:
        flag = known.open.get(finding.rule)
        # The open flag takes the newer occurrence, unless a manager has resolved it in the
        # meantime: the occurrence then opens a flag of its own.
        if flag is not None and _update(flag[0], finding, now):
            updated += 1
            continue
        RiskFlag.objects.create(
            pair=pair,
            rule=finding.rule,
            severity=RiskFlag.SEVERITY[Rule(finding.rule)],
            condition=finding.condition,
            evidence=finding.evidence,
            opened_at=now,
            updated_at=now,
        )
        opened += 1
    return opened, updated


def _update(flag_id: int, finding: Finding, now: datetime) -> bool:
    return (
        RiskFlag.objects.filter(pk=flag_id, resolved_at__isnull=True).update(
            condition=finding.condition, evidence=finding.evidence, updated_at=now
        )
        == 1
    )


def _keep_scores(pairs: list[Pair], scores: dict[int, RiskScore], now: datetime) -> None:
    """Keep each active pair's latest score (PairRisk), writing only those that changed, and
    drop the scores of paused pairs (a pause is not a lapse). Three queries at most, however
    many pairs."""
    active = {p.pk for p in pairs if p.status == Pair.Status.ACTIVE}
    paused = [p.pk for p in pairs if p.pk not in active]
    if paused:
        PairRisk.objects.filter(pair__in=paused).delete()
    kept = {row.pair_id: row for row in PairRisk.objects.filter(pair__in=active)}
    new, changed = [], []
    for pk in sorted(active):
        score = scores[pk]
        row = kept.get(pk)
        if row is None:
            new.append(
                PairRisk(
                    pair_id=pk,
                    probability=score.probability,
                    level=score.level,
                    reasons=score.reasons,
                    computed_at=now,
                )
            )
        elif (row.probability, row.level, row.reasons) != (
            score.probability,
            score.level,
            score.reasons,
        ):
            row.probability, row.level, row.reasons = score.probability, score.level, score.reasons
            row.computed_at = now
            changed.append(row)
    PairRisk.objects.bulk_create(new, ignore_conflicts=True)
    if changed:
        PairRisk.objects.bulk_update(changed, ["probability", "level", "reasons", "computed_at"])

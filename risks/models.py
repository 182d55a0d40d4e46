"""At-risk flags, the check-ins that ask a pair how it is going, and what managers did about
a flag."""

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone

from pairs.models import Meeting, Pair
from programmes.models import Participant, Role


class CheckIn(models.Model):
    """The neutral question asked of each participant after two missed or cancelled sessions
    in a row: can you continue, or should we re-match you or pause for a month? One per
    participant and triggering session (the second of the two), so a scan run twice asks
    once. Only the latest answer is kept; what an answer did to the pair is said where it is
    done (risks/checkins.py)."""

    class Choice(models.TextChoices):
        CONTINUE = "continue", "I can continue"
        REMATCH = "rematch", "Re-match me"
        PAUSE = "pause", "Pause for one month"

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="checkins")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="checkins")
    trigger = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="checkins",
        help_text="The second of the two missed or cancelled sessions (none when a manager "
        "sent the check-in from an at-risk flag).",
    )
    flag = models.ForeignKey(
        "RiskFlag",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checkins",
        help_text="The at-risk flag a manager sent this check-in from.",
    )
    asked_at = models.DateTimeField("asked", default=timezone.now)
    choice = models.CharField("answer", max_length=10, choices=Choice, blank=True)
    answered_at = models.DateTimeField("answered", null=True, blank=True)

    class Meta:
        db_table = "programmes_checkin"  # made by programmes before the move
        ordering = ["pair", "-asked_at", "pk"]
        verbose_name = "check-in"
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "trigger"], name="checkin_once_per_trigger"
            ),
            models.UniqueConstraint(fields=["participant", "flag"], name="checkin_once_per_flag"),
        ]

    def __str__(self) -> str:
        return f"Check-in of {self.participant.person} ({self.asked_at:%Y-%m-%d})"


def evidence_day(value: object, *, missing: str = "?") -> str:
    """A date kept in a flag's evidence (ISO, in the programme's zone) as pages show it;
    ``missing`` when there is none or it is not a date."""
    try:
        return date.fromisoformat(value).strftime("%-d %b %Y")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return missing


class RiskFlag(models.Model):
    """An at-risk flag on a pair: one of DESIGN.md's rules held, with the programme's
    thresholds. Opened by risks/detection.py, open until a manager resolves it.

    ``condition`` names this occurrence of the rule (for example the session that made two
    missed in a row), so the same condition never opens a second flag, even after the first
    is resolved; while a flag is open, a newer occurrence of its rule updates it instead of
    opening another. ``evidence`` holds counts, dates and session ids only, never what anyone
    wrote and never a safety answer's value:

    - missed: ``in_a_row`` (int or null), ``in_window``, ``window_days``, ``sessions``
      (``[{"id", "date", "status", "by"}]``, ``by`` the side that cancelled or "");
    - no_session: ``days``, ``last_held`` (date or null), ``since`` (date), ``resumed_on``
      (date or null: set when the count starts from the end of a pause);
    - no_pulse: ``sessions`` (``[{"id", "date"}]``, the held sessions with no pulse);
    - low_safety: ``date`` (of the session), ``side`` (who answered); never the threshold,
      which would state the answer once a manager moves it to 1 (flags stored before this
      may still hold it as ``at_most``: it is never shown);
    - reversion: ``reverted``, ``of``, ``sessions`` (``[{"id", "date"}]``);
    - not_a_good_fit: ``date`` (of the first session), ``side`` (who answered);
    - fading: ``probability`` (0..1), ``reasons`` (plain words with counts and dates, made
      by risks/score.py from the signals), ``last_held`` (date or null). Opened at the
      score's "act" level (risks/detection.py); "missed", "no_session" and "no_pulse" are
      no longer opened (their stored flags still show);
    - needs_partner: ``date`` (of the re-match), ``side`` (who was left without a partner).
      Opened on the ended pair by a re-match (risks/remediation.py), never by the
      detection.

    Dates are ISO strings (YYYY-MM-DD) in the programme's time zone."""

    class Rule(models.TextChoices):
        MISSED = "missed", "Missed or cancelled sessions"
        NO_SESSION = "no_session", "No session held lately"
        NO_PULSE = "no_pulse", "No pulse for the last held sessions"
        LOW_SAFETY = "low_safety", "Low psychological safety"
        REVERSION = "reversion", "Roles reverting"
        NOT_A_GOOD_FIT = "not_a_good_fit", "Not a good fit"
        NEEDS_PARTNER = "needs_partner", "Left without a partner"
        FADING = "fading", "Likely to lapse"

    class Severity(models.IntegerChoices):
        HIGH = 1, "High"
        MEDIUM = 2, "Medium"
        LOW = 3, "Low"

    SEVERITY = {
        Rule.LOW_SAFETY: Severity.HIGH,
        Rule.NOT_A_GOOD_FIT: Severity.HIGH,
        Rule.MISSED: Severity.MEDIUM,
        Rule.NO_SESSION: Severity.MEDIUM,
        Rule.REVERSION: Severity.MEDIUM,
        Rule.NO_PULSE: Severity.LOW,
        Rule.NEEDS_PARTNER: Severity.MEDIUM,
        Rule.FADING: Severity.MEDIUM,
    }
    # The playbook: what a manager should do first about each rule.
    PLAYBOOK = {
        Rule.MISSED: "Send the check-in: ask both whether they can continue, or would rather "
        "be re-matched or pause for a month.",
        Rule.NO_SESSION: "Send the check-in; if diaries are the problem, pause the pair for a "
        "month rather than let it fade.",
        Rule.NO_PULSE: "Ask the reverse-mentor how the sessions are going and remind both that "
        "the pulse takes a minute; check the sessions are being logged.",
        Rule.LOW_SAFETY: "Contact the person who answered, privately and never through their "
        "partner; offer a re-match or a pause.",
        Rule.REVERSION: "Share the role cards again and remind both that the reverse-mentor "
        "leads; suggest the next topic from the road map.",
        Rule.NOT_A_GOOD_FIT: "Re-match: end this pair and propose a new partner.",
        Rule.NEEDS_PARTNER: "Find them a new partner (re-match), or leave them on the waiting "
        "list for the cohort's next matching run.",
        Rule.FADING: "Send the check-in: ask both whether they can continue, or would rather "
        "be re-matched or pause for a month; if diaries are the problem, suggest booking the "
        "next session now.",
    }

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="risk_flags")
    rule = models.CharField(max_length=20, choices=Rule)
    severity = models.PositiveSmallIntegerField(choices=Severity)
    condition = models.CharField(max_length=100)
    evidence = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution_note = models.TextField(
        blank=True, help_text="The manager's own words on what was done."
    )

    class Meta:
        db_table = "programmes_riskflag"  # made by programmes before the move
        ordering = ["severity", "opened_at", "pk"]
        verbose_name = "at-risk flag"
        constraints = [
            models.UniqueConstraint(
                fields=["pair", "rule", "condition"], name="riskflag_condition_once"
            ),
            models.UniqueConstraint(
                fields=["pair", "rule"],
                condition=models.Q(resolved_at__isnull=True),
                name="riskflag_one_open_per_rule",
            ),
        ]
        indexes = [models.Index(fields=["resolved_at", "severity", "opened_at"])]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.pair}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def recommended_action(self) -> str:
        return self.PLAYBOOK[self.Rule(self.rule)]

    @property
    def reason(self) -> str:
        """The rule as it held, in plain words from the evidence: counts and dates only."""
        if self.rule == self.Rule.FADING:
            return self._fading_reason()
        return self._rule_reason()

    def _rule_reason(self) -> str:
        e = self.evidence
        day = evidence_day

        def sessions(count: int) -> str:
            return "1 session" if count == 1 else f"{count} sessions"

        latest = day(e["sessions"][-1]["date"]) if e.get("sessions") else "?"
        match self.rule:
            case self.Rule.MISSED if e.get("in_a_row"):
                return (
                    f"The last {sessions(e['in_a_row'])} did not happen (missed or cancelled), "
                    f"the latest on {latest}."
                )
            case self.Rule.MISSED:
                return (
                    f"{sessions(e.get('in_window', 0))} missed or cancelled in the last "
                    f"{e.get('window_days', '?')} days."
                )
            case self.Rule.NO_SESSION if e.get("resumed_on"):
                return (
                    f"No session held in the {e.get('days')} days since the pair came back "
                    f"from a pause on {day(e['resumed_on'])}."
                )
            case self.Rule.NO_SESSION if e.get("last_held"):
                return (
                    f"No session held for {e.get('days')} days (the last on {day(e['last_held'])})."
                )
            case self.Rule.NO_SESSION:
                return f"No session held since the pair started on {day(e.get('since'))}."
            case self.Rule.NO_PULSE:
                return (
                    f"Nobody answered the pulse for the last "
                    f"{sessions(len(e.get('sessions', [])))} held (the latest on {latest})."
                )
            case self.Rule.LOW_SAFETY:
                who = "the executive" if e.get("side") == Role.MENTEE else "the reverse-mentor"
                # Never a value nor the threshold (at_most, in flags stored before).
                return f"A low safety answer from {who}, about the session of {day(e.get('date'))}."
            case self.Rule.REVERSION:
                return (
                    f"The executive did most of the teaching in {e.get('reverted')} of the last "
                    f"{sessions(e.get('of', 0))} held."
                )
            case self.Rule.NOT_A_GOOD_FIT:
                who = "The executive" if e.get("side") == Role.MENTEE else "The reverse-mentor"
                return (
                    f'{who} answered "not a good fit" after the first session '
                    f"({day(e.get('date'))})."
                )
            case self.Rule.NEEDS_PARTNER:
                who = "The executive" if e.get("side") == Role.MENTEE else "The reverse-mentor"
                return (
                    f"{who} was left without a partner by the re-match of {day(e.get('date'))} "
                    "and is back on the waiting list."
                )
        return self.get_rule_display()

    def _fading_reason(self) -> str:
        e = self.evidence
        chance = round(float(e.get("probability") or 0) * 100)
        said = "; ".join(str(r) for r in e.get("reasons") or [])
        head = f"Likely to lapse ({chance}% by the risk score)"
        return f"{head}: {said}." if said else f"{head}."


class PairAction(models.Model):
    """What was done about a pair and by whom: a manager's remediation action from the
    at-risk queue, or the system's (``by`` empty). The audit trail of the queue."""

    class Kind(models.TextChoices):
        CHECKIN = "checkin", "Check-in sent"
        PAUSE = "pause", "Paused for a month"
        REMATCH = "rematch", "Re-matched"
        END = "end", "Pair ended"
        RESOLVE = "resolve", "Flag resolved"

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="actions")
    flag = models.ForeignKey(
        RiskFlag, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    kind = models.CharField(max_length=10, choices=Kind)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True, help_text="The manager's own words.")
    new_pair = models.ForeignKey(
        Pair,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a re-match: the pair proposed in its place.",
    )

    class Meta:
        db_table = "programmes_pairaction"  # made by programmes before the move
        ordering = ["pair", "-at", "-pk"]
        verbose_name = "pair action"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d %H:%M})"


class RiskModel(models.Model):
    """A programme's learned weights for the risk score (risks/score.py), refitted nightly
    on the ended pairs of its organisation's earlier cohorts (risks/learning.py). No row: the
    default weights."""

    programme = models.OneToOneField(
        "programmes.Programme", on_delete=models.CASCADE, related_name="risk_model"
    )
    weights = models.JSONField(default=dict)
    fitted_at = models.DateTimeField()
    pairs_used = models.PositiveIntegerField(default=0)
    lapsed_used = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "risk model"

    def __str__(self) -> str:
        return f"Risk model of {self.programme_id} ({self.pairs_used} pairs)"


class PairRisk(models.Model):
    """A pair's latest risk score, kept by the detection (risks/detection.py) so the queue
    sorts by it and shows the pairs to watch without scoring every pair on every page."""

    pair = models.OneToOneField(Pair, on_delete=models.CASCADE, related_name="risk")
    probability = models.FloatField()
    level = models.CharField(max_length=5)
    reasons = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = "pair risk score"
        indexes = [models.Index(fields=["level", "probability"])]

    def __str__(self) -> str:
        return f"Risk of pair {self.pair_id}: {self.level}"

from typing import NamedTuple

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from matching.engine import DEFAULT_WEIGHTS
from programmes.models import Cohort, Participant, Person, Programme


def _weight(name: str, label: str) -> models.FloatField:
    return models.FloatField(
        label,
        default=DEFAULT_WEIGHTS[name],
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )


class MatchingPolicy(models.Model):
    """How a programme's matching weighs each criterion, and its options. Weights are
    relative: they are scaled to sum to one."""

    programme = models.OneToOneField(
        Programme, on_delete=models.CASCADE, related_name="matching_policy"
    )
    weight_objectives = _weight("objectives", "learning objectives met")
    weight_availability = _weight("availability", "shared hours in the week")
    weight_time_zone = _weight("time_zone", "close time zones")
    weight_style = _weight("style", "communication and feedback style")
    weight_mode = _weight("mode", "meeting mode")
    weight_departments = _weight("departments", "different departments")
    allow_without_shared_time = models.BooleanField(
        "allow pairs with no shared hour", default=False
    )
    protect_worst_off = models.BooleanField(
        default=False,
        help_text="First make the lowest pair score as high as possible, then the total.",
    )

    class Meta:
        verbose_name_plural = "matching policies"

    def __str__(self) -> str:
        return f"Matching policy of {self.programme}"

    @property
    def weights(self) -> dict[str, float]:
        return {name: getattr(self, f"weight_{name}") for name in DEFAULT_WEIGHTS}


class PairRule(models.Model):
    """A manager's (or participant's) ruling on one possible pair.

    Excluded and locked apply to one cohort's matching; blocked applies to the two people
    for good, in every cohort.
    """

    class Kind(models.TextChoices):
        EXCLUDED = "excluded", "Excluded"
        LOCKED = "locked", "Locked"
        BLOCKED = "blocked", "Blocked for good"

    kind = models.CharField(max_length=10, choices=Kind)
    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, null=True, blank=True, related_name="pair_rules"
    )
    mentee = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    reverse_mentor = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Two constraints, not one with nulls_distinct=False: SQLite (the embedded default)
            # does not support that option and Django would skip the whole constraint there.
            # A unique constraint treats NULLs as distinct, so blocks (cohort NULL) need their
            # own, conditional one.
            models.UniqueConstraint(
                fields=["kind", "cohort", "mentee", "reverse_mentor"],
                condition=models.Q(cohort__isnull=False),
                name="pair_rule_once",
            ),
            models.UniqueConstraint(
                fields=["kind", "mentee", "reverse_mentor"],
                condition=models.Q(cohort__isnull=True),
                name="pair_rule_once_for_good",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="blocked") | models.Q(cohort__isnull=False),
                name="pair_rule_cohort_unless_blocked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.mentee} & {self.reverse_mentor}"


class Stage(NamedTuple):
    label: str
    percent: int


# What a run passes through, in order; the progress page lists them and ticks them off.
STAGES = (
    Stage("Loading intakes", 10),
    Stage("Scoring every possible pair", 25),
    # One stage: the engine checks feasibility inside its solve.
    Stage("Checking feasibility and finding the best matching", 45),
    Stage("Explaining each pair", 80),
    Stage("Saving the proposal", 95),
)
# A run whose worker stopped is handed out again this many times in all, then failed.
MAX_ATTEMPTS = 3


class MatchingRunQuerySet(models.QuerySet):
    def deciding(self, cohort_id: int) -> "MatchingRunQuerySet":
        """The runs of a cohort that can still decide its pairs, newest first: a failed run
        decides nothing, so it supersedes nobody."""
        return (
            self.filter(cohort_id=cohort_id).exclude(status="failed").order_by("-created_at", "-pk")
        )


class MatchingRun(models.Model):
    """One matching of a cohort. A worker claims a queued run with a conditional UPDATE and
    holds it under a lease it renews at every stage; beat's sweep hands a run again when its
    message was lost (the broker was down) or its lease ran out (the worker died), and fails
    it after MAX_ATTEMPTS. Only the newest run of a cohort that has not failed can be
    approved."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready for review"
        FAILED = "failed", "Failed"
        APPROVED = "approved", "Approved"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="matching_runs")
    weights = models.JSONField()
    protect_worst_off = models.BooleanField(default=False)
    allow_without_shared_time = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True, help_text="What went wrong, or what to know.")
    started_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was last handed to the task queue."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="How many times a worker has taken it up."
    )
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A running worker owns the run until then."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    total_score = models.FloatField(null=True, blank=True)
    lowest_score = models.FloatField(null=True, blank=True)
    matched_count = models.PositiveIntegerField(default=0)
    waiting_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = MatchingRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep: queued runs, and running ones whose lease ran out.
            models.Index(fields=["status", "lease_until"], name="matching_run_sweep"),
        ]

    def __str__(self) -> str:
        return f"Matching of {self.cohort} ({self.created_at:%Y-%m-%d %H:%M})"

    def superseded_by(self) -> "MatchingRun | None":
        """The newest run of the cohort that has not failed, if it started after this one."""
        newest = (
            MatchingRun.objects.deciding(self.cohort_id)
            .only("pk", "status", "created_at", "cohort_id")
            .first()
        )
        if newest is None or (newest.created_at, newest.pk) <= (self.created_at, self.pk):
            return None
        return newest

    @property
    def situation(self) -> str:
        """What is happening to the run, in the manager's words."""
        if self.status == self.Status.QUEUED:
            if self.attempts:
                said = (
                    "Restarted after a worker stopped "
                    f"(attempt {self.attempts + 1} of {MAX_ATTEMPTS}): waiting for a worker."
                )
            else:
                said = "Queued: waiting for a worker."
            return f"{said} {self.message}" if self.message else said
        if self.status == self.Status.RUNNING:
            stage = self.stage or "Starting"
            if self.attempts > 1:
                return (
                    f"{stage} (restarted after a worker stopped: "
                    f"attempt {self.attempts} of {MAX_ATTEMPTS})."
                )
            return f"{stage}."
        if self.status == self.Status.FAILED:
            return f"Failed: {self.message}"
        return self.get_status_display() + "."

    def stages(self) -> list[tuple[str, str]]:
        """[(label, "done" | "current" | "to do")] for the progress page."""
        finished = self.status in (self.Status.DONE, self.Status.APPROVED)
        labels = [stage.label for stage in STAGES]
        current = labels.index(self.stage) if self.stage in labels else -1
        if self.status == self.Status.QUEUED:
            current = -1
        return [
            (
                label,
                "done"
                if finished or index < current
                else "current"
                if index == current
                else "to do",
            )
            for index, label in enumerate(labels)
        ]


class ProposedPair(models.Model):
    run = models.ForeignKey(MatchingRun, on_delete=models.CASCADE, related_name="proposals")
    mentee = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    reverse_mentor = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    criteria = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    not_best = models.TextField(blank=True)
    locked = models.BooleanField(default=False)
    changed_by_manager = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["run", "mentee"], name="proposal_mentee_once"),
        ]

    def __str__(self) -> str:
        return f"{self.mentee.person} & {self.reverse_mentor.person} ({self.score:.2f})"


class WaitingEntry(models.Model):
    """Someone the run could not place, and why."""

    run = models.ForeignKey(MatchingRun, on_delete=models.CASCADE, related_name="waiting")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField()

    class Meta:
        verbose_name_plural = "waiting list"
        constraints = [
            models.UniqueConstraint(fields=["run", "participant"], name="waiting_once_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.participant.person}: {self.reason}"

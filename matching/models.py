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
            models.UniqueConstraint(
                fields=["kind", "cohort", "mentee", "reverse_mentor"], name="pair_rule_once"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="blocked") | models.Q(cohort__isnull=False),
                name="pair_rule_cohort_unless_blocked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.mentee} & {self.reverse_mentor}"


class MatchingRun(models.Model):
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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Matching of {self.cohort} ({self.created_at:%Y-%m-%d %H:%M})"


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

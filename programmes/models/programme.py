"""Programmes, their key skills and topic road map, and their cohorts."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from lib.zones import default_time_zone, validate_time_zone


class Programme(models.Model):
    """An organisation's reverse-mentoring initiative."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        INTAKE_OPEN = "intake_open", "Intake open"
        MATCHING = "matching", "Matching"
        RUNNING = "running", "Running"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    purpose = models.TextField(
        help_text="Why the organisation runs this programme, in a few sentences participants "
        "and sponsors will read."
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.DRAFT)
    sessions_per_month_target = models.PositiveSmallIntegerField(
        "target held sessions per pair per month",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(8)],
    )
    time_zone = models.CharField(
        "reporting time zone",
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text="The calendar months of the KPIs and the sponsors' status are this zone's "
        "(a session at 23:30 on the 31st belongs to the month it was in here).",
    )
    # KPI targets for the sponsors' status page (DESIGN.md: "a programme has KPI targets").
    # Shares are whole percentages; "at most" targets are met by staying at or below them.
    target_notes_logged = models.PositiveSmallIntegerField(
        "notes logged target (%)", default=80, validators=[MaxValueValidator(100)]
    )
    target_action_commitment = models.PositiveSmallIntegerField(
        "action commitment target (%)", default=60, validators=[MaxValueValidator(100)]
    )
    target_action_follow_through = models.PositiveSmallIntegerField(
        "action follow-through target (%)", default=50, validators=[MaxValueValidator(100)]
    )
    target_pulse_response_rate = models.PositiveSmallIntegerField(
        "pulse response rate target (%)", default=70, validators=[MaxValueValidator(100)]
    )
    target_cancellation_rate = models.PositiveSmallIntegerField(
        "cancellation rate at most (%)", default=20, validators=[MaxValueValidator(100)]
    )
    target_reversion_rate = models.PositiveSmallIntegerField(
        "reversion rate at most (%)", default=20, validators=[MaxValueValidator(100)]
    )
    target_nps = models.SmallIntegerField(
        "programme NPS target",
        default=30,
        validators=[MinValueValidator(-100), MaxValueValidator(100)],
    )
    target_confidence_change = models.DecimalField(
        "confidence change target (points on the 1–5 scale)",
        max_digits=2,
        decimal_places=1,
        default=Decimal("0.5"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("4"))],
    )
    min_group_size = models.PositiveSmallIntegerField(
        "minimum group size for anonymised reporting",
        default=5,
        validators=[MinValueValidator(2), MaxValueValidator(50)],
        help_text="Sponsor pages suppress any figure computed from fewer people than this.",
    )
    # At-risk thresholds (DESIGN.md's defaults); each flag names the one it tripped.
    risk_missed_in_a_row = models.PositiveSmallIntegerField(
        "missed or cancelled sessions in a row", default=2, validators=[MinValueValidator(1)]
    )
    risk_missed_in_window = models.PositiveSmallIntegerField(
        "missed or cancelled sessions within the window",
        default=2,
        validators=[MinValueValidator(1)],
    )
    risk_window_days = models.PositiveSmallIntegerField(
        "window for missed sessions (days)", default=30, validators=[MinValueValidator(1)]
    )
    risk_days_without_session = models.PositiveSmallIntegerField(
        "days without a held session", default=30, validators=[MinValueValidator(1)]
    )
    risk_held_without_pulse = models.PositiveSmallIntegerField(
        "last held sessions with no pulse", default=2, validators=[MinValueValidator(1)]
    )
    risk_safety_at_most = models.PositiveSmallIntegerField(
        "psychological-safety answer at or below",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    risk_reversion_count = models.PositiveSmallIntegerField(
        "reverted sessions", default=2, validators=[MinValueValidator(1)]
    )
    risk_reversion_window = models.PositiveSmallIntegerField(
        "… among the last held sessions", default=3, validators=[MinValueValidator(1)]
    )
    sponsors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="sponsored_programmes", blank=True
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="managed_programmes", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(risk_reversion_count__lte=models.F("risk_reversion_window")),
                name="programme_reversion_count_within_window",
                violation_error_message="Reverted sessions cannot exceed the sessions looked at.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class KeySkill(models.Model):
    """A skill whose confidence participants rate at intake and at the end."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="key_skills")
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["programme", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                "programme", Lower("name"), name="keyskill_unique_name_per_programme"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Topic(models.Model):
    """One broad topic of a programme's road map, in the order the programme suggests."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="topics")
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["programme", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                "programme", Lower("title"), name="topic_unique_title_per_programme"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Cohort(models.Model):
    """One wave of a programme, with its own dates (a pilot usually runs for 90 days)."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        INTAKE = "intake", "Intake"
        MATCHING = "matching", "Matching"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="cohorts")
    name = models.CharField(max_length=120)
    starts_on = models.DateField()
    ends_on = models.DateField()
    status = models.CharField(max_length=20, choices=Status, default=Status.PLANNED)
    # Who closed intake and when (programmes.services.cohort_intake_close); empty while open.
    intake_closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    intake_closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Raised each time intake reopens with fresh invitations: the intake e-mails' outbox keys
    # carry it, so the new round's invitation and reminders are not taken for the old ones.
    intake_round = models.PositiveSmallIntegerField(default=0, editable=False)

    OPEN_FOR_INTAKE = frozenset({Status.PLANNED, Status.INTAKE})

    class Meta:
        ordering = ["programme", "starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="cohort_unique_name"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")),
                name="cohort_ends_after_it_starts",
                violation_error_message="A cohort must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} – {self.name}"

    @property
    def length_in_days(self) -> int:
        return (self.ends_on - self.starts_on).days

    @property
    def intake_open(self) -> bool:
        """Intakes can be filled in and changed: the cohort is planned or taking intakes.
        Closing intake (by decision, or when a matching run starts) moves it to matching."""
        return self.status in self.OPEN_FOR_INTAKE

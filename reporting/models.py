"""KPI snapshots, success stories and what sponsors are asked for."""

from django.conf import settings
from django.db import models

from pairs.models import Pair
from programmes.models import Cohort, Programme


class KpiSnapshot(models.Model):
    """One figure of DESIGN.md's "numbers every part must agree on", for one calendar month
    (in the programme's time zone) of one cohort, or of the whole programme when ``cohort``
    is empty. Written by reporting/kpis.py; recomputing replaces a scope's rows with equal
    ones. ``value`` is None when there is nothing to compute it from ("no data", never 0).

    ``numerator`` and ``denominator`` are what the value was computed from, so figures add up
    across cohorts; ``people`` is how many distinct participants the figure is computed from
    (each figure its own: see reporting/kpis.py), which sponsor pages compare with the
    smallest group they may show."""

    class Kpi(models.TextChoices):
        SESSION_FREQUENCY = "session_frequency", "Session frequency"
        NOTES_LOGGED = "notes_logged", "Notes logged"
        ACTION_COMMITMENT = "action_commitment", "Action commitment"
        ACTION_FOLLOW_THROUGH = "action_follow_through", "Action follow-through"
        PULSE_RESPONSE_RATE = "pulse_response_rate", "Pulse response rate"
        CANCELLATION_RATE = "cancellation_rate", "Cancellation rate"
        CONFIDENCE_CHANGE = "confidence_change", "Confidence change"
        NPS = "nps", "Programme NPS"
        REVERSION_RATE = "reversion_rate", "Reversion rate"
        AT_RISK_PAIRS = "at_risk_pairs", "At-risk pairs"
        TOPIC_COVERAGE = "topic_coverage", "Topic coverage"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="kpi_snapshots")
    cohort = models.ForeignKey(
        Cohort, on_delete=models.CASCADE, null=True, blank=True, related_name="kpi_snapshots"
    )
    month = models.DateField(help_text="The first day of the calendar month.")
    kpi = models.CharField(max_length=30, choices=Kpi)
    # "" for the figure itself; a breakdown otherwise: "mentee" or "reverse_mentor" (who
    # cancelled), "skill:<id>" (confidence change), "topic:<id>" (topic coverage).
    part = models.CharField(max_length=40, blank=True)
    value = models.FloatField(null=True, blank=True)
    numerator = models.FloatField(default=0)
    denominator = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)
    # For a running total (kpis.CUMULATIVE): the people whose answers moved it this month.
    people_changed = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "programmes_kpisnapshot"  # made by programmes before the move
        ordering = ["programme", "cohort", "month", "kpi", "part"]
        verbose_name = "KPI snapshot"
        # kpis_due's "when was it last computed" reads one entry of this, not every month's
        # rows of the programme.
        indexes = [models.Index(fields=["programme", "computed_at"], name="kpisnapshot_computed")]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "month", "kpi", "part"],
                condition=models.Q(cohort__isnull=True),
                name="kpisnapshot_once_per_programme_month",
            ),
            models.UniqueConstraint(
                fields=["cohort", "month", "kpi", "part"],
                condition=models.Q(cohort__isnull=False),
                name="kpisnapshot_once_per_cohort_month",
            ),
        ]

    def __str__(self) -> str:
        scope = self.cohort.name if self.cohort else "all cohorts"
        part = f" ({self.part})" if self.part else ""
        return f"{self.get_kpi_display()}{part}, {scope}, {self.month:%B %Y}"


class SuccessStory(models.Model):
    """A short story of what a pair achieved, written by a manager with names and identifying
    details taken out. It may appear on sponsor pages only once the manager has marked it
    anonymised and both participants have consented through their pair page; changing the
    text asks them again."""

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="stories")
    title = models.CharField(max_length=120)
    body = models.TextField(
        help_text="Anonymised: no names, teams or details that would identify either person."
    )
    anonymised = models.BooleanField(
        "I have removed names and identifying details",
        default=False,
        help_text="Participants are asked to consent only once this is ticked.",
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    mentee_consent_at = models.DateTimeField(null=True, blank=True, editable=False)
    reverse_mentor_consent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "programmes_successstory"  # made by programmes before the move
        ordering = ["-created_at"]
        verbose_name_plural = "success stories"

    def __str__(self) -> str:
        return self.title

    @property
    def publishable(self) -> bool:
        return (
            self.anonymised
            and self.mentee_consent_at is not None
            and self.reverse_mentor_consent_at is not None
        )


class SponsorAsk(models.Model):
    """The short "what we need from you" line a manager writes for a programme's sponsors
    each month: it appears on that month's status page and in its e-mail."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="sponsor_asks")
    month = models.DateField(help_text="The first day of the month it is for.")
    text = models.CharField(
        "what we need from you",
        max_length=300,
        help_text="One or two sentences, e.g. “Please mention the programme at the March town "
        "hall, and nudge the two executives who have cancelled twice.” No names of participants.",
    )
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "programmes_sponsorask"  # made by programmes before the move
        ordering = ["programme", "-month"]
        verbose_name = "sponsor ask"
        constraints = [
            models.UniqueConstraint(fields=["programme", "month"], name="sponsorask_once_a_month"),
        ]

    def __str__(self) -> str:
        return f"{self.programme}, {self.month:%B %Y}"

    def clean(self) -> None:
        # Stored as the month's first day, whatever day was picked.
        if self.month:
            self.month = self.month.replace(day=1)

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _time_zones():
        raise ValidationError(
            "“%(value)s” is not a time zone we know. Use a name such as Europe/London or "
            "America/New_York.",
            code="unknown_time_zone",
            params={"value": value},
        )


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
    min_group_size = models.PositiveSmallIntegerField(
        "minimum group size for anonymised reporting",
        default=5,
        validators=[MinValueValidator(2), MaxValueValidator(50)],
        help_text="Sponsor pages suppress any figure computed from fewer people than this.",
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


class Person(models.Model):
    """Someone in the organisation's directory. Their manager gives the reporting line that
    matching must never pair inside."""

    full_name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    job_title = models.CharField(max_length=200, blank=True)
    department = models.CharField(max_length=120, blank=True)
    manager = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    language = models.CharField(
        max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="person_unique_email_ci",
                violation_error_message="Someone in the directory already has this e-mail.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

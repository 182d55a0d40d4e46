"""The organisation's own settings: one row for the whole deployment, which only organisation
administrators change (programmes/admin_organisation.py)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# Anonymised figures are never computed from fewer people than this, whatever anyone sets.
SMALLEST_GROUP = 2


class OrganisationSettings(models.Model):
    """Organisation-wide defaults. There is one row, created by the migration that made the
    table (from the MAX_MENTORING_LOAD and SPONSOR_MIN_GROUP settings); its primary key is
    always 1 (:meth:`load`), so a second one cannot be added."""

    SINGLETON_PK = 1

    max_mentoring_load = models.PositiveSmallIntegerField(
        "most pairs one reverse-mentor may hold",
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Across every programme at once: the same few under-represented colleagues "
        "otherwise get asked again and again. Matching never gives anyone more.",
    )
    min_group_size = models.PositiveSmallIntegerField(
        "minimum group size for anonymised reporting",
        validators=[MinValueValidator(SMALLEST_GROUP), MaxValueValidator(50)],
        help_text="Sponsor pages and e-mails suppress any figure computed from fewer people "
        "than this. A programme may ask for more, never fewer.",
    )

    class Meta:
        verbose_name = "organisation settings"
        verbose_name_plural = "organisation settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pk=1), name="organisation_settings_single_row"
            ),
        ]

    def __str__(self) -> str:
        return "Organisation settings"

    @classmethod
    def load(cls) -> "OrganisationSettings":
        """The one row; made from the settings' defaults if it is missing (a database
        flushed by a test, say)."""
        row, _ = cls.objects.get_or_create(pk=cls.SINGLETON_PK, defaults=defaults())
        return row


def defaults() -> dict[str, int]:
    """The row's initial values: the deployment's settings (README, "Configuration")."""
    return {
        "max_mentoring_load": settings.MAX_MENTORING_LOAD,
        "min_group_size": max(SMALLEST_GROUP, settings.SPONSOR_MIN_GROUP),
    }

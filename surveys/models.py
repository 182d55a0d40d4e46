from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from programmes.models import KeySkill, Participant


class ConfidenceRating(models.Model):
    """A participant's confidence in one of the programme's key skills, 1 to 5: the baseline
    at intake, then ratings from pulses and at the end. Confidence change compares the latest
    with the baseline."""

    class Context(models.TextChoices):
        INTAKE = "intake", "Intake baseline"
        PULSE = "pulse", "After a session"
        END = "end", "End of cohort"

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="confidence_ratings"
    )
    key_skill = models.ForeignKey(KeySkill, on_delete=models.CASCADE, related_name="ratings")
    value = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    context = models.CharField(max_length=10, choices=Context)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["participant", "key_skill", "recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "key_skill"],
                condition=models.Q(context="intake"),
                name="confidence_one_baseline_per_skill",
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=1, value__lte=5), name="confidence_value_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key_skill}: {self.value} ({self.get_context_display()})"

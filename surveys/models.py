from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

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


class LinkRequest(models.Model):
    """One use of the "send me my links again" page, known address or not.

    The rows are the rate limiter's memory (kept in the database, since several web processes
    answer the page) and the send task's work list. Over-limit attempts are recorded once per
    window, marked ``rate_limited``, so managers can see that someone hit the limit without
    an attacker being able to fill the table.

    Retention: a row holds an e-mail and an IP address, so it should be kept only while it
    serves the limit and a short audit period (about 30 days). Pruning belongs with the
    notifications work; until then a manager can delete old rows in the admin.
    """

    email = models.EmailField(max_length=254, help_text="As typed, stripped and lower-cased.")
    person = models.ForeignKey(
        "programmes.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="link_requests",
        help_text="Who the address belongs to, if anyone.",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    rate_limited = models.BooleanField(
        default=False, help_text="Refused for asking too often; nothing was sent."
    )
    sent_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the send task handled the request. It sends nothing to an unknown "
        "address or to someone with no current place in a programme.",
    )

    class Meta:
        ordering = ["-requested_at"]
        indexes = [
            # The two rate-limit counts: "this address (or this IP) in the last hour".
            models.Index(fields=["email", "requested_at"], name="linkrequest_email_recent"),
            models.Index(fields=["ip_address", "requested_at"], name="linkrequest_ip_recent"),
        ]

    def __str__(self) -> str:
        return f"Links for {self.email} at {self.requested_at:%Y-%m-%d %H:%M}"

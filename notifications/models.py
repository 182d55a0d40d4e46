from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """One message to one recipient: the outbox row every e-mail of the programme goes
    through. It is written in the same transaction as the change that causes it, so it exists
    if and only if the change does; a task sends it after commit, and beat's sweep sends any
    the broker lost. The unique ``key`` makes asking twice for the same message a no-op, and
    sending claims the row first, so it goes out once.

    The row keeps ids, never the message: the text is rendered when it is sent (with fresh
    links and the recipient's current time zone), and nothing private is stored twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Not needed any more"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=40)
    key = models.CharField(
        max_length=200, unique=True, help_text="Names the message; the same key is sent once."
    )
    to_email = models.EmailField(max_length=254)
    person = models.ForeignKey(
        "programmes.Person",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    # Filled when the message is asked, from what it is about (``Kind.programme_path``); none
    # for a message about no one programme. Its managers see it in the outbox, and it is sent
    # in its programme's wording. A deleted programme leaves its messages to the
    # organisation administrators (the record of what was sent stays).
    programme = models.ForeignKey(
        "programmes.Programme",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    data = models.JSONField(
        default=dict, blank=True, help_text="Ids and choices the message is built from."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    not_before = models.DateTimeField(
        default=timezone.now, help_text="Held until then: a sensible hour where they live."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A send in progress owns the row until then."
    )
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sweep: what is pending and due, or stuck in a send whose lease ran out.
            models.Index(fields=["status", "not_before"], name="notification_due"),
            models.Index(fields=["content_type", "object_id"], name="notification_about"),
            # The outbox in the admin, newest first: a page reads the index, not a sort of
            # every message (docs/performance.md, "Admin lists").
            models.Index(fields=["created_at", "id"], name="notification_created_id"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.get_status_display().lower()})"


class MessageTemplate(models.Model):
    """The wording of one kind of message, in one language (blank: for every language without
    its own), for one programme or (no programme) the organisation's default, which only
    organisation administrators change. A message is sent in its programme's wording, else
    the organisation's, else the wording in ``templates/emails/``
    (notifications/rendering.py)."""

    kind = models.CharField(max_length=40)
    language = models.CharField(max_length=10, blank=True)
    # A programme's wording goes with it; it never becomes the organisation's.
    programme = models.ForeignKey(
        "programmes.Programme",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Leave blank for the organisation's default wording.",
    )
    subject = models.CharField(max_length=300)
    body_text = models.TextField("plain-text body")
    body_html = models.TextField("HTML body", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "language", "programme"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language", "programme"],
                name="message_template_once_per_programme_and_language",
            ),
            # NULLs are distinct to a unique index: the organisation's rows need their own.
            models.UniqueConstraint(
                fields=["kind", "language"],
                condition=models.Q(programme__isnull=True),
                name="message_template_once_per_language",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.language or 'default'})"

from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from programmes.models import BASELINE, KeySkill, Participant

# A pulse or a programme-questions answer can be changed by submitting it again within this
# long of the first submission; after that it is read-only, so the figures built on it settle.
EDIT_WINDOW = timedelta(hours=48)


class ConfidenceRating(models.Model):
    """A participant's confidence in one of the programme's key skills, 1 to 5: the baseline
    at intake, then ratings from pulses and at the end. Confidence change compares the latest
    with the baseline."""

    class Context(models.TextChoices):
        INTAKE = BASELINE, "Intake baseline"
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
    # Set for ratings given in a pulse, so editing the pulse changes its rating in place.
    pulse = models.ForeignKey(
        "Pulse", on_delete=models.CASCADE, null=True, blank=True, related_name="confidence"
    )

    class Meta:
        ordering = ["participant", "key_skill", "recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "key_skill"],
                condition=models.Q(context="intake"),
                name="confidence_one_baseline_per_skill",
            ),
            models.UniqueConstraint(
                fields=["pulse", "key_skill"],
                condition=models.Q(pulse__isnull=False),
                name="confidence_once_per_pulse_skill",
            ),
            models.UniqueConstraint(
                fields=["participant", "key_skill"],
                condition=models.Q(context="end"),
                name="confidence_one_end_rating_per_skill",
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


class Pulse(models.Model):
    """The three questions a participant answers after a session, and the short optional
    ones. Exactly one per participant and session (a database constraint): a second
    submission within the edit window changes this row.

    Free text (learning, action) is private to its author unless ``shared``; the safety
    answer is never shown to the partner; managers and sponsors see counts only.
    """

    class Done(models.TextChoices):
        YES = "yes", "Yes"
        PARTLY = "partly", "Partly"
        NO = "no", "Not yet"

    class NotHeld(models.TextChoices):
        MISSED = "missed", "It did not happen"
        RESCHEDULED = "rescheduled", "It was moved to another time"

    # A teaching answer from here up says the executive did most of the teaching: the
    # session reverted to traditional mentoring.
    REVERTED_FROM = 4

    meeting = models.ForeignKey("pairs.Meeting", on_delete=models.CASCADE, related_name="pulses")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="pulses")
    held = models.BooleanField()
    not_held = models.CharField(max_length=12, choices=NotHeld, blank=True)
    learning = models.CharField("one thing you learned", max_length=280, blank=True)
    action = models.CharField("one action you commit to", max_length=280, blank=True)
    shared = models.BooleanField("share my answers with my partner", default=False)
    # Follow-up of the action this participant committed to in their previous pulse.
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="followed_up_by"
    )
    previous_action_done = models.CharField(max_length=6, choices=Done, blank=True)
    good_fit = models.BooleanField(null=True, blank=True)
    safety = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    # 1 = mostly the reverse-mentor taught … 5 = mostly the executive taught (reversion).
    teaching = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    submitted_at = models.DateTimeField(help_text="The first submission; edits keep it.")
    updated_at = models.DateTimeField(auto_now=True)
    # The session's start time this answer was about: a session moved to another time after
    # a "rescheduled" answer is asked about again, and the new answer replaces this one.
    session_starts_at = models.DateTimeField()
    rematch_alert_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the programme's managers were told of a 'not a good fit' answer.",
    )

    class Meta:
        ordering = ["meeting", "participant"]
        indexes = [
            # The pulses list, newest session first, reads this (surveys/admin.py).
            models.Index(fields=["session_starts_at", "id"], name="pulse_session_starts_id"),
            # "Not a good fit" answers are few: the pair list's count of them, its re-match
            # filter and the cohort diagnosis look them up here rather than reading every
            # pulse of each pair's sessions.
            models.Index(
                fields=["meeting"], condition=models.Q(good_fit=False), name="pulse_not_a_good_fit"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "participant"], name="pulse_once_per_participant_meeting"
            ),
            models.CheckConstraint(
                condition=models.Q(safety__isnull=True) | models.Q(safety__gte=1, safety__lte=5),
                name="pulse_safety_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(teaching__isnull=True)
                | models.Q(teaching__gte=1, teaching__lte=5),
                name="pulse_teaching_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        # Never the answers: this shows up in logs and the admin.
        when = f"{self.meeting.starts_at:%Y-%m-%d}"
        return f"Pulse of {self.participant.person} for the session of {when}"

    @property
    def commits_to_action(self) -> bool:
        return bool(self.action.strip())


class PulseRequest(models.Model):
    """A pulse asked of one participant for one session: the denominator of the pulse
    response rate. Written when the session is due for its pulse (an hour after it ends) or
    when the participant answers first, whichever comes sooner; at most one per participant
    and session."""

    meeting = models.ForeignKey(
        "pairs.Meeting", on_delete=models.CASCADE, related_name="pulse_requests"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="pulse_requests"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the e-mail asking for the pulse went out (none if answered first).",
    )

    class Meta:
        ordering = ["meeting", "participant"]
        # The pulse nudge's scan (surveys/reminders.py) reads the requests e-mailed in its
        # window from this, not every request ever sent.
        indexes = [models.Index(fields=["sent_at"], name="pulse_request_sent_at")]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "participant"], name="pulse_request_once_per_meeting"
            ),
        ]

    def __str__(self) -> str:
        return f"Pulse asked of {self.participant.person} for {self.meeting.starts_at:%Y-%m-%d}"


class NpsResponse(models.Model):
    """'How likely are you to recommend this programme to a colleague?' (0–10), asked at the
    cohort's mid-point and end. The why is private to its author."""

    class Moment(models.TextChoices):
        MIDPOINT = "midpoint", "Mid-point"
        END = "end", "End"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="nps")
    moment = models.CharField(max_length=10, choices=Moment)
    score = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    why = models.CharField(max_length=500, blank=True)
    submitted_at = models.DateTimeField()

    class Meta:
        # The answers' list in the admin, newest first, reads this (surveys/admin.py).
        indexes = [models.Index(fields=["submitted_at", "id"], name="nps_submitted_id")]
        constraints = [
            models.UniqueConstraint(fields=["participant", "moment"], name="nps_once_per_moment"),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=10), name="nps_score_0_to_10"
            ),
        ]

    def __str__(self) -> str:
        return f"NPS of {self.participant.person} ({self.get_moment_display()})"

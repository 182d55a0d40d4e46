import zoneinfo
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


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

    def clean(self) -> None:
        if self.manager_id is None:
            return
        from programmes.reporting_lines import chain_above, load_manager_map

        if self.manager_id == self.pk:
            raise ValidationError({"manager": "Someone cannot be their own manager."})
        managers = load_manager_map()
        managers[self.pk] = self.manager_id
        if self.pk is not None and self.pk in chain_above(self.manager_id, managers):
            raise ValidationError(
                {"manager": "This would make a loop: %(name)s already reports, through others, "
                 "to this person."},
                params={"name": self.manager},
            )  # fmt: skip


class Participant(models.Model):
    """A person taking part in one cohort, as mentee or reverse-mentor."""

    class Role(models.TextChoices):
        MENTEE = "mentee", "Mentee (executive)"
        REVERSE_MENTOR = "reverse_mentor", "Reverse-mentor"

    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        INTAKE_COMPLETE = "intake_complete", "Intake complete"
        MATCHED = "matched", "Matched"
        WITHDRAWN = "withdrawn", "Withdrawn"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="participants")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="participations")
    role = models.CharField(max_length=20, choices=Role)
    capacity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="How many partners this person takes on in this cohort (usually 1).",
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.INVITED)
    training_completed_on = models.DateField(null=True, blank=True)
    invitation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cohort", "role", "person__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["cohort", "person"],
                name="participant_once_per_cohort",
                violation_error_message="This person is already in the cohort.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_role_display()}, {self.cohort.name})"

    @property
    def intake_locked(self) -> bool:
        """Intakes can be changed until the cohort's matching starts."""
        return self.cohort.status not in (Cohort.Status.PLANNED, Cohort.Status.INTAKE)


class Intake(models.Model):
    """What a participant tells us before matching. Its free text (objectives, boundaries,
    goals) is private: managers see only whether it was completed."""

    class CommunicationStyle(models.TextChoices):
        DIRECT = "direct", "Direct and to the point"
        REFLECTIVE = "reflective", "Reflective: I like time to think"
        CONVERSATIONAL = "conversational", "Conversational: I think out loud"

    class FeedbackStyle(models.TextChoices):
        CANDID = "candid", "Candid, straight away"
        SUPPORTIVE = "supportive", "Gentle and encouraging"
        WRITTEN = "written", "Written down, to reflect on later"

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Every week"
        FORTNIGHTLY = "fortnightly", "Every two weeks"
        MONTHLY = "monthly", "Once a month"

    class MeetingMode(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video call"
        EITHER = "either", "Either"

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="intake")
    # What the person has typed so far, kept as they go so nothing is lost; the fields below
    # are written only when the whole form is valid.
    draft = models.JSONField(default=dict, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)

    objectives = models.ManyToManyField(
        Topic, through="IntakeObjective", related_name="wanted_by", blank=True
    )
    objectives_text = models.TextField("learning objectives in your words", blank=True)
    can_share = models.ManyToManyField(Topic, related_name="shared_by", blank=True)
    communication_style = models.CharField(max_length=20, choices=CommunicationStyle, blank=True)
    feedback_style = models.CharField(max_length=20, choices=FeedbackStyle, blank=True)
    availability = models.JSONField(
        default=list, blank=True, help_text="Slots (weekday × 24 + hour) in the person's zone."
    )
    cadence = models.CharField(max_length=20, choices=Cadence, blank=True)
    meeting_mode = models.CharField(max_length=20, choices=MeetingMode, blank=True)
    goal_1 = models.CharField(max_length=200, blank=True)
    goal_2 = models.CharField(max_length=200, blank=True)
    goal_3 = models.CharField(max_length=200, blank=True)
    off_limits = models.ManyToManyField(Topic, related_name="off_limits_for", blank=True)
    boundaries_text = models.TextField("sensitive boundaries in your words", blank=True)
    consent_pledge = models.BooleanField(default=False)
    consent_data = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # The answers stored as plain fields (the rest are relations: objectives, topics,
    # confidence baselines). The form, the draft and the submit service share this list.
    ANSWER_FIELDS = (
        "objectives_text",
        "communication_style",
        "feedback_style",
        "cadence",
        "meeting_mode",
        "goal_1",
        "goal_2",
        "goal_3",
        "boundaries_text",
        "consent_pledge",
        "consent_data",
    )

    def __str__(self) -> str:
        return f"Intake of {self.participant.person}"

    @property
    def goals(self) -> list[str]:
        return [g for g in (self.goal_1, self.goal_2, self.goal_3) if g]


class IntakeObjective(models.Model):
    """A learning objective chosen from the road map, ranked (1 = wanted most)."""

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="ranked_objectives")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["intake", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["intake", "topic"], name="objective_topic_once"),
            models.UniqueConstraint(fields=["intake", "rank"], name="objective_rank_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.topic}"


class Pair(models.Model):
    """A matched mentee and reverse-mentor. A re-match ends one pair and starts another;
    ended pairs are kept as history."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="pairs")
    # RESTRICT, not PROTECT: a pair's history keeps its participants, yet deleting a whole
    # cohort (which cascades to both) still works.
    mentee = models.ForeignKey(Participant, on_delete=models.RESTRICT, related_name="mentee_pairs")
    reverse_mentor = models.ForeignKey(
        Participant, on_delete=models.RESTRICT, related_name="mentor_pairs"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    started_on = models.DateField(null=True, blank=True)
    paused_until = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by"
    )
    score = models.FloatField(null=True, blank=True, help_text="Matching score when proposed.")
    introduced_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cohort", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee"],
                condition=~models.Q(status="ended"),
                name="pair_one_current_per_mentee",
                violation_error_message="This mentee already has a current pair.",
            ),
            models.UniqueConstraint(
                fields=["mentee", "reverse_mentor"],
                condition=~models.Q(status="ended"),
                name="pair_current_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mentee.person} & {self.reverse_mentor.person}"


class Role(models.TextChoices):
    """Which side of a pair someone is on, for who did what (cancelled, led, proposed)."""

    MENTEE = "mentee", "Mentee (executive)"
    REVERSE_MENTOR = "reverse_mentor", "Reverse-mentor"


class Agreement(models.Model):
    """One version of a pair's kickoff agreement. Whoever proposes a version accepts it by
    proposing; it is agreed once the other side accepts too. The current agreement is the
    latest agreed version; a newer unagreed one is a pending change."""

    class Cadence(models.TextChoices):
        WEEKLY = "weekly", "Every week"
        FORTNIGHTLY = "fortnightly", "Every two weeks"
        MONTHLY = "monthly", "Once a month"

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="agreements")
    number = models.PositiveSmallIntegerField()
    driver = models.CharField(
        "who schedules and drives the sessions",
        max_length=20,
        choices=Role,
        default=Role.REVERSE_MENTOR,
    )
    cadence = models.CharField(max_length=20, choices=Cadence, default=Cadence.FORTNIGHTLY)
    meeting_mode = models.CharField(
        max_length=20, choices=Intake.MeetingMode, default=Intake.MeetingMode.VIDEO
    )
    cancellation = models.CharField(
        "how to cancel",
        max_length=300,
        default="At least 24 hours ahead, by message, and offer another time.",
    )
    pledge = models.BooleanField(
        "confidentiality pledge",
        default=True,
        help_text="What is said in our sessions stays between us unless we both agree.",
    )
    proposed_by = models.CharField(max_length=20, choices=Role, blank=True)
    proposed_at = models.DateTimeField(auto_now_add=True)
    mentee_accepted_at = models.DateTimeField(null=True, blank=True)
    mentor_accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pair", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["pair", "number"], name="agreement_version_once"),
        ]

    def __str__(self) -> str:
        return f"Agreement {self.number} of {self.pair}"

    @property
    def agreed(self) -> bool:
        return self.mentee_accepted_at is not None and self.mentor_accepted_at is not None


class Meeting(models.Model):
    """A session of a pair (not called Session, which is Django's own)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"
        MISSED = "missed", "Missed"

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="meetings")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(
        default=45, validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.SCHEDULED)
    topic = models.ForeignKey(
        Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="meetings"
    )
    led_by = models.CharField(max_length=20, choices=Role, blank=True)
    cancelled_by = models.CharField(max_length=20, choices=Role, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    scheduled_by = models.CharField(max_length=20, choices=Role, blank=True)
    # The calendar invitation: the same UID on every update, a higher SEQUENCE each time.
    uid = models.UUIDField(unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pair", "starts_at"]
        indexes = [models.Index(fields=["pair", "status", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="cancelled") | ~models.Q(cancelled_by=""),
                name="meeting_cancelled_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pair} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


class Note(models.Model):
    """A one-line note, private to its author unless they share it with their partner.
    Managers and sponsors never see the text."""

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="notes")
    meeting = models.ForeignKey(
        Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="notes"
    )
    author = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="notes")
    text = models.CharField(max_length=280)
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pair", "-created_at"]

    def __str__(self) -> str:
        # Never the text: this shows up in logs and the admin.
        return f"Note by {self.author.person} ({'shared' if self.shared else 'private'})"


class Guide(models.Model):
    """Support for pairs, above all for reverse-mentors who lead: role cards, the first
    meeting guide and agenda templates per topic. Rows without a programme are the defaults
    every programme sees; a programme can add its own."""

    class Kind(models.TextChoices):
        ROLE_CARD = "role_card", "Role card"
        FIRST_MEETING = "first_meeting", "First-meeting guide"
        AGENDA = "agenda", "Agenda template"

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, null=True, blank=True, related_name="guides"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    role = models.CharField(
        max_length=20, choices=Role, blank=True, help_text="For role cards: whose card it is."
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, null=True, blank=True, related_name="agendas"
    )
    topic_title = models.CharField(
        max_length=120,
        blank=True,
        help_text="For default agendas: the road-map topic title they fit (matched by title).",
    )
    title = models.CharField(max_length=200)
    body = models.TextField(
        help_text="Plain text; blank lines separate paragraphs, “- ” starts a bullet."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["kind", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class CheckIn(models.Model):
    """The neutral question asked of each participant after two missed or cancelled sessions
    in a row: can you continue, or should we re-match you or pause for a month? One per
    participant and triggering session (the second of the two), so a scan run twice asks
    once. Only the latest answer is kept; what an answer did to the pair is said where it is
    done (programmes/checkins.py)."""

    class Choice(models.TextChoices):
        CONTINUE = "continue", "I can continue"
        REMATCH = "rematch", "Re-match me"
        PAUSE = "pause", "Pause for one month"

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="checkins")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="checkins")
    trigger = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,
        related_name="checkins",
        help_text="The second of the two missed or cancelled sessions.",
    )
    asked_at = models.DateTimeField("asked", default=timezone.now)
    choice = models.CharField("answer", max_length=10, choices=Choice, blank=True)
    answered_at = models.DateTimeField("answered", null=True, blank=True)

    class Meta:
        ordering = ["pair", "-asked_at", "pk"]
        verbose_name = "check-in"
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "trigger"], name="checkin_once_per_trigger"
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in of {self.participant.person} ({self.asked_at:%Y-%m-%d})"

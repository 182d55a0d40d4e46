import zoneinfo
from datetime import date, datetime, timedelta
from decimal import Decimal
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


def default_time_zone() -> str:
    return settings.TIME_ZONE


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
        return not self.cohort.intake_open


class Audience(models.TextChoices):
    """Who reads an intake answer besides its author. The intake form shows this note beside
    each question before it is answered; tests hold the pair page, the match introduction and
    the matching review to it (``Intake.AUDIENCE``)."""

    PARTNER = "partner", "Your partner will see this, on your pair page."
    MATCHING = (
        "matching",
        (
            "Only you see this. Matching uses it; the programme manager sees only how well a "
            "proposed pair fits (for example “6 shared hours a week”)."
        ),
    )
    BOUNDARY = (
        "boundary",
        (
            "Only you see this. Matching never pairs you against it; the programme manager sees "
            "only that a pair was ruled out at intake, not by whom or why."
        ),
    )
    MANAGER = (
        "manager",
        (
            "Only the programme manager sees this, when reviewing the matching of your cohort. "
            "Never your partner."
        ),
    )
    AUTHOR = "author", "Only you see this."
    AGGREGATE = (
        "aggregate",
        ("Only you see your answer. Programme reports show only averages over groups of people."),
    )


class Intake(models.Model):
    """What a participant tells us before matching. Who reads each answer is ``AUDIENCE``:
    goals and what one can share reach the partner; the boundaries text reaches the
    programme manager at review; everything else stays with its author and the matching."""

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
    # People this person would rather not be paired with: a hard rule for matching, in
    # either direction. No reverse accessor: nothing may list who avoids someone.
    avoid = models.ManyToManyField(Person, related_name="+", blank=True)
    # The free-text boundaries: what the programme team should know before matching. The
    # programme manager reads it on the review of a run that includes this person, nowhere else.
    boundaries_text = models.TextField(
        "anything the programme team should know before matching you", blank=True
    )
    # False for a note written while the form said it was "never shown to your partner or to
    # managers" (before migration 0010): such a note stays with its author.
    boundaries_text_for_manager = models.BooleanField(default=True)
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
    # Who reads each answer besides its author (the form's notes come from here).
    AUDIENCE = {
        "objectives": Audience.MATCHING,
        "objectives_text": Audience.AUTHOR,
        "can_share": Audience.PARTNER,
        "communication_style": Audience.MATCHING,
        "feedback_style": Audience.MATCHING,
        "availability": Audience.MATCHING,
        "cadence": Audience.MATCHING,
        "meeting_mode": Audience.MATCHING,
        "goal_1": Audience.PARTNER,
        "goal_2": Audience.PARTNER,
        "goal_3": Audience.PARTNER,
        "off_limits": Audience.BOUNDARY,
        "avoid": Audience.BOUNDARY,
        "boundaries_text": Audience.MANAGER,
        "confidence": Audience.AGGREGATE,
    }

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
    # The day its latest pause ended: "no session held for 30 days" counts from here, so a
    # pair back from a month's pause is not flagged for the pause itself.
    resumed_on = models.DateField(null=True, blank=True, editable=False)
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
    # The one-time token of the form that created the row: the same form sent twice (a double
    # click, a resent request) finds this row instead of making a second one.
    submission = models.UUIDField(null=True, blank=True, unique=True, editable=False)

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
        # Still to come when its pair ended: taken off both calendars, and neither side's
        # cancellation, so no KPI or at-risk rule counts it (programmes.pairs.pair_close).
        WITHDRAWN = "withdrawn", "Withdrawn (the pair ended)"

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
    # The one-time token of the form that created the row: the same form sent twice (a double
    # click, a resent request) finds this row instead of making a second one.
    submission = models.UUIDField(null=True, blank=True, unique=True, editable=False)
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

    @property
    def called_off(self) -> bool:
        """Cancelled by a side, or withdrawn when the pair ended: it will not take place."""
        return self.status in (self.Status.CANCELLED, self.Status.WITHDRAWN)


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
    # The one-time token of the form that created the row: the same form sent twice (a double
    # click, a resent request) finds this row instead of making a second one.
    submission = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pair", "-created_at"]

    def __str__(self) -> str:
        # Never the text: this shows up in logs and the admin.
        return f"Note by {self.author.person} ({'shared' if self.shared else 'private'})"


class ParticipantAction(models.Model):
    """One thing a participant did from their pages that the rate limit counts
    (programmes/throttle.py): kept in the database, since several web processes answer the
    pages, and only for as long as the limit's window."""

    class Kind(models.TextChoices):
        PARTNER_MAIL = "partner_mail", "A change that e-mails the partner"
        NOTE = "note", "A note"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["participant", "kind", "at"], name="participant_action_recent")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by participant {self.participant_id} at {self.at}"


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
        null=True,
        blank=True,
        related_name="checkins",
        help_text="The second of the two missed or cancelled sessions (none when a manager "
        "sent the check-in from an at-risk flag).",
    )
    flag = models.ForeignKey(
        "RiskFlag",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checkins",
        help_text="The at-risk flag a manager sent this check-in from.",
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
            models.UniqueConstraint(fields=["participant", "flag"], name="checkin_once_per_flag"),
        ]

    def __str__(self) -> str:
        return f"Check-in of {self.participant.person} ({self.asked_at:%Y-%m-%d})"


class KpiSnapshot(models.Model):
    """One figure of DESIGN.md's "numbers every part must agree on", for one calendar month
    (in the programme's time zone) of one cohort, or of the whole programme when ``cohort``
    is empty. Written by programmes/kpis.py; recomputing replaces a scope's rows with equal
    ones. ``value`` is None when there is nothing to compute it from ("no data", never 0).

    ``numerator`` and ``denominator`` are what the value was computed from, so figures add up
    across cohorts; ``people`` is how many distinct participants the figure is computed from
    (each figure its own: see programmes/kpis.py), which sponsor pages compare with the
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
        ordering = ["programme", "cohort", "month", "kpi", "part"]
        verbose_name = "KPI snapshot"
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
        scope = self.cohort.name if self.cohort_id else "all cohorts"
        part = f" ({self.part})" if self.part else ""
        return f"{self.get_kpi_display()}{part}, {scope}, {self.month:%B %Y}"


def evidence_day(value: object, *, missing: str = "?") -> str:
    """A date kept in a flag's evidence (ISO, in the programme's zone) as pages show it;
    ``missing`` when there is none or it is not a date."""
    try:
        return date.fromisoformat(value).strftime("%-d %b %Y")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return missing


class RiskFlag(models.Model):
    """An at-risk flag on a pair: one of DESIGN.md's rules held, with the programme's
    thresholds. Opened by programmes/risks.py, open until a manager resolves it.

    ``condition`` names this occurrence of the rule (for example the session that made two
    missed in a row), so the same condition never opens a second flag, even after the first
    is resolved; while a flag is open, a newer occurrence of its rule updates it instead of
    opening another. ``evidence`` holds counts, dates and session ids only, never what anyone
    wrote and never a safety answer's value:

    - missed: ``in_a_row`` (int or null), ``in_window``, ``window_days``, ``sessions``
      (``[{"id", "date", "status", "by"}]``, ``by`` the side that cancelled or "");
    - no_session: ``days``, ``last_held`` (date or null), ``since`` (date), ``resumed_on``
      (date or null: set when the count starts from the end of a pause);
    - no_pulse: ``sessions`` (``[{"id", "date"}]``, the held sessions with no pulse);
    - low_safety: ``date`` (of the session), ``side`` (who answered); never the threshold,
      which would state the answer once a manager moves it to 1 (flags stored before this
      may still hold it as ``at_most``: it is never shown);
    - reversion: ``reverted``, ``of``, ``sessions`` (``[{"id", "date"}]``);
    - not_a_good_fit: ``date`` (of the first session), ``side`` (who answered);
    - needs_partner: ``date`` (of the re-match), ``side`` (who was left without a partner).
      Opened on the ended pair by a re-match (programmes/remediation.py), never by the
      detection.

    Dates are ISO strings (YYYY-MM-DD) in the programme's time zone."""

    class Rule(models.TextChoices):
        MISSED = "missed", "Missed or cancelled sessions"
        NO_SESSION = "no_session", "No session held lately"
        NO_PULSE = "no_pulse", "No pulse for the last held sessions"
        LOW_SAFETY = "low_safety", "Low psychological safety"
        REVERSION = "reversion", "Roles reverting"
        NOT_A_GOOD_FIT = "not_a_good_fit", "Not a good fit"
        NEEDS_PARTNER = "needs_partner", "Left without a partner"

    class Severity(models.IntegerChoices):
        HIGH = 1, "High"
        MEDIUM = 2, "Medium"
        LOW = 3, "Low"

    SEVERITY = {
        Rule.LOW_SAFETY: Severity.HIGH,
        Rule.NOT_A_GOOD_FIT: Severity.HIGH,
        Rule.MISSED: Severity.MEDIUM,
        Rule.NO_SESSION: Severity.MEDIUM,
        Rule.REVERSION: Severity.MEDIUM,
        Rule.NO_PULSE: Severity.LOW,
        Rule.NEEDS_PARTNER: Severity.MEDIUM,
    }
    # The playbook: what a manager should do first about each rule.
    PLAYBOOK = {
        Rule.MISSED: "Send the check-in: ask both whether they can continue, or would rather "
        "be re-matched or pause for a month.",
        Rule.NO_SESSION: "Send the check-in; if diaries are the problem, pause the pair for a "
        "month rather than let it fade.",
        Rule.NO_PULSE: "Ask the reverse-mentor how the sessions are going and remind both that "
        "the pulse takes a minute; check the sessions are being logged.",
        Rule.LOW_SAFETY: "Contact the person who answered, privately and never through their "
        "partner; offer a re-match or a pause.",
        Rule.REVERSION: "Share the role cards again and remind both that the reverse-mentor "
        "leads; suggest the next topic from the road map.",
        Rule.NOT_A_GOOD_FIT: "Re-match: end this pair and propose a new partner.",
        Rule.NEEDS_PARTNER: "Find them a new partner (re-match), or leave them on the waiting "
        "list for the cohort's next matching run.",
    }

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="risk_flags")
    rule = models.CharField(max_length=20, choices=Rule)
    severity = models.PositiveSmallIntegerField(choices=Severity)
    condition = models.CharField(max_length=100)
    evidence = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution_note = models.TextField(
        blank=True, help_text="The manager's own words on what was done."
    )

    class Meta:
        ordering = ["severity", "opened_at", "pk"]
        verbose_name = "at-risk flag"
        constraints = [
            models.UniqueConstraint(
                fields=["pair", "rule", "condition"], name="riskflag_condition_once"
            ),
            models.UniqueConstraint(
                fields=["pair", "rule"],
                condition=models.Q(resolved_at__isnull=True),
                name="riskflag_one_open_per_rule",
            ),
        ]
        indexes = [models.Index(fields=["resolved_at", "severity", "opened_at"])]

    def __str__(self) -> str:
        return f"{self.get_rule_display()}: {self.pair}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def recommended_action(self) -> str:
        return self.PLAYBOOK[self.Rule(self.rule)]

    @property
    def reason(self) -> str:
        """The rule as it held, in plain words from the evidence: counts and dates only."""
        e = self.evidence
        day = evidence_day

        def sessions(count: int) -> str:
            return "1 session" if count == 1 else f"{count} sessions"

        latest = day(e["sessions"][-1]["date"]) if e.get("sessions") else "?"
        match self.rule:
            case self.Rule.MISSED if e.get("in_a_row"):
                return (
                    f"The last {sessions(e['in_a_row'])} did not happen (missed or cancelled), "
                    f"the latest on {latest}."
                )
            case self.Rule.MISSED:
                return (
                    f"{sessions(e.get('in_window', 0))} missed or cancelled in the last "
                    f"{e.get('window_days', '?')} days."
                )
            case self.Rule.NO_SESSION if e.get("resumed_on"):
                return (
                    f"No session held in the {e.get('days')} days since the pair came back "
                    f"from a pause on {day(e['resumed_on'])}."
                )
            case self.Rule.NO_SESSION if e.get("last_held"):
                return (
                    f"No session held for {e.get('days')} days (the last on {day(e['last_held'])})."
                )
            case self.Rule.NO_SESSION:
                return f"No session held since the pair started on {day(e.get('since'))}."
            case self.Rule.NO_PULSE:
                return (
                    f"Nobody answered the pulse for the last "
                    f"{sessions(len(e.get('sessions', [])))} held (the latest on {latest})."
                )
            case self.Rule.LOW_SAFETY:
                who = "the executive" if e.get("side") == Role.MENTEE else "the reverse-mentor"
                # Never a value nor the threshold (at_most, in flags stored before).
                return f"A low safety answer from {who}, about the session of {day(e.get('date'))}."
            case self.Rule.REVERSION:
                return (
                    f"The executive did most of the teaching in {e.get('reverted')} of the last "
                    f"{sessions(e.get('of', 0))} held."
                )
            case self.Rule.NOT_A_GOOD_FIT:
                who = "The executive" if e.get("side") == Role.MENTEE else "The reverse-mentor"
                return (
                    f'{who} answered "not a good fit" after the first session '
                    f"({day(e.get('date'))})."
                )
            case self.Rule.NEEDS_PARTNER:
                who = "The executive" if e.get("side") == Role.MENTEE else "The reverse-mentor"
                return (
                    f"{who} was left without a partner by the re-match of {day(e.get('date'))} "
                    "and is back on the waiting list."
                )
        return self.get_rule_display()


class PairAction(models.Model):
    """What was done about a pair and by whom: a manager's remediation action from the
    at-risk queue, or the system's (``by`` empty). The audit trail of the queue."""

    class Kind(models.TextChoices):
        CHECKIN = "checkin", "Check-in sent"
        PAUSE = "pause", "Paused for a month"
        REMATCH = "rematch", "Re-matched"
        END = "end", "Pair ended"
        RESOLVE = "resolve", "Flag resolved"

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="actions")
    flag = models.ForeignKey(
        RiskFlag, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    kind = models.CharField(max_length=10, choices=Kind)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True, help_text="The manager's own words.")
    new_pair = models.ForeignKey(
        Pair,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a re-match: the pair proposed in its place.",
    )

    class Meta:
        ordering = ["pair", "-at", "-pk"]
        verbose_name = "pair action"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d %H:%M})"


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


class PasswordResetRequest(models.Model):
    """One accepted use of the "forgot your password" page, known address or not.

    The rows are the rate limiter's memory (in the database, which every web process shares)
    and what the reset e-mail is built from when the outbox sends it; only the send looks up
    whether an account uses the address, so the page does the same work either way. Attempts
    over a limit are not stored, so hammering the page adds no rows.

    Retention: a row holds an e-mail and an IP address, so it should be kept only while it
    serves the limits (a day) and a short audit period.
    """

    email = models.EmailField(max_length=254, help_text="As typed, stripped and lower-cased.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [
            # The rate-limit counts: "this address (or this client) lately".
            models.Index(fields=["email", "requested_at"], name="pwreset_email_recent"),
            models.Index(fields=["ip_address", "requested_at"], name="pwreset_ip_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.email} at {self.requested_at:%Y-%m-%d %H:%M}"

"""The directory of people, participants in cohorts, their intake, and the shared words for
a participant's side (``Role``) and rhythm (``Cadence``)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from lib.zones import validate_time_zone
from programmes.models.programme import Cohort, Topic
from programmes.reporting_lines import chain_above


class Role(models.TextChoices):
    """Which side of a pair someone is on: a participant's role in a cohort, and who did
    what in a pair (cancelled, led, proposed)."""

    MENTEE = "mentee", "Mentee (executive)"
    REVERSE_MENTOR = "reverse_mentor", "Reverse-mentor"


class Cadence(models.TextChoices):
    """How often a pair means to meet: asked at intake, agreed in the kickoff agreement."""

    WEEKLY = "weekly", "Every week"
    FORTNIGHTLY = "fortnightly", "Every two weeks"
    MONTHLY = "monthly", "Once a month"


class PersonQuerySet(QuerySet):
    def manager_map(self) -> dict[int, int | None]:
        """``{person_id: manager_id}`` for these people, in one query."""
        return dict(self.values_list("id", "manager_id"))

    def managers_above(self, people: QuerySet) -> dict[int, int | None]:
        """``{person_id: manager_id}`` for ``people`` (a ``values()`` queryset of one column
        of Person ids, such as ``cohort.participants.values("person")``) and everyone above
        them, in one query: a recursive walk up the directory in the database, so that
        checking one cohort reads its members' lines, not the whole organisation. Every
        manager in the map is in it too (or None), so ``tree_intervals`` of it nests exactly
        as the whole directory's would. ``UNION`` drops rows already found, so a loop ends."""
        inner, params = people.query.sql_with_params()
        table = connection.ops.quote_name(self.model._meta.db_table)
        # Only a quoted table name and the ORM's own SQL are put in the text; values are params.
        query = f"""
            WITH RECURSIVE above(id, manager_id) AS (
                SELECT id, manager_id FROM {table} WHERE id IN ({inner})
                UNION
                SELECT person.id, person.manager_id
                FROM {table} AS person JOIN above ON person.id = above.manager_id
            )
            SELECT id, manager_id FROM above
        """  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return dict(cursor.fetchall())


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

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["full_name"]
        verbose_name_plural = "people"
        # The directory in the admin, by name, reads its page from this (programmes/admin.py).
        indexes = [models.Index(fields=["full_name", "id"], name="person_name_id")]
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
        if self.manager_id == self.pk:
            raise ValidationError({"manager": "Someone cannot be their own manager."})
        # Only the line above the new manager (one query), not the whole directory.
        above = Person.objects.filter(pk=self.manager_id).values("pk")
        managers = Person.objects.managers_above(above)
        managers[self.pk] = self.manager_id
        if self.pk is not None and self.pk in chain_above(self.manager_id, managers):
            raise ValidationError(
                {"manager": "This would make a loop: %(name)s already reports, through others, "
                 "to this person."},
                params={"name": self.manager},
            )  # fmt: skip


class Participant(models.Model):
    """A person taking part in one cohort, as mentee or reverse-mentor."""

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
        # The participants' list in the admin, newest first, reads this (programmes/admin.py).
        indexes = [models.Index(fields=["created_at", "id"], name="participant_created_id")]
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


# The context of the confidence ratings given at intake: each key skill's baseline (the ratings
# are surveys.ConfidenceRating, reached from a participant as ``confidence_ratings``).
BASELINE = "intake"


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

    class MeetingMode(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video call"
        EITHER = "either", "Either"

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="intake")
    # What the person has typed so far, kept as they go so nothing is lost; the fields below
    # are written only when the whole form is valid.
    draft = models.JSONField(default=dict, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)

    objectives: "models.ManyToManyField[Topic, IntakeObjective]" = models.ManyToManyField(
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

"""Pairs and their life cycle: kickoff agreements, sessions (``Meeting``), notes and the
guides both sides read."""

from datetime import datetime, timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from programmes.models import Cadence, Cohort, Intake, Participant, Programme, Role, Topic


class PairQuerySet(models.QuerySet["Pair"]):
    """The pair-state groupings, by what they mean (``Pair.*_STATUSES`` for checks in Python)."""

    def current(self) -> "PairQuerySet":
        """Not ended: proposed, active or paused. Holds its participants' places."""
        return self.filter(status__in=Pair.CURRENT_STATUSES)

    def open(self) -> "PairQuerySet":
        """Under way: active or paused (not proposed, not ended)."""
        return self.filter(status__in=Pair.OPEN_STATUSES)

    def started(self) -> "PairQuerySet":
        """Past the proposal: active, paused or ended."""
        return self.filter(status__in=Pair.STARTED_STATUSES)


class Pair(models.Model):
    """A matched mentee and reverse-mentor. A re-match ends one pair and starts another;
    ended pairs are kept as history."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ENDED = "ended", "Ended"

    # Not ended: a participant in one of these has a partner (``Pair.objects.current()``).
    CURRENT_STATUSES = (Status.PROPOSED, Status.ACTIVE, Status.PAUSED)
    # Under way: active or paused (``Pair.objects.open()``).
    OPEN_STATUSES = (Status.ACTIVE, Status.PAUSED)
    # Past the proposal: active, paused or ended (``Pair.objects.started()``).
    STARTED_STATUSES = (Status.ACTIVE, Status.PAUSED, Status.ENDED)

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

    objects = PairQuerySet.as_manager()

    class Meta:
        db_table = "programmes_pair"  # made by programmes before the move
        ordering = ["cohort", "-created_at"]
        indexes = [
            # The admin's pair list (newest first) reads its page from this instead of
            # joining and sorting every pair (docs/performance.md, "Admin lists").
            models.Index(fields=["created_at", "id"], name="pair_created_at_id"),
            # Beat's scans read only what is due, not every pair that ever was: the agreement
            # reminder (active pairs introduced a few days ago, pairs/reminders.py) and the
            # end of a pause (risks/checkins.py, pairs_resume_due).
            models.Index(
                fields=["introduced_at"],
                condition=models.Q(status="active"),
                name="pair_active_introduced",
            ),
            models.Index(
                fields=["paused_until"],
                condition=models.Q(status="paused"),
                name="pair_paused_until",
            ),
        ]
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


class Agreement(models.Model):
    """One version of a pair's kickoff agreement. Whoever proposes a version accepts it by
    proposing; it is agreed once the other side accepts too. The current agreement is the
    latest agreed version; a newer unagreed one is a pending change."""

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
        db_table = "programmes_agreement"  # made by programmes before the move
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
        # cancellation, so no KPI or at-risk rule counts it (pairs.services.pair_close).
        WITHDRAWN = "withdrawn", "Withdrawn (the pair ended)"

    # Did not take place: missed, or cancelled by a side (a withdrawn session is neither).
    NOT_HAPPENED = (Status.MISSED, Status.CANCELLED)
    # Logged after its start: held or missed (a mark, which can be corrected).
    MARKED = (Status.HELD, Status.MISSED)
    # May have taken place: held, or still scheduled (not logged yet). Its pulse is asked for.
    MAYBE_HELD = (Status.SCHEDULED, Status.HELD)
    # Will not take place: cancelled by a side, or withdrawn when the pair ended.
    CALLED_OFF = (Status.CANCELLED, Status.WITHDRAWN)

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
    # For a missed session: the side that did not turn up, when the one logging it said so
    # (blank: not known, or both). The at-risk score counts it (risks/signals.py).
    # A database default too: rows written by raw SQL (the KPI benchmark) or by a process of
    # the previous release during a deploy say "not said".
    missed_by = models.CharField(
        "who did not turn up", max_length=20, choices=Role, blank=True, db_default=""
    )
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
        db_table = "programmes_meeting"  # made by programmes before the move
        ordering = ["pair", "starts_at"]
        indexes = [
            models.Index(fields=["pair", "status", "starts_at"]),
            # The sessions list (newest first) and its date navigation read this, not every
            # session in the database.
            models.Index(fields=["starts_at", "id"], name="meeting_starts_at_id"),
            # The check-in scan's candidates (risks/checkins.py): the sessions that did not
            # happen (NOT_HAPPENED, which a class's Meta cannot name; tests/test_beat_scans.py
            # fails if the two part), by time, without every held or scheduled one beside them.
            models.Index(
                fields=["starts_at"],
                condition=models.Q(status__in=["missed", "cancelled"]),
                name="meeting_not_happened_starts",
            ),
        ]
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
        return self.status in self.CALLED_OFF


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
        db_table = "programmes_note"  # made by programmes before the move
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
        db_table = "programmes_guide"  # made by programmes before the move
        ordering = ["kind", "position", "pk"]

    def __str__(self) -> str:
        return self.title

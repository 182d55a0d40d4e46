"""At-risk flags, pairs that can be re-matched and private text to look for, shared by the
remediation, queue and diagnosis tests. Flags are created directly with the evidence schema of
the RiskFlag docstring: these tests are about what managers do with a flag, not how the
detection opens one."""

from datetime import datetime, timedelta

from django.utils import timezone

from pairs.models import Meeting, Note, Pair
from programmes.models import Participant, Programme, Role
from risks.models import RiskFlag
from surveys.models import Pulse, PulseRequest
from tests.factories import (
    IntakeFactory,
    MeetingFactory,
    ParticipantFactory,
    PulseFactory,
    RiskFlagFactory,
)
from tests.pairs.meeting_helpers import agreed_pair

MONDAY_MORNING = [9, 10, 11]

# Typed by participants; none of it may reach a manager's page or file.
PRIVATE = {
    "cancel_reason": "CANCEL-REASON-SECRET",
    "learning": "LEARNING-SECRET",
    "action": "ACTION-SECRET",
    "note": "NOTE-SECRET",
    "objectives": "OBJECTIVES-SECRET",
    "boundaries": "BOUNDARIES-SECRET",
    "goal": "GOAL-SECRET",
}


def day(when: datetime) -> str:
    return timezone.localdate(when).isoformat()


def evidence_for(rule: str, now: datetime | None = None) -> dict:
    """Evidence shaped as the RiskFlag docstring says, for each rule."""
    now = now or timezone.now()
    return {
        RiskFlag.Rule.MISSED: {
            "in_a_row": 2,
            "in_window": 2,
            "window_days": 30,
            "sessions": [
                {"id": 1, "date": day(now - timedelta(days=9)), "status": "missed", "by": ""},
                {
                    "id": 2,
                    "date": day(now - timedelta(days=2)),
                    "status": "cancelled",
                    "by": Role.MENTEE,
                },
            ],
        },
        RiskFlag.Rule.FADING: {
            "probability": 0.72,
            "reasons": [
                f"24 days since the last held session ({day(now - timedelta(days=24))}), "
                "against a cadence of 14 days",
                "no session booked in the next 14 days",
            ],
            "last_held": day(now - timedelta(days=24)),
            "since": day(now - timedelta(days=24)),
        },
        RiskFlag.Rule.NO_SESSION: {
            "days": 31,
            "last_held": day(now - timedelta(days=31)),
            "since": day(now - timedelta(days=60)),
        },
        RiskFlag.Rule.NO_PULSE: {
            "sessions": [
                {"id": 1, "date": day(now - timedelta(days=14))},
                {"id": 2, "date": day(now - timedelta(days=3))},
            ]
        },
        RiskFlag.Rule.LOW_SAFETY: {
            "date": day(now - timedelta(days=1)),
            "side": Role.REVERSE_MENTOR,
            "at_most": 2,
        },
        RiskFlag.Rule.REVERSION: {
            "reverted": 2,
            "of": 3,
            "sessions": [{"id": 1, "date": day(now - timedelta(days=5))}],
        },
        RiskFlag.Rule.NOT_A_GOOD_FIT: {"date": day(now - timedelta(days=4)), "side": Role.MENTEE},
    }[rule]


def open_flag(
    pair: Pair,
    rule: str = RiskFlag.Rule.MISSED,
    *,
    days_ago: float = 3,
    **fields: object,
) -> RiskFlag:
    opened_at = timezone.now() - timedelta(days=days_ago)
    fields.setdefault("evidence", evidence_for(rule))
    return RiskFlagFactory(pair=pair, rule=rule, opened_at=opened_at, **fields)


def with_intake(participant: Participant, **fields: object) -> Participant:
    fields.setdefault("availability", MONDAY_MORNING)
    IntakeFactory(participant=participant, **fields)
    return participant


def join(pair_or_cohort, role: str, name: str, **fields: object) -> Participant:
    """A participant of the cohort with a submitted intake, free to be matched."""
    cohort = getattr(pair_or_cohort, "cohort", pair_or_cohort)
    participant = ParticipantFactory(
        cohort=cohort,
        role=role,
        status=Participant.Status.INTAKE_COMPLETE,
        person__full_name=name,
        **fields,
    )
    return with_intake(participant)


def rematchable_pair(programme: Programme | None = None, **fields: object) -> Pair:
    """An active pair (Margaret Hale, executive, and Ravi Patel, reverse-mentor) whose two
    intakes are submitted, so the matching code can look for new partners for either."""
    return agreed_pair(
        programme=programme, intakes=True, intakes__availability=MONDAY_MORNING, **fields
    )


def spare(pair: Pair, name: str, hours: list[int], role: str = Role.REVERSE_MENTOR) -> Participant:
    """A free participant of the pair's cohort who shares ``hours`` of the pair's Monday
    morning (9, 10, 11): the more hours shared, the higher the score."""
    participant = ParticipantFactory(
        cohort=pair.cohort,
        role=role,
        status=Participant.Status.INTAKE_COMPLETE,
        person__full_name=name,
    )
    return with_intake(participant, availability=hours)


def meeting(pair: Pair, *, days: float, **fields: object) -> Meeting:
    if fields.get("status") == Meeting.Status.CANCELLED:
        fields.setdefault("cancelled_by", Role.MENTEE)
    return MeetingFactory(pair=pair, starts_at=timezone.now() + timedelta(days=days), **fields)


def pulse(meeting: Meeting, participant: Participant, **fields: object) -> Pulse:
    PulseRequest.objects.get_or_create(meeting=meeting, participant=participant)
    fields.setdefault("submitted_at", timezone.now())
    return PulseFactory(meeting=meeting, participant=participant, **fields)


def private_history(pair: Pair) -> None:
    """A week of sessions full of private text: a held session with pulses that carry a
    learning and an action and a note, a cancelled one with its reason, and intakes with
    objectives, goals and boundaries."""
    held = meeting(pair, days=-3, status=Meeting.Status.HELD, led_by=Role.REVERSE_MENTOR)
    pulse(held, pair.mentee, learning=PRIVATE["learning"], action=PRIVATE["action"], safety=1)
    PulseRequest.objects.get_or_create(meeting=held, participant=pair.reverse_mentor)
    meeting(
        pair,
        days=-1,
        status=Meeting.Status.CANCELLED,
        cancelled_by=Role.REVERSE_MENTOR,
        cancel_reason=PRIVATE["cancel_reason"],
    )
    Note.objects.create(pair=pair, meeting=held, author=pair.mentee, text=PRIVATE["note"])
    for participant in (pair.mentee, pair.reverse_mentor):
        intake = getattr(participant, "intake", None)
        if intake is None:
            with_intake(participant)
            intake = participant.intake
        intake.objectives_text = PRIVATE["objectives"]
        intake.boundaries_text = PRIVATE["boundaries"]
        intake.goal_1 = PRIVATE["goal"]
        intake.save()


def assert_no_private_text(text: str) -> None:
    for secret in PRIVATE.values():
        assert secret not in text

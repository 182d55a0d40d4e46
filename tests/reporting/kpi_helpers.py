"""Builders for the KPI tests: pairs in a given cohort, sessions, pulses with their requests,
confidence ratings, NPS answers and at-risk flags, created directly (the services that
normally write them are tested elsewhere), and a reader for the snapshots written."""

from datetime import date, datetime
from uuid import uuid4
from zoneinfo import ZoneInfo

from pairs.models import Meeting, Note, Pair
from programmes.models import Cohort, KeySkill, Participant, Programme, Role
from reporting.models import KpiSnapshot
from risks.models import RiskFlag
from surveys.models import ConfidenceRating, NpsResponse, Pulse, PulseRequest
from tests.factories import CohortFactory, KeySkillFactory, ParticipantFactory, TopicFactory

UTC = ZoneInfo("UTC")
HELD, CANCELLED, MISSED, SCHEDULED = (
    Meeting.Status.HELD,
    Meeting.Status.CANCELLED,
    Meeting.Status.MISSED,
    Meeting.Status.SCHEDULED,
)

# Distinctive free text, put in every fixture so the pages can be shown never to contain it.
SECRET_LEARNING = "LEARNING-MARKER graduates share drafts early"
SECRET_ACTION = "ACTION-MARKER ask the team before deciding"
SECRET_WHY = "WHY-MARKER my partner was brilliant"
SECRET_REASON = "REASON-MARKER a clash with the board meeting"
SECRET_NOTE = "NOTE-MARKER spoke about the restructure"
SECRETS = (SECRET_LEARNING, SECRET_ACTION, SECRET_WHY, SECRET_REASON, SECRET_NOTE, "MARKER")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cohort_in(programme: Programme, starts_on: date, ends_on: date, **fields) -> Cohort:
    return CohortFactory(programme=programme, starts_on=starts_on, ends_on=ends_on, **fields)


def pair_in(
    cohort: Cohort,
    *,
    started_on: date | None,
    ended_on: date | None = None,
    status: str = Pair.Status.ACTIVE,
) -> Pair:
    mentee = ParticipantFactory(cohort=cohort, role=Role.MENTEE, status=Participant.Status.MATCHED)
    mentor = ParticipantFactory(
        cohort=cohort, role=Role.REVERSE_MENTOR, status=Participant.Status.MATCHED
    )
    if ended_on is not None:
        status = Pair.Status.ENDED
    return Pair.objects.create(
        cohort=cohort,
        mentee=mentee,
        reverse_mentor=mentor,
        status=status,
        started_on=started_on,
        ended_on=ended_on,
    )


def session(
    pair: Pair, starts_at: datetime, status: str = Meeting.Status.HELD, **fields
) -> Meeting:
    if status == Meeting.Status.CANCELLED:
        fields.setdefault("cancelled_by", Role.MENTEE)
        fields.setdefault("cancel_reason", SECRET_REASON)
    return Meeting.objects.create(
        pair=pair, starts_at=starts_at, status=status, uid=uuid4(), **fields
    )


def ask(meeting: Meeting, *participants: Participant) -> None:
    """Pulse requests, as the scan writes them an hour after the session."""
    for participant in participants:
        PulseRequest.objects.get_or_create(
            meeting=meeting, participant=participant, defaults={"requested_at": meeting.ends_at}
        )


def pulse(meeting: Meeting, participant: Participant, *, held: bool = True, **answers) -> Pulse:
    """A pulse with its request (pulse_submit writes both)."""
    ask(meeting, participant)
    if not held:
        answers.setdefault("not_held", Pulse.NotHeld.MISSED)
    return Pulse.objects.create(
        meeting=meeting,
        participant=participant,
        held=held,
        submitted_at=meeting.ends_at,
        session_starts_at=meeting.starts_at,
        **answers,
    )


def rating(
    participant: Participant,
    skill: KeySkill,
    value: int,
    at: datetime,
    context: str = ConfidenceRating.Context.PULSE,
) -> ConfidenceRating:
    return ConfidenceRating.objects.create(
        participant=participant, key_skill=skill, value=value, context=context, recorded_at=at
    )


def baseline(participant: Participant, skill: KeySkill, value: int, at: datetime):
    return rating(participant, skill, value, at, context=ConfidenceRating.Context.INTAKE)


def nps(participant: Participant, score: int, at: datetime, moment: str = "midpoint"):
    return NpsResponse.objects.create(
        participant=participant, moment=moment, score=score, why=SECRET_WHY, submitted_at=at
    )


def flag(pair: Pair, opened_at: datetime, resolved_at: datetime | None = None, **fields):
    fields.setdefault("rule", RiskFlag.Rule.MISSED)
    fields.setdefault("condition", f"test-{uuid4()}")
    return RiskFlag.objects.create(
        pair=pair,
        severity=RiskFlag.SEVERITY[fields["rule"]],
        opened_at=opened_at,
        updated_at=opened_at,
        resolved_at=resolved_at,
        resolution_note=SECRET_NOTE if resolved_at else "",
        **fields,
    )


def figures(programme: Programme, cohort: Cohort | None = None) -> dict:
    """{(month, kpi, part): (value, numerator, denominator, people)} of one scope."""
    rows = KpiSnapshot.objects.filter(programme=programme, cohort=cohort)
    return {
        (row.month, row.kpi, row.part): (row.value, row.numerator, row.denominator, row.people)
        for row in rows
    }


def snapshot_rows(programme: Programme) -> list[tuple]:
    """Every snapshot of ``programme`` without its id and computed_at, in a stable order."""
    return list(
        KpiSnapshot.objects.filter(programme=programme)
        .order_by("cohort", "month", "kpi", "part")
        .values_list(
            "cohort", "month", "kpi", "part", "value", "numerator", "denominator", "people"
        )
    )


def build_world(programme: Programme) -> dict:
    """``programme`` (its time zone Europe/London, as the figures in test_kpis.py assume)
    with four road-map topics and two key skills.

    Cohort A runs 5 Jan – 31 Mar 2026; cohort B (1 Feb – 30 Apr) has nobody yet; cohort C
    starts in March, after NOW. In A: P1 and P2 are active (from 5 and 10 Jan), P3 is only
    proposed, P4 ran from 5 to 20 Jan."""
    topics = [TopicFactory(programme=programme, title=f"Topic {n}") for n in range(1, 5)]
    skills = [KeySkillFactory(programme=programme, name=f"Skill {n}") for n in (1, 2)]
    a = cohort_in(programme, date(2026, 1, 5), date(2026, 3, 31), name="A")
    b = cohort_in(programme, date(2026, 2, 1), date(2026, 4, 30), name="B")
    c = cohort_in(programme, date(2026, 3, 1), date(2026, 5, 31), name="C")
    p1 = pair_in(a, started_on=date(2026, 1, 5))
    p2 = pair_in(a, started_on=date(2026, 1, 10))
    pair_in(a, started_on=None, status=Pair.Status.PROPOSED)
    p4 = pair_in(a, started_on=date(2026, 1, 5), ended_on=date(2026, 1, 20))
    m1, r1, m2, r2 = p1.mentee, p1.reverse_mentor, p2.mentee, p2.reverse_mentor
    t1, t2, t3, _ = topics

    # January: S1, S2, S4 held; S3 cancelled by the executive; S5 missed; S6 cancelled by the
    # reverse-mentor; S7 scheduled and never logged (its time has come all the same).
    s1 = session(p1, utc(2026, 1, 8, 10), HELD, topic=t1)
    s2 = session(p1, utc(2026, 1, 15, 10), HELD, topic=t2)
    session(p1, utc(2026, 1, 22, 10), CANCELLED, cancelled_by=Role.MENTEE)
    s4 = session(p2, utc(2026, 1, 12, 10), HELD, topic=t1)
    s5 = session(p2, utc(2026, 1, 19, 10), MISSED)
    session(p2, utc(2026, 1, 26, 10), CANCELLED, cancelled_by=Role.REVERSE_MENTOR)
    session(p1, utc(2026, 1, 29, 10), SCHEDULED)
    # February: S8 held; S9 is still to come after NOW.
    session(p1, utc(2026, 2, 5, 10), HELD, topic=t3)
    session(p2, utc(2026, 2, 25, 10), SCHEDULED)

    # Pulses (each with its request) and two requests nobody answered.
    pulse(s1, m1, learning=SECRET_LEARNING, action=SECRET_ACTION, teaching=2)
    pulse(s1, r1, learning="Why the board asks for one page", teaching=4)
    pulse(s2, m1, learning="Chat first, meetings later", previous_action_done="yes", teaching=1)
    ask(s2, r1)
    pulse(s4, m2, action="Shadow a stand-up")
    pulse(s4, r2, teaching=3)
    pulse(s5, m2, held=False, previous_action_done="partly")
    ask(s5, r2)
    Note.objects.create(pair=p1, meeting=s1, author=m1, text=SECRET_NOTE, shared=True)

    # Flags: P1's from 2 to 5 Jan and P2's from 27 Jan, still open; P1's December one is over
    # before January starts.
    flag(p1, utc(2026, 1, 2, 9), utc(2026, 1, 5, 9))
    flag(p2, utc(2026, 1, 27, 9), rule="no_pulse")
    flag(p1, utc(2025, 12, 10, 9), utc(2025, 12, 20, 9), rule="reversion")

    # NPS in January: two promoters (10, 9), a detractor (5), a passive (7).
    for participant, score in [(m1, 10), (r1, 9), (m2, 5), (r2, 7)]:
        nps(participant, score, utc(2026, 1, 30, 12))

    # Confidence. Skill 1: m1 2 → 3 (8 Jan) → 4 (10 Feb); r1 4 → 3 (8 Jan); m2 has no
    # baseline; r2's baseline (20 Jan) comes after the 12 Jan rating, which so does not
    # count, then 4 on 3 Feb. Skill 2: m1 3 and nothing later; r1 1 → 3 (12 Feb).
    k1, k2 = skills
    baseline(m1, k1, 2, utc(2026, 1, 1))
    rating(m1, k1, 3, utc(2026, 1, 8, 12))
    rating(m1, k1, 4, utc(2026, 2, 10, 12))
    baseline(m1, k2, 3, utc(2026, 1, 1))
    baseline(r1, k1, 4, utc(2026, 1, 1))
    rating(r1, k1, 3, utc(2026, 1, 8, 12))
    baseline(r1, k2, 1, utc(2026, 1, 1))
    rating(r1, k2, 3, utc(2026, 2, 12, 12))
    rating(m2, k1, 5, utc(2026, 1, 12, 12))
    rating(r2, k1, 5, utc(2026, 1, 12, 12))
    baseline(r2, k1, 3, utc(2026, 1, 20))
    rating(r2, k1, 4, utc(2026, 2, 3, 12))

    return {
        "programme": programme,
        "a": a,
        "b": b,
        "c": c,
        "topics": topics,
        "skills": skills,
        "pairs": (p1, p2, p4),
    }

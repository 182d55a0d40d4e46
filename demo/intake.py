"""Participants and their intakes: the finished pilot and the running second wave have
complete intakes; a third wave is taking intakes now, some done, some half-way, some not
started, so the manager's view of intake progress has something to show."""

import random
from datetime import UTC, datetime, time, timedelta
from typing import cast

from django.utils import timezone

from demo.context import DemoContext
from programmes.models import (
    Cadence,
    Cohort,
    Intake,
    IntakeObjective,
    KeySkill,
    Participant,
    Role,
    Topic,
)
from surveys.models import ConfidenceRating

# (cohort, mentees, reverse-mentors), by directory key
COHORTS = [
    (
        "pilot",
        ["cfo", "coo", "cmo", "fin-d1", "ops-d1"],
        ["tech-1", "ppl-1", "mkt-1", "ops-3", "fin-3"],
    ),
    (
        "wave2",
        ["cto", "chro", "tech-d2", "ppl-d2", "mkt-d1", "mkt-d2", "fin-d2", "ops-d2"],
        ["tech-3", "tech-4", "mkt-3", "mkt-4", "ops-4", "ppl-3", "ppl-4", "fin-1", "fin-4"],
    ),
    (
        "wave3",
        ["ceo", "tech-d1", "ppl-d1", "ops-d1"],
        ["tech-2", "tech-5", "mkt-2", "mkt-5", "ops-1"],
    ),
]

MENTEE_GOALS = [
    "Understand how our graduates really use collaboration tools",
    "Be a more visible ally for colleagues from under-represented groups",
    "Learn what our younger customers expect from our service",
    "Try one new digital habit every month and keep it",
    "Make my team meetings easier for quieter people to speak in",
    "Understand how people early in their careers see our culture",
]
MENTOR_GOALS = [
    "Practise explaining ideas to senior leaders with confidence",
    "Understand how strategic decisions get made at Northwind",
    "Build a network beyond my own department",
    "Get better at giving candid feedback upwards",
    "Learn how executives balance competing priorities",
]
OBJECTIVE_TEXT = [
    "I'd like to see our business through the eyes of someone who joined recently.",
    "I want to understand what gets in the way of people speaking up.",
    "How to lead a team whose tools and habits I don't share.",
    "Where I could be doing more to make people feel they belong here.",
]


def build(ctx: DemoContext) -> None:
    ctx.cohorts["wave3"] = Cohort.objects.create(
        programme=ctx.programme,
        name="Wave 3",
        starts_on=ctx.today + timedelta(days=21),
        ends_on=ctx.today + timedelta(days=111),
        status=Cohort.Status.INTAKE,
    )
    topics = list(ctx.programme.topics.all())
    skills = list(ctx.programme.key_skills.all())
    now = timezone.now()
    complete = started = not_started = 0
    for cohort_key, mentees, mentors in COHORTS:
        cohort = ctx.cohorts[cohort_key]
        people = [(k, Role.MENTEE) for k in mentees] + [(k, Role.REVERSE_MENTOR) for k in mentors]
        for index, (key, role) in enumerate(people):
            participant = Participant.objects.create(
                cohort=cohort,
                person=ctx.people[key],
                role=role,
                status=Participant.Status.INTAKE_COMPLETE,
                invitation_sent_at=now - timedelta(days=ctx.rng.randint(5, 12)),
                training_completed_on=(
                    cohort.starts_on - timedelta(days=3)
                    if role == Role.REVERSE_MENTOR and cohort_key != "wave3"
                    else None
                ),
            )
            ctx.participants.setdefault(cohort_key, []).append(participant)
            # In the wave taking intakes now, the last few have not finished.
            stage = "complete"
            if cohort_key == "wave3":
                stage = ("complete", "complete", "started", "not_started")[index % 4]
            if stage == "not_started":
                participant.status = Participant.Status.INVITED
                participant.save(update_fields=["status"])
                not_started += 1
                continue
            intake = _intake(ctx, participant, topics, skills, submitted=stage == "complete")
            if stage == "started":
                participant.status = Participant.Status.INVITED
                participant.save(update_fields=["status"])
                intake.draft_saved_at = now - timedelta(days=1)
                intake.save(update_fields=["draft_saved_at"])
                started += 1
            else:
                complete += 1
    ctx.summary.append(
        f"{sum(len(m) + len(r) for _, m, r in COHORTS)} participants in three cohorts "
        f"(Wave 3 taking intakes now); intakes: {complete} complete, {started} started, "
        f"{not_started} not started"
    )


def _boundaries(ctx: DemoContext, intake: Intake) -> None:
    """A few people name someone they would rather not be paired with (a colleague from their
    own department: a former manager, say) and leave a note for the programme team. Drawn
    from the person's own seed, not the demo's, so the rest of the demo stays as it was."""
    person = intake.participant.person
    rng = random.Random(f"boundaries:{person.email}")  # noqa: S311 (repeatable, not secret)
    if rng.random() < 0.1:
        others = [p for p in ctx.people.values() if p.department == person.department]
        others = sorted((p for p in others if p != person), key=lambda p: p.email)
        if others:
            intake.avoid.set([rng.choice(others)])
    if not intake.boundaries_text and rng.random() < 0.1:
        intake.boundaries_text = rng.choice(NOTES_FOR_THE_TEAM)
        intake.save(update_fields=["boundaries_text"])


NOTES_FOR_THE_TEAM = (
    "I am back from parental leave in part-time hours until March, so every two weeks at most.",
    "I would find it hard to be paired with anyone from my old team.",
    "I have a hearing impairment: video calls with captions work best for me.",
)


def _submitted_at(ctx: DemoContext, participant: Participant) -> datetime:
    """A few days before the cohort started (or before today, for one still taking intakes):
    the intake's confidence ratings are the baselines later ratings are compared with."""
    before = min(ctx.today, participant.cohort.starts_on) - timedelta(days=ctx.rng.randint(1, 6))
    return datetime.combine(before, time(10), UTC)


def _intake(
    ctx: DemoContext,
    participant: Participant,
    topics: list[Topic],
    skills: list[KeySkill],
    *,
    submitted: bool,
) -> Intake:
    rng = ctx.rng
    mentee = participant.role == Role.MENTEE
    hours = 3
    wanted = rng.sample(topics, 3)
    shareable = [t for t in topics if t not in wanted]
    # Most people keep a regular morning or early-afternoon window on a few days.
    start_hour = rng.choice([9, 10, 12, 13, 14])
    days = rng.sample(range(5), rng.randint(3, 4))
    intake = Intake.objects.create(
        participant=participant,
        objectives_text=rng.choice(OBJECTIVE_TEXT) if mentee else "",
        communication_style=rng.choice(Intake.CommunicationStyle.values),
        feedback_style=rng.choice(Intake.FeedbackStyle.values),
        availability=sorted(d * 24 + start_hour + h for d in days for h in range(hours)),
        cadence=rng.choice([Cadence.FORTNIGHTLY] * 2 + [Cadence.WEEKLY]),
        meeting_mode=rng.choice(Intake.MeetingMode.values),
        goal_1=rng.choice(MENTEE_GOALS if mentee else MENTOR_GOALS),
        goal_2=rng.choice(MENTEE_GOALS if mentee else MENTOR_GOALS) if rng.random() < 0.6 else "",
        boundaries_text="I'd rather not discuss my health." if rng.random() < 0.15 else "",
        consent_pledge=submitted,
        consent_data=submitted,
        submitted_at=_submitted_at(ctx, participant) if submitted else None,
    )
    IntakeObjective.objects.bulk_create(
        IntakeObjective(intake=intake, topic=topic, rank=rank)
        for rank, topic in enumerate(wanted, start=1)
    )
    intake.can_share.set(rng.sample(shareable, rng.randint(2, 4) if not mentee else 1))
    if rng.random() < 0.2:
        intake.off_limits.set([rng.choice(shareable)])
    _boundaries(ctx, intake)
    if submitted:
        ConfidenceRating.objects.bulk_create(
            ConfidenceRating(
                participant=participant,
                key_skill=skill,
                value=rng.randint(1, 3) if mentee else rng.randint(3, 5),
                context=ConfidenceRating.Context.INTAKE,
                recorded_at=cast(datetime, intake.submitted_at),
            )
            for skill in skills
        )
    return intake

"""Pulses for the demo's sessions, and the programme questions (NPS) at the mid-point and end.

For every past session that was held or missed, both participants were asked for a pulse
(a PulseRequest) and most answered, a few hours after the session ended; a missed session
gets "it did not happen" answers. The gaps and answers are what a manager would meet in a
real programme, each on its own pair of the running wave so that the at-risk flags each have
one clear case:

- participants who stopped answering (their last two held sessions without a pulse): both
  sides of one running pair, and one reverse-mentor at the end of the pilot;
- one "not a good fit" after a pair's first session (the reverse-mentor's);
- one safety answer of 2, in a pair's latest session; all others are 3 to 5;
- one pair whose last three sessions say the executive did most of the teaching (reversion);
  elsewhere the answers say the reverse-mentor taught, or it was even.

Rows are written in bulk but keep the rules ``surveys.pulses.pulse_submit`` enforces: a
learning for every held session and no answers for one not held; "good fit" asked only at the
pair's first held session; the follow-up of the action in the participant's previous held
pulse; confidence on the key skills whose turn it is, moving up slightly from the intake
baseline; and a request for every pulse (written when the participant answered first, or an
hour after the session, whichever came sooner)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from demo.context import DemoContext
from pairs.models import Meeting, Pair
from programmes.models import KeySkill, Participant, Role
from surveys.counts import format_rate, response_rate
from surveys.feedback import END, MIDPOINT, feedback_window
from surveys.models import ConfidenceRating, NpsResponse, Pulse, PulseRequest
from surveys.pulses import REQUEST_DELAY, SKILLS_PER_PULSE

# One line each, in the executive's words, by road-map position.
MENTEE_LEARNINGS = [
    [
        "She prefers I say what I want to learn rather than guess it.",
        "Agreeing ground rules first made it easier to be honest.",
        "He expects me to bring questions, not a speech.",
    ],
    [
        "Half my team live in the chat channel and skim my e-mails.",
        "Shared documents beat attachments: nobody opens v7_final.",
        "There is a shortcut for almost everything I do by hand.",
        "Graduates set up their own tool workarounds when ours are slow.",
    ],
    [
        "People read our LinkedIn posts as corporate, not human.",
        "Younger colleagues check a company's social media before applying.",
        "A short video from a site visit reaches more people than a memo.",
        "Comments under our posts are where customers really talk.",
    ],
    [
        "Small jokes in meetings can shut people out without anyone noticing.",
        "Saying 'guys' to a mixed team lands differently than I thought.",
        "Quieter colleagues speak up when there is a written round first.",
        "People notice who gets asked to take notes.",
    ],
    [
        "Flexible hours matter more to them than working from home.",
        "Cameras-on all day is tiring for people sharing a flat.",
        "Hybrid works when decisions are written down, not made in the corridor.",
        "New joiners learn most on the days the team is in together.",
    ],
    [
        "Younger customers expect tracking updates without asking.",
        "Sustainability claims are checked, not taken on trust.",
        "A chat answer in minutes beats a perfect reply in two days.",
        "They leave a review when the delivery window is missed, every time.",
    ],
    [
        "Most of the team already use AI tools, quietly, without a policy.",
        "AI summaries save them an hour a week on meeting notes.",
        "The worry about AI is less about jobs than about being judged for using it.",
        "Prompting well is a skill people pick up from each other.",
    ],
    [
        "What I learned most is to ask before I assume.",
        "I want to keep a regular slot with someone early in their career.",
        "My habits changed more than my opinions did.",
    ],
]
MENTOR_LEARNINGS = [
    "Executives get far more e-mail than I imagined; short messages win.",
    "He explained how a budget decision is actually made.",
    "It helps to bring a concrete example rather than a general point.",
    "She was more open to challenge than I expected.",
    "Saying 'I don't know' is fine at any level.",
    "Strategy is mostly choosing what not to do.",
    "I can disagree politely and still be heard.",
    "Preparing two questions in advance made the session flow.",
    "Leaders worry about the same things we do, just at a different scale.",
    "Showing, not telling, works best: we screen-shared the tool.",
]
MENTEE_ACTIONS = [
    "Reply in the team channel instead of e-mail for a week.",
    "Ask my team which AI tools they use before we write a policy.",
    "Open my next all-hands with a written question round.",
    "Read the comments under our last five posts.",
    "Try the shared-document workflow on the board pack.",
    "Swap 'guys' for 'everyone' and notice how often I say it.",
    "Hold one meeting a week with cameras optional.",
    "Track one customer order end to end on my phone.",
    "Ask a graduate to review my next all-staff message.",
    "Use an AI summary for one meeting and check it against my notes.",
]
MENTOR_ACTIONS = [
    "Bring two customer reviews to the next session.",
    "Write up the tool shortcuts as a one-page guide.",
    "Practise opening the session with my own agenda.",
    "Ask my manager how our team's budget is set.",
    "Prepare an example of a post that worked well.",
    "Give one piece of candid feedback upwards this week.",
]
WHY_ANSWERS = [
    "It changed how I run my team meetings.",
    "Good conversations, but hard to find the time.",
    "I learned things no training course would teach me.",
    "Great to be heard by someone so senior.",
    "My partner was generous with their time.",
    "Sessions got cancelled too often.",
    "It gave me confidence to speak up.",
    "Useful, though the first sessions were awkward.",
    "I now see our customers differently.",
    "More structure for the sessions would help.",
    "It made the company feel smaller, in a good way.",
    "I'd recommend it to any leader who thinks they know the culture.",
]
NPS_SCORES = [10, 10, 10, 9, 9, 9, 9, 8, 8, 8, 7, 7, 6, 5]

ANSWER_RATE = 0.78  # before the participants who stopped answering
ACTION_RATE: dict[str, float] = {Role.MENTEE: 0.65, Role.REVERSE_MENTOR: 0.45}
SHARE_RATE = 0.5
NPS_RATE = 0.75


@dataclass
class _Roles:
    """Which participants and pairs carry the demo's telling answers."""

    silent: set[int] = field(default_factory=set)  # participant ids who stopped answering
    rematch: int | None = None  # the participant who answers "not a good fit"
    unsafe: int | None = None  # the participant whose latest session feels unsafe
    reverting: int | None = None  # the pair whose executive does the teaching lately


def _roles(pilot: list[Pair], wave: list[Pair]) -> _Roles:
    # The running wave's first three pairs already carry the sessions' troubles (cancelled,
    # gone quiet, paused; see demo/sessions.py): the pulses' troubles go to the next ones.
    healthy = wave[3:]
    roles = _Roles()
    if len(healthy) > 0:
        roles.rematch = healthy[0].reverse_mentor_id
    if len(healthy) > 1:
        roles.unsafe = healthy[1].reverse_mentor_id
    if len(healthy) > 2:
        roles.reverting = healthy[2].pk
    if len(healthy) > 3:
        roles.silent |= {healthy[3].mentee_id, healthy[3].reverse_mentor_id}
    if len(pilot) > 1:
        roles.silent.add(pilot[1].reverse_mentor_id)
    return roles


@dataclass
class _Written:
    pulses: list[Pulse] = field(default_factory=list)
    requests: list[PulseRequest] = field(default_factory=list)
    ratings: list[ConfidenceRating] = field(default_factory=list)


class _PulseWriter:
    def __init__(self, ctx: DemoContext, skills: list[KeySkill], now: datetime) -> None:
        self.rng = ctx.rng
        self.skills = skills
        self.now = now
        self.baselines = {
            (rating.participant_id, rating.key_skill_id): rating.value
            for rating in ConfidenceRating.objects.filter(
                context=ConfidenceRating.Context.INTAKE,
                participant__cohort__in=ctx.cohorts.values(),
            )
        }
        self.written = _Written()
        self.never = datetime.max.replace(tzinfo=UTC)

    def pair(self, pair: Pair, meetings: list[Meeting], roles: _Roles) -> None:
        held = [m for m in meetings if m.status == Meeting.Status.HELD]
        first_held, last_held = (held[0], held[-1]) if held else (None, None)
        people = (pair.mentee, pair.reverse_mentor)
        pulses: dict[int, list[Pulse]] = {p.pk: [] for p in people}  # in session order
        silent_from = {
            p.pk: held[-2].starts_at for p in people if p.pk in roles.silent and len(held) >= 2
        }
        for index, meeting in enumerate(meetings):
            reverting = pair.pk == roles.reverting and meeting in held[-3:]
            answers: dict[int, datetime | None] = {}
            for participant in people:
                forced = (
                    reverting
                    or (meeting is first_held and participant.pk == roles.rematch)
                    or (meeting is last_held and participant.pk == roles.unsafe)
                    # Everyone else answers their pair's latest session, so that the flag
                    # for "no pulse for the last two held sessions" is only raised for the
                    # participants who really stopped.
                    or (meeting is last_held and participant.pk not in silent_from)
                )
                if meeting.starts_at >= silent_from.get(participant.pk, self.never):
                    answered = False
                else:
                    answered = forced or self.rng.random() < ANSWER_RATE
                answers[participant.pk] = self._submitted_at(meeting) if answered else None
            self._requests(meeting, answers)
            for participant in people:
                submitted_at = answers[participant.pk]
                if submitted_at is None:
                    continue
                pulse = self._pulse(
                    meeting=meeting,
                    participant=participant,
                    submitted_at=submitted_at,
                    earlier=pulses[participant.pk],
                    asks_good_fit=meeting is first_held,
                    progress=(index + 1) / len(meetings),
                    roles=roles,
                    reverting=reverting,
                    last_held=meeting is last_held,
                )
                pulses[participant.pk].append(pulse)

    def _submitted_at(self, meeting: Meeting) -> datetime:
        draw = self.rng.random()
        if draw < 0.15:  # straight after the session, from the pair page
            delay = timedelta(minutes=self.rng.randint(5, 55))
        elif draw < 0.8:  # from the e-mail, a few hours later
            delay = timedelta(minutes=self.rng.randint(70, 6 * 60))
        else:  # the next day
            delay = timedelta(minutes=self.rng.randint(14 * 60, 30 * 60))
        submitted_at = meeting.ends_at + delay
        if submitted_at >= self.now:  # a session of the last day or so
            submitted_at = meeting.ends_at + (self.now - meeting.ends_at) / 2
        return submitted_at

    def _requests(self, meeting: Meeting, answers: dict[int, datetime | None]) -> None:
        """The session's PulseRequest rows, as the hourly scan and pulse_submit write them."""
        # The scan runs every ten minutes and asks once the session has been over an hour.
        due = meeting.ends_at + REQUEST_DELAY + timedelta(minutes=self.rng.randint(0, 9))
        early = [at for at in answers.values() if at is not None and at < due]
        for participant_id, submitted_at in answers.items():
            if submitted_at is not None and submitted_at < due:
                # Answered first, from the pair page: the request was written with the
                # answer and never e-mailed.
                self.written.requests.append(
                    PulseRequest(
                        meeting=meeting, participant_id=participant_id, requested_at=submitted_at
                    )
                )
            elif meeting.status == Meeting.Status.MISSED and early:
                # The partner's early "it did not happen" logged the session as missed, so
                # the scan asked nobody: a later answer writes its own request.
                if submitted_at is not None:
                    self.written.requests.append(
                        PulseRequest(
                            meeting=meeting,
                            participant_id=participant_id,
                            requested_at=submitted_at,
                        )
                    )
            else:
                self.written.requests.append(
                    PulseRequest(
                        meeting=meeting,
                        participant_id=participant_id,
                        requested_at=due,
                        sent_at=due + timedelta(seconds=self.rng.randint(2, 40)),
                    )
                )

    def _pulse(
        self,
        *,
        meeting: Meeting,
        participant: Participant,
        submitted_at: datetime,
        earlier: list[Pulse],
        asks_good_fit: bool,
        progress: float,
        roles: _Roles,
        reverting: bool,
        last_held: bool,
    ) -> Pulse:
        rng = self.rng
        mentee = participant.role == Role.MENTEE
        held = meeting.status == Meeting.Status.HELD
        # The follow-up, as pulse_situation finds it: the participant's latest earlier held
        # pulse in this pair, if it committed to an action no later pulse has followed up.
        previous = next((p for p in reversed(earlier) if p.held), None)
        if previous is not None and (
            not previous.action or any(p.previous is previous for p in earlier)
        ):
            previous = None
        pulse = Pulse(
            meeting=meeting,
            participant=participant,
            held=held,
            not_held="" if held else Pulse.NotHeld.MISSED,
            previous=previous,
            previous_action_done=(
                rng.choice(["yes"] * 5 + ["partly"] * 3 + ["no"] * 2) if previous else ""
            ),
            submitted_at=submitted_at,
            session_starts_at=meeting.starts_at,
        )
        if held:
            topic = meeting.topic.position if meeting.topic else 0
            if mentee:
                pulse.learning = rng.choice(MENTEE_LEARNINGS[min(topic, len(MENTEE_LEARNINGS) - 1)])
            else:
                pulse.learning = rng.choice(MENTOR_LEARNINGS)
            if rng.random() < ACTION_RATE[participant.role]:
                pulse.action = rng.choice(MENTEE_ACTIONS if mentee else MENTOR_ACTIONS)
            pulse.shared = rng.random() < SHARE_RATE
            if asks_good_fit:
                pulse.good_fit = participant.pk != roles.rematch
                if not pulse.good_fit:
                    pulse.rematch_alert_sent_at = submitted_at + timedelta(minutes=2)
            if last_held and participant.pk == roles.unsafe:
                pulse.safety = 2
            elif rng.random() < 0.85:
                pulse.safety = rng.choice([5] * 11 + [4] * 7 + [3] * 2)
            if reverting:
                pulse.teaching = rng.choice([4, 5, 5])
            elif rng.random() < 0.8:
                pulse.teaching = rng.choice([1] * 9 + [2] * 8 + [3] * 3)
        self.written.pulses.append(pulse)
        if held:
            self._confidence(pulse, participant, len(earlier), progress)
        return pulse

    def _confidence(
        self, pulse: Pulse, participant: Participant, earlier: int, progress: float
    ) -> None:
        """Ratings for the skills whose turn it is (the rotation in surveys.pulses), a little
        above the intake baseline as the sessions go on; now and then one is left out."""
        if not self.skills or self.rng.random() > 0.8:
            return
        start = earlier * SKILLS_PER_PULSE
        turn = {self.skills[(start + i) % len(self.skills)] for i in range(SKILLS_PER_PULSE)}
        mentee = participant.role == Role.MENTEE
        for skill in sorted(turn, key=lambda s: (s.position, s.pk)):
            if self.rng.random() < 0.1:
                continue
            value = self.baselines.get((participant.pk, skill.pk), 3)
            if self.rng.random() < 0.2 + 0.5 * progress:
                value += 1
            if mentee and progress > 0.6 and self.rng.random() < 0.25:
                value += 1
            if self.rng.random() < 0.05:
                value -= 1
            self.written.ratings.append(
                ConfidenceRating(
                    participant=participant,
                    key_skill=skill,
                    value=max(1, min(5, value)),
                    context=ConfidenceRating.Context.PULSE,
                    recorded_at=pulse.submitted_at,
                    pulse=pulse,
                )
            )


def _at(day: date, rng) -> datetime:
    return datetime.combine(day, time(rng.randint(8, 19), rng.randint(0, 59)), UTC)


def _nps(
    ctx: DemoContext, pairs: list[Pair], skills: list[KeySkill], roles: _Roles, now: datetime
) -> tuple[list[NpsResponse], list[ConfidenceRating]]:
    """Answers to the programme questions whose window has opened (surveys.feedback): the
    mid-point for both cohorts, the end (with the end's confidence in every key skill, as
    feedback_submit requires) for the finished pilot. Only people who had a partner are
    asked."""
    rng = ctx.rng
    answers: list[NpsResponse] = []
    ratings: list[ConfidenceRating] = []
    baselines = {
        (r.participant_id, r.key_skill_id): r.value
        for r in ConfidenceRating.objects.filter(
            context=ConfidenceRating.Context.INTAKE,
            participant__in=[p for pair in pairs for p in (pair.mentee_id, pair.reverse_mentor_id)],
        )
    }
    today = ctx.today
    asked: set[int] = set()
    for pair in pairs:
        windows = [feedback_window(pair.cohort, moment) for moment in (MIDPOINT, END)]
        for participant in (pair.mentee, pair.reverse_mentor):
            if participant.pk in asked:  # re-matched: asked once, whatever the pairs
                continue
            asked.add(participant.pk)
            for window in windows:
                if window.opens_on > today or rng.random() > NPS_RATE:
                    continue
                # Most answer within a week of the questions opening.
                last = min(window.closes_on, today, window.opens_on + timedelta(days=6))
                day = window.opens_on + timedelta(
                    days=rng.randint(0, (last - window.opens_on).days)
                )
                submitted_at = min(_at(day, rng), now - timedelta(minutes=5))
                moment = window.moment
                score = rng.choice(NPS_SCORES)
                if participant.pk == roles.rematch:
                    score = 4
                answers.append(
                    NpsResponse(
                        participant=participant,
                        moment=moment,
                        score=score,
                        why=rng.choice(WHY_ANSWERS) if rng.random() < 0.55 else "",
                        submitted_at=submitted_at,
                    )
                )
                if moment != END:
                    continue
                mentee = participant.role == Role.MENTEE
                for skill in skills:
                    value = baselines.get((participant.pk, skill.pk), 3) + rng.choice(
                        [0, 1, 1, 2] if mentee else [0, 0, 1]
                    )
                    ratings.append(
                        ConfidenceRating(
                            participant=participant,
                            key_skill=skill,
                            value=min(5, value),
                            context=ConfidenceRating.Context.END,
                            recorded_at=submitted_at,
                        )
                    )
    return answers, ratings


def build(ctx: DemoContext) -> None:
    now = timezone.now()
    skills = list(ctx.programme.key_skills.all())
    related = ["cohort", "mentee", "reverse_mentor"]
    pilot = list(
        Pair.objects.filter(cohort=ctx.cohorts["pilot"]).select_related(*related).order_by("pk")
    )
    wave = list(
        Pair.objects.current()
        .filter(cohort=ctx.cohorts["wave2"])
        .select_related(*related)
        .order_by("pk")
    )
    roles = _roles(pilot, wave)
    sessions: dict[int, list[Meeting]] = defaultdict(list)
    for meeting in (
        Meeting.objects.filter(
            pair__in=pilot + wave,
            status__in=Meeting.MARKED,
            starts_at__lt=now - REQUEST_DELAY,
        )
        .select_related("topic")
        .order_by("starts_at", "pk")
    ):
        if meeting.ends_at <= now - REQUEST_DELAY:
            sessions[meeting.pair_id].append(meeting)

    writer = _PulseWriter(ctx, skills, now)
    for pair in pilot + wave:
        writer.pair(pair, sessions[pair.pk], roles)
    written = writer.written
    PulseRequest.objects.bulk_create(written.requests)
    # A follow-up points at an earlier pulse: insert them all, then link them.
    previous = {id(p): p.previous for p in written.pulses}
    for pulse in written.pulses:
        pulse.previous = None
    Pulse.objects.bulk_create(written.pulses)
    followed_up = [p for p in written.pulses if previous[id(p)] is not None]
    for pulse in followed_up:
        pulse.previous = previous[id(pulse)]
    # updated_at too: bulk_create stamped it with today.
    for pulse in written.pulses:
        pulse.updated_at = pulse.submitted_at
    Pulse.objects.bulk_update(written.pulses, ["previous", "updated_at"])
    ConfidenceRating.objects.bulk_create(written.ratings)
    answers, end_ratings = _nps(ctx, pilot + wave, skills, roles, now)
    NpsResponse.objects.bulk_create(answers)
    ConfidenceRating.objects.bulk_create(end_ratings)

    pulses = written.pulses
    requested, answered = len(written.requests), len(pulses)
    midpoint = sum(a.moment == NpsResponse.Moment.MIDPOINT for a in answers)
    ctx.summary.append(
        f"Pulses: {answered} of {requested} requested answered "
        f"({format_rate(response_rate(submitted=answered, requested=requested))}), "
        f"{sum(not p.held for p in pulses)} saying the session did not happen; "
        f"{sum(p.good_fit is False for p in pulses)} 'not a good fit', "
        f"{sum(p.safety is not None and p.safety <= 2 for p in pulses)} low safety answer, "
        f"{int(roles.reverting is not None)} pair drifting back to the executive teaching, "
        f"{len(roles.silent)} participants who stopped answering; "
        f"NPS: {midpoint} mid-point and {len(answers) - midpoint} end answers"
    )

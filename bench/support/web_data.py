"""bench/web.py's data set, its pool of unanswered pulse links, and the reset between load runs.

One programme (Europe/London, 4 key skills, 8 topics) with running cohorts that started 290
days ago; each pair has 20 past sessions a fortnight apart (about 85% held, 8% cancelled, 7%
missed), both sides' pulses and pulse requests for every one of them (400,000 pulses at
10,000 pairs), a kickoff agreement, and one open at-risk flag for every seventh pair. The
people, participants and pairs are model rows as bench/support/cohort_sim.py creates them;
the high-volume history (sessions, pulses, pulse requests, flags) is written with
``bulk_create`` of the same models, since driving 200,000 sessions through the services day by
day would take hours. The KPI snapshots the sponsor page shows are the product's own
(``reporting.kpis.kpis_compute``), and every pulse of the load runs goes through the real page.

The pool: past sessions still "scheduled" and unanswered (a session that ended three hours
ago), with both sides' pulse requests written, as when the e-mail with the link has gone out.
Their ids are kept in ``bench_web_pool``; ``pool_reset`` deletes the pulses a run wrote on
them and sets them back to scheduled, so every load run starts from the same state.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import uuid4

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from support.web_sizes import Size

from pairs.models import Agreement, Meeting, Pair
from programmes.models import Cohort, KeySkill, Participant, Person, Programme, Role, Topic
from programmes.roles import sync_manager_group
from reporting.kpis import kpis_compute
from risks.models import RiskFlag
from surveys.models import Pulse, PulseRequest

SLUG = "bench-web"
ZONE = "Europe/London"
SESSIONS_PER_PAIR = 20
SKILLS = 4
TOPICS = 8
MANAGER = "bench-web-manager"
SPONSOR = "bench-web-sponsor"
POOL_TABLE = "bench_web_pool"
BATCH = 5_000
# The one pulse that 200 simultaneous submissions go to (its own pool kind).
LOAD, CONCURRENT, QUERIES = "load", "concurrent", "queries"


@dataclass(frozen=True)
class Built:
    programme_id: int
    cohort_id: int
    pair_id: int  # a pair in the middle of the data set, for the pair page and the bare lookup
    participant_id: int  # that pair's executive


def _tables_to_empty() -> list[str]:
    return [
        Programme._meta.db_table,
        Person._meta.db_table,
        "notifications_notification",
    ]


def is_built(size: Size) -> bool:
    programme = Programme.objects.filter(slug=SLUG).first()
    if programme is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [POOL_TABLE])
        if cursor.fetchone()[0] is None:
            return False
    return Pair.objects.filter(cohort__programme=programme).count() == size.pairs


def built() -> Built:
    programme = Programme.objects.get(slug=SLUG)
    pairs = Pair.objects.filter(cohort__programme=programme).order_by("pk")
    pair = pairs[pairs.count() // 2]
    return Built(programme.pk, pair.cohort_id, pair.pk, pair.mentee_id)


@transaction.atomic
def build(size: Size, *, today: date, seed: int = 20) -> None:
    """Empty the programme tables and build ``size``'s data set (see the module docstring),
    all or nothing: a build stopped halfway leaves no data set that ``is_built`` would take
    for a whole one."""
    rng = random.Random(seed)  # noqa: S311 (repeatable, not secret)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(_tables_to_empty())} CASCADE")
        cursor.execute(f"DROP TABLE IF EXISTS {POOL_TABLE}")
        cursor.execute(f"CREATE TABLE {POOL_TABLE} (meeting_id bigint PRIMARY KEY, kind text)")
    User.objects.filter(username__in=[MANAGER, SPONSOR]).delete()
    programme = Programme.objects.create(
        name="Bench web programme",
        slug=SLUG,
        purpose="bench/web.py's programme.",
        status=Programme.Status.RUNNING,
        time_zone=ZONE,
    )
    KeySkill.objects.bulk_create(
        KeySkill(programme=programme, name=f"Skill {n}", position=n) for n in range(SKILLS)
    )
    topics = Topic.objects.bulk_create(
        Topic(programme=programme, title=f"Topic {n}", position=n) for n in range(TOPICS)
    )
    _users(programme)
    starts_on = today - timedelta(days=290)
    per_cohort = size.pairs // size.cohorts
    for number in range(size.cohorts):
        cohort = Cohort.objects.create(
            programme=programme,
            name=f"Cohort {number + 1}",
            starts_on=starts_on,
            ends_on=today + timedelta(days=60),
            status=Cohort.Status.RUNNING,
        )
        count = per_cohort if number < size.cohorts - 1 else size.pairs - per_cohort * number
        _cohort(cohort, count, number, topics, rng)
    _pool(programme, size.pool_sessions)
    kpis_compute(programme=programme)


def _users(programme: Programme) -> None:
    manager = User.objects.create_user(username=MANAGER, email=f"{MANAGER}@bench.example")
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    manager.groups.add(sync_manager_group())
    programme.managers.add(manager)
    sponsor = User.objects.create_user(username=SPONSOR, email=f"{SPONSOR}@bench.example")
    programme.sponsors.add(sponsor)


def _cohort(cohort: Cohort, count: int, number: int, topics: list[Topic], rng) -> None:
    people = Person.objects.bulk_create(
        (
            Person(
                full_name=f"{'Executive' if side == 0 else 'Colleague'} {number}-{n}",
                email=f"p{number}-{n}-{side}@bench.example",
                time_zone=ZONE,
            )
            for n in range(count)
            for side in (0, 1)
        ),
        batch_size=BATCH,
    )
    participants = Participant.objects.bulk_create(
        (
            Participant(
                cohort=cohort,
                person=person,
                role=Role.MENTEE if i % 2 == 0 else Role.REVERSE_MENTOR,
                status=Participant.Status.MATCHED,
            )
            for i, person in enumerate(people)
        ),
        batch_size=BATCH,
    )
    pairs = Pair.objects.bulk_create(
        (
            Pair(
                cohort=cohort,
                mentee=participants[2 * n],
                reverse_mentor=participants[2 * n + 1],
                status=Pair.Status.ACTIVE,
                started_on=cohort.starts_on,
            )
            for n in range(count)
        ),
        batch_size=BATCH,
    )
    agreed = timezone.now() - timedelta(days=285)
    Agreement.objects.bulk_create(
        (
            Agreement(
                pair=pair,
                number=1,
                proposed_by=Role.MENTEE,
                mentee_accepted_at=agreed,
                mentor_accepted_at=agreed,
            )
            for pair in pairs
        ),
        batch_size=BATCH,
    )
    # A few hundred pairs at a time, so memory stays flat at 10,000 pairs.
    for start in range(0, len(pairs), 250):
        _history(pairs[start : start + 250], cohort, topics, rng)
    RiskFlag.objects.bulk_create(
        (
            RiskFlag(
                pair=pair,
                rule=RiskFlag.Rule.MISSED,
                severity=RiskFlag.SEVERITY[RiskFlag.Rule.MISSED],
                condition=f"missed:bench-{pair.pk}",
                opened_at=agreed,
                updated_at=agreed,
            )
            for pair in pairs[::7]
        ),
        batch_size=BATCH,
    )


def _history(pairs: list[Pair], cohort: Cohort, topics: list[Topic], rng) -> None:
    first = datetime.combine(
        cohort.starts_on, datetime.min.time(), tzinfo=timezone.get_current_timezone()
    )
    meetings = []
    for pair in pairs:
        for s in range(SESSIONS_PER_PAIR):
            draw = rng.random()
            status = (
                Meeting.Status.HELD
                if draw < 0.85
                else Meeting.Status.CANCELLED
                if draw < 0.93
                else Meeting.Status.MISSED
            )
            meetings.append(
                Meeting(
                    pair=pair,
                    starts_at=first + timedelta(days=3 + 14 * s, hours=9 + pair.pk % 8),
                    status=status,
                    topic=topics[s % TOPICS] if status == Meeting.Status.HELD else None,
                    led_by=Role.REVERSE_MENTOR if status == Meeting.Status.HELD else "",
                    cancelled_by=Role.MENTEE if status == Meeting.Status.CANCELLED else "",
                    scheduled_by=Role.REVERSE_MENTOR,
                    uid=uuid4(),
                )
            )
    meetings = Meeting.objects.bulk_create(meetings, batch_size=BATCH)
    pulses, requests = [], []
    for index, meeting in enumerate(meetings):
        pair = meeting.pair
        held = meeting.status == Meeting.Status.HELD
        ends = meeting.starts_at + timedelta(minutes=45)
        for participant_id in (pair.mentee_id, pair.reverse_mentor_id):
            requests.append(
                PulseRequest(
                    meeting=meeting,
                    participant_id=participant_id,
                    requested_at=ends + timedelta(hours=1),
                    sent_at=ends + timedelta(hours=1),
                )
            )
            pulses.append(
                Pulse(
                    meeting=meeting,
                    participant_id=participant_id,
                    held=held,
                    not_held="" if held else Pulse.NotHeld.MISSED,
                    learning="Something learned" if held else "",
                    action="Try it next week" if held and index % 3 == 0 else "",
                    good_fit=True if index % SESSIONS_PER_PAIR == 0 and held else None,
                    safety=4 if held else None,
                    teaching=2 if held else None,
                    submitted_at=ends + timedelta(hours=2),
                    session_starts_at=meeting.starts_at,
                )
            )
    PulseRequest.objects.bulk_create(requests, batch_size=BATCH)
    Pulse.objects.bulk_create(pulses, batch_size=BATCH)


def _pool(programme: Programme, sessions: int) -> None:
    """``sessions`` unanswered sessions that ended three hours ago, spread over the pairs
    (one a pair while there are pairs enough), plus one for the concurrency check and one for
    the in-process query count."""
    pairs = list(Pair.objects.filter(cohort__programme=programme).order_by("pk"))
    ago = timezone.now() - timedelta(hours=3, minutes=45)
    kinds = [LOAD] * sessions + [CONCURRENT, QUERIES]
    meetings = Meeting.objects.bulk_create(
        (
            Meeting(
                pair=pairs[n % len(pairs)],
                starts_at=ago - timedelta(minutes=n // len(pairs)),
                scheduled_by=Role.REVERSE_MENTOR,
                uid=uuid4(),
            )
            for n in range(len(kinds))
        ),
        batch_size=BATCH,
    )
    PulseRequest.objects.bulk_create(
        (
            PulseRequest(meeting=meeting, participant_id=participant_id, sent_at=ago)
            for meeting in meetings
            for participant_id in (meeting.pair.mentee_id, meeting.pair.reverse_mentor_id)
        ),
        batch_size=BATCH,
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {POOL_TABLE} (meeting_id, kind) VALUES (%s, %s)",  # noqa: S608
            [(meeting.pk, kind) for meeting, kind in zip(meetings, kinds, strict=True)],
        )


def pool_links(kind: str) -> list[tuple[int, int]]:
    """(participant id, meeting id) of both sides of each pool session of ``kind``: every
    executive's link first, then every reverse-mentor's, so that requests sent together are
    about different sessions (two sides answering one session at the same instant wait for
    each other's update of the session, which a real pair rarely does)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.mentee_id, p.reverse_mentor_id, m.id FROM {POOL_TABLE} b "  # noqa: S608
            f"JOIN {Meeting._meta.db_table} m ON m.id = b.meeting_id "
            f"JOIN {Pair._meta.db_table} p ON p.id = m.pair_id WHERE b.kind = %s ORDER BY m.id",
            [kind],
        )
        rows = cursor.fetchall()
    return [(mentee, meeting) for mentee, _, meeting in rows] + [
        (mentor, meeting) for _, mentor, meeting in rows
    ]


def pool_pulses(kind: str) -> int:
    return Pulse.objects.filter(meeting_id__in=_pool_ids(kind)).count()


def _pool_ids(kind: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT meeting_id FROM {POOL_TABLE} WHERE kind = %s", [kind])  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def pool_reset() -> None:
    """Every pool session unanswered and scheduled again, as built."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT meeting_id FROM {POOL_TABLE}")  # noqa: S608
            ids = [row[0] for row in cursor.fetchall()]
        Pulse.objects.filter(meeting_id__in=ids).delete()
        Meeting.objects.filter(pk__in=ids).update(
            status=Meeting.Status.SCHEDULED, led_by="", topic=None
        )

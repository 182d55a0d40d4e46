"""Leak tests for every sponsor figure: a figure computed from fewer than the smallest group of
distinct people appears in none of the status page (figures and the charts' tables), the
CSV, the chart SVGs and the monthly e-mail, even when the programme has many active people;
from as many people as the smallest group, it shows everywhere. The exact number strings are
looked for, built from the snapshot the figure would have shown. Then differencing: a hidden
month cannot be recovered from its neighbours, a running total or a "so far" count."""

import re
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import Notification
from notifications.sending import notification_send
from pairs.models import Pair
from programmes.models import Person, Programme, Role
from reporting import digests as reporting_digests
from reporting import sponsor
from reporting.kpis import kpis_compute
from reporting.models import KpiSnapshot
from tests.factories import KeySkillFactory, ProgrammeFactory, TopicFactory, UserFactory
from tests.reporting.kpi_helpers import (
    CANCELLED,
    SECRETS,
    ask,
    baseline,
    cohort_in,
    nps,
    pair_in,
    pulse,
    rating,
    session,
)

pytestmark = pytest.mark.django_db

Kpi = KpiSnapshot.Kpi
UTC = ZoneInfo("UTC")
MINIMUM = 5
SEP, OCT, NOV, DEC = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
MANY = 8  # active pairs: 16 people, far more than the smallest group


@pytest.fixture(autouse=True)
def smallest_group(organisation) -> None:
    organisation.min_group_size = MINIMUM
    organisation.save()


def day(month: date, n: int) -> datetime:
    return datetime(month.year, month.month, n, 10, tzinfo=UTC)


def world(active_pairs: int = MANY) -> tuple[Programme, list[Pair]]:
    programme = ProgrammeFactory(time_zone="UTC", status=Programme.Status.RUNNING)
    cohort = cohort_in(programme, date(2026, 9, 1), date(2027, 2, 28))
    return programme, [pair_in(cohort, started_on=date(2026, 9, 1)) for _ in range(active_pairs)]


# --- One builder a figure: October's figure from ``k`` people -----------------------------------
# Each returns the programme; values are chosen away from the targets and chart ticks.


def notes_logged(k: int) -> Programme:
    # Every pair held a session; k executives answered, three of them logged a learning:
    # 3 of 8 held sessions (38%), from the k who answered.
    programme, pairs = world()
    for i, pair in enumerate(pairs):
        held = session(pair, day(OCT, i + 1))
        if i < k:
            pulse(held, pair.mentee, learning=SECRETS[0] if i < 3 else "")
    return programme


def action_commitment(k: int) -> Programme:
    programme, pairs = world()
    for i, pair in enumerate(pairs[:k]):
        pulse(session(pair, day(OCT, i + 1)), pair.mentee, action=SECRETS[1] if i < 3 else "")
    return programme


def action_follow_through(k: int) -> Programme:
    programme, pairs = world()
    for i, pair in enumerate(pairs[:k]):
        done = "yes" if i == 0 else "no"
        pulse(session(pair, day(OCT, i + 1)), pair.mentee, previous_action_done=done)
    return programme


def pulse_response_rate(k: int) -> Programme:
    # k asked, all but one answered.
    programme, pairs = world()
    for i, pair in enumerate(pairs[:k]):
        held = session(pair, day(OCT, i + 1))
        if i == 0:
            ask(held, pair.mentee)
        else:
            pulse(held, pair.mentee)
    return programme


def reversion_rate(k: int) -> Programme:
    programme, pairs = world()
    for i, pair in enumerate(pairs[:k]):
        pulse(session(pair, day(OCT, i + 1)), pair.mentee, teaching=5 if i == 0 else 1)
    return programme


def cancellation_rate(k: int) -> Programme:
    # Sessions came due for k // 2 pairs only: one cancelled by an executive.
    programme, pairs = world()
    for i, pair in enumerate(pairs[: k // 2]):
        session(pair, day(OCT, i + 1))
    session(pairs[0], day(OCT, 20), CANCELLED, cancelled_by=Role.MENTEE)
    return programme


def nps_answers(k: int) -> Programme:
    programme, pairs = world()
    scores = [10, 10, 10, 3] + [7] * (k - 4)
    for pair, score in zip(pairs, scores, strict=False):
        nps(pair.mentee, score, day(OCT, 15))
    return programme


def confidence_change(k: int) -> Programme:
    programme, pairs = world()
    skill = KeySkillFactory(programme=programme, name="Digital fluency")
    for pair in pairs[:k]:
        baseline(pair.mentee, skill, 2, day(SEP, 1))
        rating(pair.mentee, skill, 4, day(OCT, 5))
    return programme


def session_frequency(k: int) -> Programme:
    # The figure is every active pair's: a programme of k // 2 pairs, five sessions held.
    programme, pairs = world(active_pairs=k // 2)
    for n in range(5):
        session(pairs[n % len(pairs)], day(OCT, n + 1))
    return programme


def topic_coverage(k: int) -> Programme:
    # Of the many active pairs, k // 2 held sessions, all on the first of two topics.
    programme, pairs = world()
    first = TopicFactory(programme=programme, title="Trust", position=1)
    TopicFactory(programme=programme, title="Customers", position=2)
    for i, pair in enumerate(pairs[: k // 2]):
        session(pair, day(OCT, i + 1), topic=first)
    return programme


# (builder, kpi, people just below the smallest group, people at it)
FIGURES: dict[str, tuple[Callable[[int], Programme], str, int, int]] = {
    "notes_logged": (notes_logged, Kpi.NOTES_LOGGED, 4, 5),
    "action_commitment": (action_commitment, Kpi.ACTION_COMMITMENT, 4, 5),
    "action_follow_through": (action_follow_through, Kpi.ACTION_FOLLOW_THROUGH, 4, 5),
    "pulse_response_rate": (pulse_response_rate, Kpi.PULSE_RESPONSE_RATE, 4, 5),
    "reversion_rate": (reversion_rate, Kpi.REVERSION_RATE, 4, 5),
    "cancellation_rate": (cancellation_rate, Kpi.CANCELLATION_RATE, 4, 6),
    "nps": (nps_answers, Kpi.NPS, 4, 5),
    "confidence_change": (confidence_change, Kpi.CONFIDENCE_CHANGE, 4, 5),
    "session_frequency": (session_frequency, Kpi.SESSION_FREQUENCY, 4, 6),
    "topic_coverage": (topic_coverage, Kpi.TOPIC_COVERAGE, 4, 6),
}


# --- Reading everything a sponsor can read ------------------------------------------------------


def computed(programme: Programme, now: datetime = datetime(2026, 11, 2, 3, tzinfo=UTC)) -> None:
    kpis_compute(programme=programme, now=now)


def value_text(programme: Programme, kpi: str, month: date = OCT) -> str:
    """The figure as the page would show it, were it shown."""
    row = KpiSnapshot.objects.get(programme=programme, cohort=None, month=month, kpi=kpi, part="")
    assert row.value is not None
    if kpi == Kpi.TOPIC_COVERAGE:
        return f"{round(row.numerator)} of {row.denominator} topics"
    kind = sponsor.HEADLINE_BY_KPI[kpi].kind
    return sponsor.format_value(kind, sponsor.shown_value(kind, row.value))


def everything(client, programme: Programme, month: date = OCT) -> dict[str, str]:
    """What a sponsor reads about ``month``: the page (figures and the charts' tables), the
    CSV, every chart's SVG and the month's e-mail."""
    user = UserFactory(email="sponsor@example.org")
    programme.sponsors.add(user)
    client.force_login(user)
    page = client.get(reverse("reporting:sponsor_status", args=[programme.slug, month]))
    csv = client.get(reverse("reporting:sponsor_figures_csv", args=[programme.slug, month]))
    assert (page.status_code, csv.status_code) == (200, 200)
    charts = []
    for kpi in sponsor.CHARTED:
        url = reverse("reporting:sponsor_chart", args=[programme.slug, kpi])
        response = client.get(url, {"month": f"{month:%Y-%m}"})
        assert response.status_code == 200
        charts.append(response.content.decode())
    reporting_digests.ask_sponsor_status(user, programme, date(2026, 12, 2), month)
    notification = Notification.objects.get(user=user, kind="sponsor_status")
    mail.outbox.clear()
    assert notification_send(notification.pk) == "sent"
    [message] = mail.outbox
    email = message.body + "".join(str(body) for body, _ in getattr(message, "alternatives", []))
    return {
        "page": page.content.decode(),
        "csv": csv.content.decode(),
        "charts": "\n".join(charts),
        "email": email,
    }


def has_number(text: str, number: str) -> bool:
    """``number`` ("38%", "+2.0", "1.7") as a whole number in ``text``, not a part of
    another ("38%" is not in "138%", "2.5" not in "12.5")."""
    return re.search(rf"(?<![0-9.+\-]){re.escape(number)}(?![0-9])", text) is not None


# --- Each figure --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(FIGURES))
def test_it_shows_no_figure_from_fewer_people_than_the_smallest_group_anywhere(client, name):
    build, kpi, small, _ = FIGURES[name]
    programme = build(small)
    computed(programme)
    hidden = value_text(programme, kpi)

    read = everything(client, programme)

    for where, text in read.items():
        assert not has_number(text, hidden), (where, hidden)
    status = sponsor.sponsor_status(programme=programme, month=OCT)
    if kpi in sponsor.HEADLINE_BY_KPI:
        [figure] = [figure for figure in status.headline if figure.kpi == kpi]
        assert (figure.suppressed, figure.value) == (True, None)
        assert "fewer than 5 responses" in read["email"]
    else:
        assert status.topics.coverage_text == "fewer than 5 responses"


@pytest.mark.parametrize("name", list(FIGURES))
def test_it_shows_a_figure_from_as_many_people_as_the_smallest_group_everywhere(client, name):
    build, kpi, _, enough = FIGURES[name]
    programme = build(enough)
    computed(programme)
    shown = value_text(programme, kpi)

    read = everything(client, programme)

    assert has_number(read["page"], shown)
    assert has_number(read["csv"], shown)
    if kpi in sponsor.CHARTED:
        assert has_number(read["charts"], shown)  # the chart's words, <desc>
        assert has_number(read["email"], shown)


@pytest.mark.parametrize("name", list(FIGURES))
def test_the_sponsor_pages_carry_no_name_and_no_free_text(client, name):
    build, _, _, enough = FIGURES[name]
    programme = build(enough)
    computed(programme)

    read = everything(client, programme)

    names = list(Person.objects.values_list("full_name", flat=True))
    assert names
    for where, text in read.items():
        for written in (*SECRETS, *names):
            assert written not in text, (where, written)


# --- Differencing -------------------------------------------------------------------------------


def test_a_hidden_month_is_not_in_the_neighbouring_months_charts_or_tables(client):
    # September's notes come from five people, October's from two: October's value must not
    # reach November's page, whose trends show every month.
    programme, pairs = world()
    programme.target_action_follow_through = 45  # away from October's 50%
    programme.save()
    for i, pair in enumerate(pairs[:5]):
        pulse(session(pair, day(SEP, i + 1)), pair.mentee, learning="x")
    for i, pair in enumerate(pairs[:2]):
        held = session(pair, day(OCT, i + 1))
        pulse(held, pair.mentee, learning="x" if i == 0 else "")
    for i, pair in enumerate(pairs[:5]):
        pulse(session(pair, day(NOV, i + 1)), pair.mentee, learning="x" if i < 2 else "")
    computed(programme, datetime(2026, 12, 2, 3, tzinfo=UTC))
    october = value_text(programme, Kpi.NOTES_LOGGED, OCT)  # 50%
    assert october == "50%"

    for month in (SEP, NOV):
        for where, text in everything(client, programme, month).items():
            # The charts' y-axis reads "50%" as a tick: look at the figures only.
            text = re.sub(r">50%</text>", "", text)
            assert not has_number(text, october), (month, where)
        Notification.objects.all().delete()
        programme.sponsors.clear()


def test_a_running_total_hides_a_month_whose_difference_is_a_few_peoples_change(client):
    # Confidence change is cumulative. September: five people at +2. October: one more at
    # +3, so October − September would give that one person's change: hidden, and so is
    # November (nobody new, but the last month shown is still September). December: five
    # more people moved it: shown.
    programme, pairs = world(active_pairs=8)
    skill = KeySkillFactory(programme=programme, name="Digital fluency")
    mentees = [pair.mentee for pair in pairs] + [pair.reverse_mentor for pair in pairs[:3]]
    for person in mentees[:5]:
        baseline(person, skill, 2, day(SEP, 1))
        rating(person, skill, 4, day(SEP, 10))
    baseline(mentees[5], skill, 2, day(SEP, 1))
    rating(mentees[5], skill, 5, day(OCT, 10))
    for person in mentees[6:11]:
        baseline(person, skill, 2, day(SEP, 1))
        rating(person, skill, 3, day(DEC, 3))
    computed(programme, datetime(2026, 12, 20, 3, tzinfo=UTC))

    def shown(month: date) -> str:
        status = sponsor.sponsor_status(programme=programme, month=month)
        [figure] = [f for f in status.headline if f.kpi == Kpi.CONFIDENCE_CHANGE]
        return figure.text

    october = value_text(programme, Kpi.CONFIDENCE_CHANGE, OCT)  # (10 + 3) / 6
    assert october == "+2.2"
    # December: (10 + 3 + 5 × 1) / 11 ≈ +1.6, from five more people.
    assert [shown(month) for month in (SEP, OCT, NOV, DEC)] == [
        "+2.0",
        "fewer than 5 responses",
        "fewer than 5 responses",
        "+1.6",
    ]
    for month in (OCT, NOV, DEC):
        for where, text in everything(client, programme, month).items():
            assert not has_number(text, october), (month, where)
        Notification.objects.all().delete()
        programme.sponsors.clear()


def test_topic_counts_so_far_never_give_away_a_banded_month(client):
    # September: three pairs held a session on Trust (six people: exact). October: one pair
    # held two on Trust (banded), three pairs one each on Customers (exact). "So far" in
    # October is September's exact count plus a "+", never 3 + 2 = 5.
    programme, pairs = world()
    trust = TopicFactory(programme=programme, title="Trust", position=1)
    customers = TopicFactory(programme=programme, title="Customers", position=2)
    for i, pair in enumerate(pairs[:3]):
        session(pair, day(SEP, i + 1), topic=trust)
    session(pairs[3], day(OCT, 1), topic=trust)
    session(pairs[3], day(OCT, 2), topic=trust)
    for i, pair in enumerate(pairs[4:7]):
        session(pair, day(OCT, i + 3), topic=customers)
    computed(programme)

    september = sponsor.sponsor_status(programme=programme, month=SEP).topics
    october = sponsor.sponsor_status(programme=programme, month=OCT).topics

    assert [(r.title, r.this_month_text, r.so_far_text) for r in september.rows] == [
        ("Trust", "3", "3"),
        ("Customers", "0", "0"),
    ]
    assert [(r.title, r.this_month_text, r.so_far_text) for r in october.rows] == [
        ("Trust", "fewer than 5", "3+"),
        ("Customers", "3", "3"),
    ]
    read = everything(client, programme, OCT)
    assert "Sessions on topic: Trust,fewer than 5" in read["csv"]
    assert not re.search(r"Trust.*?>\s*5\s*<", read["page"], re.S)

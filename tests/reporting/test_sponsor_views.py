"""The sponsors' pages (reporting/sponsor_views.py): who may read them (a programme's
sponsors, its managers and superusers; anyone else gets a 404, anonymous visitors the sign-in
page), the status page, its CSV and charts, small groups suppressed alike in all three, and a
fixed number of queries whatever the programme's size."""

import csv
import io
import re
from datetime import date, timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from lib.spreadsheets import csv_cell
from pairs.models import Pair
from programmes.models import Cohort, Participant, Person, Programme, Role
from reporting import sponsor as selector
from reporting.kpis import kpis_compute
from reporting.models import KpiSnapshot
from risks.models import PairAction, RiskFlag
from tests.factories import (
    CohortFactory,
    KeySkillFactory,
    ProgrammeFactory,
    TopicFactory,
    UserFactory,
)
from tests.reporting.test_sponsor import NOVEMBER, OCTOBER, snap

pytestmark = pytest.mark.django_db

Kpi = KpiSnapshot.Kpi
SVG = "{http://www.w3.org/2000/svg}"


def status_url(programme: Programme, month: date = NOVEMBER) -> str:
    return reverse("reporting:sponsor_status", args=[programme.slug, month])


def csv_url(programme: Programme, month: date = NOVEMBER) -> str:
    return reverse("reporting:sponsor_figures_csv", args=[programme.slug, month])


def chart_url(programme: Programme, kpi: str = Kpi.NOTES_LOGGED) -> str:
    return reverse("reporting:sponsor_chart", args=[programme.slug, kpi])


def programme_url(programme: Programme) -> str:
    return reverse("reporting:sponsor_programme", args=[programme.slug])


def every_url(programme: Programme) -> list[str]:
    return [
        programme_url(programme),
        status_url(programme),
        csv_url(programme),
        chart_url(programme),
    ]


def two_months(programme: Programme) -> None:
    """October and November of ``programme``, every headline figure shown."""
    for month in (OCTOBER, NOVEMBER):
        for measure in selector.HEADLINE:
            snap(programme, month, measure.kpi, 0.5)


def headline_card(page: str, kpi: str) -> tuple[str, str]:
    """(mark, figure as shown) of a headline figure's card on the status page."""
    found = re.search(
        rf'<article class="figure-card h-100 mark-edge-(\w+)" aria-labelledby="figure-{kpi}">'
        r'.*?<p class="figure-value[^"]*">([^<]*)</p>',
        page,
        re.DOTALL,
    )
    assert found, f"no card for {kpi}"
    return found[1], found[2]


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", response.content.decode())


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- Who may read them --------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_sign_in(client, programme):
    """Participants (mentees and reverse-mentors) have no accounts: their signed links open
    their own pages only, so to these pages they are anonymous visitors, sent to sign in."""
    two_months(programme)
    for url in [reverse("reporting:sponsor_index"), *every_url(programme)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next=")


def test_a_sponsor_of_one_programme_gets_404_for_anothers(client, programme, sponsor):
    other = ProgrammeFactory(name="Digital Futures", slug="digital-futures")
    two_months(programme)
    two_months(other)
    client.force_login(sponsor)

    for url in every_url(other):
        assert client.get(url).status_code == 404, url
    assert client.get(status_url(programme)).status_code == 200


def test_a_user_who_is_not_a_sponsor_gets_404(client, programme, outsider):
    two_months(programme)
    client.force_login(outsider)

    for url in every_url(programme):
        assert client.get(url).status_code == 404, url


def test_a_staff_member_who_does_not_manage_the_programme_gets_404(client, programme):
    two_months(programme)
    client.force_login(UserFactory(is_staff=True))

    assert client.get(status_url(programme)).status_code == 404


def test_the_programmes_managers_and_superusers_may_read_it(client, programme, manager):
    two_months(programme)
    for user in (manager, UserFactory(is_superuser=True, is_staff=True)):
        client.force_login(user)
        for url in every_url(programme)[1:]:
            assert client.get(url).status_code == 200, url


def test_the_pages_only_answer_reading(client, programme, sponsor):
    two_months(programme)
    client.force_login(sponsor)

    assert client.post(status_url(programme)).status_code == 405
    assert client.head(status_url(programme)).status_code == 200


# --- The list of programmes ---------------------------------------------------------------------


def test_the_index_lists_the_programmes_the_user_sponsors_and_nothing_else(
    client, programme, sponsor, manager
):
    two_months(programme)
    snap(programme, NOVEMBER, Kpi.NOTES_LOGGED, 0.5, cohort=CohortFactory(programme=programme))
    waiting = ProgrammeFactory(name="Wave Zero", slug="wave-zero")
    waiting.sponsors.add(sponsor)
    ProgrammeFactory(name="Someone Else's")
    client.force_login(sponsor)

    response = client.get(reverse("reporting:sponsor_index"))

    page = response.content.decode()
    assert [p.name for p in response.context["programmes"]] == ["Inclusive Leadership", "Wave Zero"]
    assert status_url(programme) in page
    assert "Read the November 2026 status" in page
    assert "No figures yet" in page
    assert "Someone Else" not in page


def test_the_index_says_so_when_the_user_sponsors_nothing(client, manager, programme):
    client.force_login(manager)  # managers read pages, but sponsor none

    response = client.get(reverse("reporting:sponsor_index"))

    assert response.status_code == 200
    assert "You don't sponsor a programme yet" in response.content.decode()


# --- A programme's page -------------------------------------------------------------------------


def test_a_programme_opens_at_its_latest_month(client, programme, sponsor):
    two_months(programme)
    client.force_login(sponsor)

    assert client.get(programme_url(programme))["Location"] == status_url(programme, NOVEMBER)
    # The month selector picks a month; a month without figures, or none, opens the latest.
    response = client.get(programme_url(programme), {"month": "2026-10"})
    assert response["Location"] == status_url(programme, OCTOBER)
    for other in ("2025-01", ""):
        response = client.get(programme_url(programme), {"month": other})
        assert response["Location"] == status_url(programme, NOVEMBER), other
    # Anything that is not a month is a bad request, said in a short page.
    for bad in ("2026-13", "nonsense", "2026-1-1"):
        response = client.get(programme_url(programme), {"month": bad})
        assert response.status_code == 400, bad
        assert "not a month we can show" in response.content.decode()


def test_a_programme_without_figures_says_so(client, programme, sponsor):
    client.force_login(sponsor)

    response = client.get(programme_url(programme))

    assert response.status_code == 200
    assert "No figures yet" in response.content.decode()


def test_a_month_without_figures_is_a_friendly_404(client, programme, sponsor):
    two_months(programme)
    client.force_login(sponsor)

    response = client.get(status_url(programme, date(2026, 3, 1)))

    assert response.status_code == 404
    page = response.content.decode()
    assert "There are no figures for March 2026" in page
    assert "from October 2026 to November 2026" in page
    assert status_url(programme, NOVEMBER) in page
    assert client.get(csv_url(programme, date(2026, 3, 1))).status_code == 404
    assert client.get(f"/sponsor/{programme.slug}/2026-13/").status_code == 404
    assert client.get(f"/sponsor/{programme.slug}/2026-00/").status_code == 404
    assert client.get(f"/sponsor/{programme.slug}/charts/nonsense.svg").status_code == 404
    assert client.get(f"/sponsor/{programme.slug}/charts/at_risk_pairs.svg").status_code == 404


# --- The status page ----------------------------------------------------------------------------


def test_the_status_page_gives_the_two_minute_picture(client, november, sponsor):
    client.force_login(sponsor)

    response = client.get(status_url(november))

    assert response.status_code == 200
    page = response.content.decode()
    assert "November 2026" in page
    assert "What we need from you" in page
    assert "Please open the December showcase." in page
    assert headline_card(page, Kpi.SESSION_FREQUENCY) == (selector.ON_TRACK, "2.1")
    assert headline_card(page, Kpi.CANCELLATION_RATE)[0] == selector.WATCH
    assert headline_card(page, Kpi.NOTES_LOGGED)[0] == selector.OFF_TRACK
    # Each mark is written out, never colour alone.
    for label in ("On track", "Watch", "Off track"):
        assert label in page
    assert "cancelled by executives: 25%" in page
    # Suppressed and empty figures read as such.
    assert "fewer than 5 responses" in page
    assert "no data" in page
    # Topics, with the uncovered one called out.
    assert "Not covered yet:</strong> Generative AI." in page
    # Stories both participants agreed to, and only those.
    assert "A calmer inbox" in page
    assert "An executive now answers customers within a day." in page
    assert "Not agreed yet" not in page
    # Month selector, CSV and the other month.
    assert status_url(november, OCTOBER) in page
    assert csv_url(november) in page
    assert 'name="month"' in page


def test_the_status_page_draws_each_trend_with_a_table_beside_it(client, november, sponsor):
    client.force_login(sponsor)

    page = client.get(status_url(november)).content.decode()

    assert page.count("<svg ") == len(selector.HEADLINE)
    assert page.count('<details class="trend-table">') == len(selector.HEADLINE)
    assert 'role="img"' in page
    assert '<title id="chart-notes_logged-title">Notes logged, month by month</title>' in page
    # Action commitment is from four people both months: a gap, said in words.
    assert "October 2026: fewer than 5 responses; November 2026: fewer than 5 responses" in page


def test_the_status_page_shows_a_month_without_an_ask(client, november, sponsor):
    client.force_login(sponsor)

    page = client.get(status_url(november, OCTOBER)).content.decode()

    assert "What we need from you" not in page
    assert "No NPS" not in page
    assert "October 2026" in page


@pytest.mark.parametrize(
    ("people", "shown"), [(4, False), (5, True), (6, True)], ids=["below", "at", "above"]
)
def test_it_suppresses_small_groups_alike_in_page_csv_chart_and_email(
    client, programme, sponsor, people, shown
):
    two_months(programme)
    KpiSnapshot.objects.filter(month=NOVEMBER, kpi=Kpi.PULSE_RESPONSE_RATE).update(
        value=0.77, people=people
    )
    client.force_login(sponsor)
    expected = "77%" if shown else "fewer than 5 responses"

    page = client.get(status_url(programme)).content.decode()
    rows = csv_rows(client.get(csv_url(programme)))
    chart = client.get(chart_url(programme, Kpi.PULSE_RESPONSE_RATE)).content.decode()
    figure = next(
        f
        for f in selector.sponsor_status(programme=programme, month=NOVEMBER).headline
        if f.kpi == Kpi.PULSE_RESPONSE_RATE
    )

    assert figure.text == expected
    assert f'<p class="figure-value{"" if shown else " figure-missing"}">{expected}</p>' in page
    assert [
        "2026-11",
        "Pulse response rate",
        expected,
        "target 70%",
        "On track" if shown else "",
    ] in rows
    assert f"November 2026: {expected}" in chart
    assert ("77%" in page) is shown
    assert ("77%" in chart) is shown


def test_the_csv_gives_every_figure_as_shown(client, november, sponsor):
    client.force_login(sponsor)

    response = client.get(csv_url(november))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="inclusive-leadership-2026-11-figures.csv"'
    )
    rows = csv_rows(response)
    assert rows[0] == ["month", "figure", "value", "target", "mark"]
    assert rows[1:] == [
        ["2026-11", "Session frequency", "2.1", "target 2 a month", "On track"],
        ["2026-11", "Cancellation rate", "25%", "at most 20%", "Watch"],
        ["2026-11", "Cancellation rate: cancelled by executives", "25%", "", ""],
        ["2026-11", "Cancellation rate: cancelled by reverse-mentors", "0%", "", ""],
        ["2026-11", "Pulse response rate", "83%", "target 70%", "On track"],
        ["2026-11", "Notes logged", "50%", "target 80%", "Off track"],
        ["2026-11", "Action commitment", "fewer than 5 responses", "target 60%", ""],
        ["2026-11", "Action follow-through", "no data", "target 50%", ""],
        ["2026-11", "Reversion rate", "10%", "at most 20%", "On track"],
        ["2026-11", "Programme NPS", "+40", "target +30", "On track"],
        ["2026-11", "Confidence change", "+0.4", "target +0.5", "Watch"],
        ["2026-11", "Confidence change: Digital fluency", "+0.6", "target +0.5", "On track"],
        ["2026-11", "Active pairs", "6", "", ""],
        ["2026-11", "Pairs with an at-risk flag", "fewer than 5", "", ""],
        ["2026-11", "Topic coverage", "1 of 2 topics", "", ""],
        ["2026-11", "Sessions on topic: Trust and expectations", "3", "", ""],
        ["2026-11", "Sessions on topic: Generative AI", "0", "", ""],
    ]


def test_the_csv_never_starts_a_cell_with_a_formula(client, programme, sponsor):
    two_months(programme)
    topic = TopicFactory(programme=programme, title='=HYPERLINK("http://x.example","y")')
    snap(programme, NOVEMBER, Kpi.TOPIC_COVERAGE, 1.0, part=f"topic:{topic.pk}")
    KpiSnapshot.objects.filter(month=NOVEMBER, kpi=Kpi.NPS).update(value=-20.0)
    client.force_login(sponsor)

    rows = csv_rows(client.get(csv_url(programme)))

    assert ["2026-11", "Programme NPS", "-20", "target +30", "Off track"] in rows
    assert 'Sessions on topic: =HYPERLINK("http://x.example","y")' in [row[1] for row in rows]
    assert all(not cell.startswith(("=", "@")) for row in rows for cell in row)
    # Text a spreadsheet would run as a formula is quoted; figures stay numbers.
    assert [csv_cell(cell) for cell in ("=1+1", "@SUM(A1)", "-cmd", "-20", "+0.5", "17%")] == [
        "'=1+1",
        "'@SUM(A1)",
        "'-cmd",
        "-20",
        "+0.5",
        "17%",
    ]


def test_a_chart_is_an_svg_image_with_its_words(client, november, sponsor):
    client.force_login(sponsor)

    response = client.get(chart_url(november, Kpi.SESSION_FREQUENCY), {"month": "2026-10"})

    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    root = ElementTree.fromstring(response.content)  # noqa: S314 (our own SVG)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Session frequency, month by month"
    assert root.find(f"{SVG}desc").text == (
        "October 2026: 2.1; November 2026: 2.1. Target 2 a month."
    )
    # A bad month to highlight is a bad request, never a server error.
    assert client.get(chart_url(november), {"month": "2026-99"}).status_code == 400


# --- A fixed number of queries ------------------------------------------------------------------


def big_programme(pairs: int) -> Programme:
    """A running programme of ``pairs`` pairs (a tenth paused, a tenth with an open flag and
    a check-in this month), three topics, two key skills and computed snapshots."""
    programme = ProgrammeFactory(name=f"Programme of {pairs}", slug=f"programme-of-{pairs}")
    for n in range(3):
        TopicFactory(programme=programme, title=f"Topic {n}")
    for n in range(2):
        KeySkillFactory(programme=programme, name=f"Skill {n}")
    today = timezone.now().astimezone(ZoneInfo(programme.time_zone)).date()
    cohort = CohortFactory(
        programme=programme,
        starts_on=today - timedelta(days=60),
        ends_on=today + timedelta(days=60),
        status=Cohort.Status.RUNNING,
    )
    people = Person.objects.bulk_create(
        Person(full_name=f"Person {pairs}-{n}", email=f"p{pairs}-{n}@example.org")
        for n in range(2 * pairs)
    )
    participants = Participant.objects.bulk_create(
        Participant(
            cohort=cohort,
            person=person,
            role=Role.MENTEE if n % 2 == 0 else Role.REVERSE_MENTOR,
            status=Participant.Status.MATCHED,
        )
        for n, person in enumerate(people)
    )
    created = Pair.objects.bulk_create(
        Pair(
            cohort=cohort,
            mentee=participants[2 * n],
            reverse_mentor=participants[2 * n + 1],
            status=Pair.Status.PAUSED if n % 10 == 0 else Pair.Status.ACTIVE,
            started_on=cohort.starts_on,
        )
        for n in range(pairs)
    )
    now = timezone.now()
    RiskFlag.objects.bulk_create(
        RiskFlag(
            pair=pair,
            rule=RiskFlag.Rule.MISSED,
            severity=RiskFlag.Severity.MEDIUM,
            condition=f"test-{pair.pk}",
            opened_at=now - timedelta(hours=1),
            updated_at=now - timedelta(hours=1),
        )
        for pair in created[::10]
    )
    PairAction.objects.bulk_create(
        PairAction(pair=pair, kind=PairAction.Kind.CHECKIN, at=now - timedelta(minutes=5))
        for pair in created[::10]
    )
    kpis_compute(programme=programme, now=now)
    return programme


@pytest.mark.parametrize("pairs", [10, 1000])
def test_the_status_page_takes_a_fixed_number_of_queries_whatever_the_size(
    client, django_assert_num_queries, pairs
):
    programme = big_programme(pairs)
    user = UserFactory()
    programme.sponsors.add(user)
    client.force_login(user)
    url = status_url(programme, selector.sponsor_months(programme)[-1])

    # 1 the session, 2 the user, 3 the programme with the permission check, the cache
    # key's fingerprint and the month's ask, 4 the key skills and topics (the key's too),
    # then on a miss sponsor.sponsor_status: 5 the organisation's minimum group, 6 every
    # programme-level snapshot, 7 the key skills, 8 the topics, 9 the month's ask, 10 the
    # pairs today (one aggregate), 11 the month's actions by kind, 12 the stories.
    with django_assert_num_queries(12):
        first = client.get(url)
    # From the cache: 5 the pairs today, 6 the month's actions, 7 the stories.
    with django_assert_num_queries(7):
        response = client.get(url)

    assert response.status_code == first.status_code == 200
    # The same page (the sign-out form's token is masked afresh each time).
    assert without_csrf(response) == without_csrf(first)
    pairs_now = response.context["pairs"]
    # Counts below the smallest group are banded.
    assert (pairs_now.active_now, pairs_now.paused_now) == (
        selector.count_text(pairs - pairs // 10, 5),
        selector.count_text(pairs // 10, 5),
    )
    assert pairs_now.at_risk_now == selector.count_text(pairs // 10, 5)
    assert pairs_now.actions == [("Check-in sent", selector.count_text(pairs // 10, 5))]


@pytest.mark.parametrize("pairs", [10, 1000])
def test_the_csv_and_a_chart_take_a_fixed_number_of_queries(
    client, django_assert_num_queries, pairs
):
    programme = big_programme(pairs)
    user = UserFactory()
    programme.sponsors.add(user)
    client.force_login(user)
    month = selector.sponsor_months(programme)[-1]

    ContentType.objects.get_for_model(Programme)  # cached once per process
    # The status's eleven queries (the page's without its cache), and the download's audit
    # entry.
    with django_assert_num_queries(12):
        assert client.get(csv_url(programme, month)).status_code == 200
    # The session, the user, the programme, the organisation's minimum group and the
    # figure's snapshots.
    with django_assert_num_queries(5):
        assert client.get(chart_url(programme)).status_code == 200

"""The managers' KPI page of a programme in the admin (reporting/admin_kpis.py): staff with
the admin's permission to view programmes only; the snapshots as tables, "no data" where a
figure has nothing behind it; never what a participant wrote; a fixed number of queries
however many cohorts and months; "Recompute now" recomputes on the spot."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from programmes.models import Programme
from reporting.admin_kpis import format_figure
from reporting.kpis import kpis_compute
from reporting.models import KpiSnapshot
from tests.factories import UserFactory
from tests.reporting.kpi_helpers import (
    HELD,
    SECRETS,
    build_world,
    cohort_in,
    pair_in,
    session,
    utc,
)

pytestmark = pytest.mark.django_db

NOW = utc(2026, 2, 20, 12)


def kpis_url(programme: Programme) -> str:
    return reverse("admin:programmes_programme_kpis", args=[programme.pk])


@pytest.fixture
def world(programme: Programme) -> dict:
    programme.time_zone = "Europe/London"
    programme.save()
    world = build_world(programme)
    kpis_compute(programme=programme, now=NOW)
    return world


def test_it_shows_managers_a_table_per_scope(client, manager, world):
    client.force_login(manager)
    response = client.get(kpis_url(world["programme"]))

    assert response.status_code == 200
    tables = response.context["tables"]
    # The whole programme first, then the cohorts that have figures (C has not started).
    assert [table.title for table in tables] == ["Whole programme", "A", "B"]
    assert tables[0].months == [date(2026, 1, 1), date(2026, 2, 1)]
    rows = {row.label: [cell.text for cell in row.cells] for row in tables[1].rows}
    # January and February of cohort A, as worked out in test_kpis.py.
    assert rows["Session frequency (target 2 a month)"] == ["1.0", "0.5"]
    assert rows["Notes logged"] == ["67%", "0%"]
    assert rows["Action commitment"] == ["40%", "no data"]
    assert rows["Pulse response rate"] == ["75%", "no data"]
    assert rows["Cancellation rate"] == ["43%", "0%"]
    assert rows["cancelled by the executive"] == ["14%", "0%"]
    assert rows["Confidence change (all key skills)"] == ["0.0", "+1.0"]
    assert rows["Skill 1"] == ["0.0", "+0.7"]
    assert rows["Skill 2"] == ["no data", "+2.0"]
    assert rows["Programme NPS"] == ["+25", "no data"]
    assert rows["Reversion rate"] == ["33%", "no data"]
    assert rows["At-risk pairs"] == ["2", "1"]
    assert rows["Topic coverage"] == ["50%", "25%"]
    assert rows["sessions on “Topic 1”"] == ["2", "0"]
    # The empty cohort: all "no data".
    assert {cell.text for row in tables[2].rows for cell in row.cells} == {"no data"}
    html = response.content.decode()
    assert "Recompute now" in html
    assert 'title="6 / 8, from 4 people"' in html


def test_it_says_when_there_are_no_figures_yet(client, manager, programme):
    client.force_login(manager)
    response = client.get(kpis_url(programme))

    assert response.status_code == 200
    assert response.context["tables"] == []
    assert "No figures yet" in response.content.decode()


def test_it_never_shows_what_participants_wrote(client, manager, world):
    client.force_login(manager)
    html = client.get(kpis_url(world["programme"])).content.decode()

    for secret in SECRETS:
        assert secret not in html


def test_it_refuses_sponsors_and_outsiders(client, sponsor, outsider, world):
    url = kpis_url(world["programme"])
    for user in (sponsor, outsider):
        client.force_login(user)
        for response in (client.get(url), client.post(url)):
            # Not staff: the admin sends them to its login page.
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))
    client.logout()
    assert client.get(url).status_code == 302


def test_it_refuses_staff_without_the_right_to_view_programmes(client, world):
    clerk = UserFactory(username="dora", is_staff=True)
    world["programme"].managers.add(clerk)  # their programme: what is missing is the permission
    client.force_login(clerk)
    assert client.get(kpis_url(world["programme"])).status_code == 403

    # Viewing is not recomputing.
    clerk.user_permissions.add(Permission.objects.get(codename="view_programme"))
    assert client.get(kpis_url(world["programme"])).status_code == 200
    before = list(KpiSnapshot.objects.values_list("pk", flat=True))
    assert client.post(kpis_url(world["programme"])).status_code == 403
    assert list(KpiSnapshot.objects.values_list("pk", flat=True)) == before


def test_it_answers_404_for_an_unknown_programme(client, manager):
    client.force_login(manager)
    response = client.get(reverse("admin:programmes_programme_kpis", args=[999999]))
    assert response.status_code == 404


def test_it_recomputes_now_on_request(client, manager, world):
    client.force_login(manager)
    later = datetime(2026, 2, 21, 9, 30, tzinfo=ZoneInfo("Europe/London"))
    with time_machine.travel(later, tick=False):
        response = client.post(kpis_url(world["programme"]), follow=True)

    assert response.redirect_chain == [(kpis_url(world["programme"]), 302)]
    assert "The KPIs were recomputed" in response.content.decode()
    assert set(KpiSnapshot.objects.values_list("computed_at", flat=True)) == {later}


def test_it_links_the_kpis_from_the_programme_list_and_page(admin_client, world):
    url = kpis_url(world["programme"])
    changelist = admin_client.get(reverse("admin:programmes_programme_changelist"))
    change = admin_client.get(
        reverse("admin:programmes_programme_change", args=[world["programme"].pk])
    )
    assert f'href="{url}"' in changelist.content.decode()
    assert f'href="{url}"' in change.content.decode()


def test_it_costs_the_same_queries_however_many_cohorts_and_months(
    client, manager, programme, django_assert_num_queries
):
    programme.time_zone = "Europe/London"
    programme.save()
    cohort = cohort_in(programme, date(2025, 11, 1), date(2026, 3, 31))
    session(pair_in(cohort, started_on=date(2025, 11, 1)), utc(2025, 11, 10, 10), HELD)
    kpis_compute(programme=programme, now=NOW)
    client.force_login(manager)
    url = kpis_url(programme)

    def page_queries() -> None:
        # 1 the session, 2 the user, 3 the programme, 4–5 the user's and their groups'
        # permissions, 6 cohorts, 7 topics, 8 key skills, 9 the snapshots.
        with django_assert_num_queries(9):
            assert client.get(url).status_code == 200

    page_queries()
    # Three more cohorts, with more months, topics and skills: the same queries.
    build_world(programme)
    kpis_compute(programme=programme, now=NOW)
    assert len(client.get(url).context["tables"]) == 4
    page_queries()


@pytest.mark.parametrize(
    ("kpi", "part", "value", "reads"),
    [
        # Halves round up, as on the sponsors' page: 28.5% is 29%, not 28% (half to even).
        (KpiSnapshot.Kpi.PULSE_RESPONSE_RATE, "", 0.285, "29%"),
        (KpiSnapshot.Kpi.SESSION_FREQUENCY, "", 1.25, "1.3"),
        (KpiSnapshot.Kpi.CONFIDENCE_CHANGE, "", 0.25, "+0.3"),
        (KpiSnapshot.Kpi.CONFIDENCE_CHANGE, "", -0.04, "0.0"),
        (KpiSnapshot.Kpi.NPS, "", 12.5, "+13"),
        (KpiSnapshot.Kpi.TOPIC_COVERAGE, "topic:1", 3, "3"),
        (KpiSnapshot.Kpi.NPS, "", None, "no data"),
    ],
)
def test_a_figure_reads_as_it_does_on_the_sponsors_page(kpi, part, value, reads):
    assert format_figure(KpiSnapshot(kpi=kpi, part=part, value=value)) == reads

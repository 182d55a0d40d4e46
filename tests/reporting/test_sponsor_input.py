"""Hostile input to the sponsors' and KPI pages: every query parameter and path part they parse
(months, KPI names, object ids, the admin's list parameters) answers a clear 400 or a 404 for
anything that is not what it names, never a server error: overflowing numbers, year 0 and
10000, the month after December 9999, negative numbers, digits from other scripts, very long
strings."""

from datetime import date
from urllib.parse import quote

import pytest
from django.urls import reverse

from programmes.models import Programme
from reporting.models import SponsorAsk
from reporting.sponsor_views import parse_month
from tests.reporting.test_sponsor_views import chart_url, programme_url, two_months

pytestmark = pytest.mark.django_db

HOSTILE_MONTHS = [
    "99999999999999999999-1",
    "2026-99999999999999999999",
    "0000-01",
    "10000-01",
    "9999-12",
    "1999-12",
    "-2026-01",
    "2026--1",
    "2026-00",
    "2026-13",
    "2026-1",
    "2026-011",
    "２０２６-１１",  # full-width digits: int() would take them
    "٢٠٢٦-١١",  # Arabic-Indic digits
    " 2026-11",
    "2026-11\n",
    "2026-11-01",
    "nonsense",
    "9" * 5000,
]


@pytest.fixture
def with_figures(programme: Programme, sponsor) -> Programme:
    two_months(programme)
    return programme


@pytest.mark.parametrize("value", HOSTILE_MONTHS)
def test_it_parses_only_real_months(value):
    with pytest.raises(ValueError, match="Not a month"):
        parse_month(value)


def test_it_parses_a_month():
    assert parse_month("2026-11") == date(2026, 11, 1)


@pytest.mark.parametrize("value", HOSTILE_MONTHS)
def test_the_month_selector_answers_400_to_anything_but_a_month(
    client, with_figures, sponsor, value
):
    client.force_login(sponsor)

    response = client.get(programme_url(with_figures), {"month": value})

    assert response.status_code == 400
    assert "not a month we can show" in response.content.decode()


@pytest.mark.parametrize("value", HOSTILE_MONTHS)
def test_a_chart_answers_400_to_anything_but_a_month(client, with_figures, sponsor, value):
    client.force_login(sponsor)

    response = client.get(chart_url(with_figures), {"month": value})

    assert response.status_code == 400


@pytest.mark.parametrize("value", HOSTILE_MONTHS)
@pytest.mark.parametrize("tail", ["", "figures.csv"])
def test_a_month_in_the_path_that_is_not_a_month_is_not_found(
    client, with_figures, sponsor, value, tail
):
    client.force_login(sponsor)
    base = reverse("reporting:sponsor_programme", args=[with_figures.slug])

    response = client.get(f"{base}{quote(value, safe='')}/{tail}")

    assert response.status_code == 404


@pytest.mark.parametrize(
    "kpi", ["x" * 5000, "NPS", "nps ", "ñps", "٢", "-1", "99999999999999999999", "..%2Fnps"]
)
def test_a_chart_of_no_such_figure_is_not_found(client, with_figures, sponsor, kpi):
    client.force_login(sponsor)
    base = reverse("reporting:sponsor_programme", args=[with_figures.slug])

    response = client.get(f"{base}charts/{quote(kpi, safe='%')}.svg")

    assert response.status_code == 404


HOSTILE_IDS = ["99999999999999999999", "-1", "0", "٢", "１", "1.5", "1e3", "x" * 2000]


@pytest.mark.parametrize("object_id", HOSTILE_IDS)
def test_the_kpi_page_of_no_such_programme_is_not_found(admin_client, programme, object_id):
    url = reverse("admin:programmes_programme_kpis", args=[object_id])

    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"programme__id__exact": "99999999999999999999"},
        {"programme__id__exact": "-1"},
        {"programme__id__exact": "٢"},
        {"o": "99999999999999999999"},
        {"o": "-99999999999999999999.1"},
        {"p": "99999999999999999999"},
        {"p": "-1"},
        {"q": "x" * 5000},
        {"month": "99999999999999999999-1"},
        {"month__gte": "10000-01-01"},
    ],
)
def test_the_sponsor_ask_list_answers_hostile_parameters_without_an_error(
    admin_client, programme, params
):
    SponsorAsk.objects.create(programme=programme, month=date(2026, 11, 1), text="Come along")

    response = admin_client.get(reverse("admin:reporting_sponsorask_changelist"), params)

    assert response.status_code in (200, 302, 400, 404)


@pytest.mark.parametrize("object_id", HOSTILE_IDS)
def test_the_sponsor_ask_page_of_no_such_ask_is_not_an_error(admin_client, object_id):
    url = reverse("admin:reporting_sponsorask_change", args=[object_id])

    assert admin_client.get(url).status_code in (302, 404)


@pytest.mark.parametrize("month", ["99999999999-1", "10000-01-01", "0000-01-01", "٢٠٢٦-١١-٠١"])
def test_the_sponsor_ask_form_refuses_a_month_that_is_not_a_date(admin_client, programme, month):
    url = reverse("admin:reporting_sponsorask_add")

    response = admin_client.post(url, {"programme": programme.pk, "month": month, "text": "Hi"})

    assert response.status_code == 200  # the form again, with its message
    assert response.context["adminform"].form.errors["month"]
    assert not SponsorAsk.objects.exists()
    # The add page prefilled from the address takes any text without parsing it.
    assert admin_client.get(url, {"month": month}).status_code == 200

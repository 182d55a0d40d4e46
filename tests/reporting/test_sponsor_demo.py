"""No leak, on the demo's realistic data: every month's status page, every chart and every
CSV the demo sponsor can open contains no participant's name or e-mail and nothing any
participant (or a manager about a pair) wrote in their own words."""

import html
import re

import pytest
from django.core.management import call_command
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from demo.organisation import PROGRAMME_SLUG, SPONSOR
from pairs.models import Meeting, Note, Pair
from programmes.models import Intake, Participant, Programme
from reporting import sponsor as selector
from reporting.kpis import kpis_compute
from reporting.models import SuccessStory
from risks.models import PairAction, RiskFlag
from surveys.models import NpsResponse, Pulse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings) -> None:
    settings.DEBUG = True  # the demo refuses to load otherwise


def secrets() -> set[str]:
    """Every participant's name and e-mail, and every free-text answer in the database."""
    found: set[str] = set()
    for participant in Participant.objects.select_related("person"):
        found |= {participant.person.full_name, participant.person.email}
    for model, fields in [
        (Pulse, ["learning", "action"]),
        (Note, ["text"]),
        (Intake, ["objectives_text", "boundaries_text", "goal_1", "goal_2", "goal_3"]),
        (NpsResponse, ["why"]),
        (Meeting, ["cancel_reason"]),
        (Pair, ["end_reason"]),
        (RiskFlag, ["resolution_note"]),
        (PairAction, ["note"]),
    ]:
        for row in model.objects.values_list(*fields):
            found |= {text.strip() for text in row if text and text.strip()}
    return found


def test_no_sponsor_page_chart_or_csv_of_the_demo_names_anyone_or_quotes_them(client):
    call_command("demo")
    programme = Programme.objects.get(slug=PROGRAMME_SLUG)
    # Let the demo's story reach the page (both consents): its anonymised body is the one
    # text sponsors may read.
    SuccessStory.objects.filter(pair__cohort__programme=programme).update(
        reverse_mentor_consent_at=timezone.now(), mentee_consent_at=timezone.now()
    )
    kpis_compute(programme=programme)
    hidden = secrets()
    assert len(hidden) > 100  # names, e-mails and answers enough to mean something
    username, password, _ = SPONSOR
    assert client.login(request=HttpRequest(), username=username, password=password)

    pages = {}
    months = selector.sponsor_months(programme)
    assert len(months) >= 6
    index = reverse("reporting:sponsor_index")
    pages[index] = client.get(index)
    for month in months:
        for name in ("reporting:sponsor_status", "reporting:sponsor_figures_csv"):
            url = reverse(name, args=[programme.slug, month])
            pages[url] = client.get(url)
    for kpi in selector.CHARTED:
        url = reverse("reporting:sponsor_chart", args=[programme.slug, kpi])
        pages[url] = client.get(url, {"month": f"{months[-1]:%Y-%m}"})

    stories_shown = 0
    for url, response in pages.items():
        assert response.status_code == 200, url
        text = response.content.decode()
        stories_shown += "From a shared inbox to a customer-first rota" in text
        # Compare words, not markup: an answer may be split by escaping or line breaks.
        plain = re.sub(r"\s+", " ", html.unescape(text))
        for secret in hidden:
            needle = re.sub(r"\s+", " ", secret)
            assert needle not in plain, f"{url} shows {secret!r}"
    assert stories_shown == len(months)

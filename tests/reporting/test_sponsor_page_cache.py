"""The status page's cache (reporting/sponsor_page.py): every change to what a sponsor may
read shows on the next request, whether it is one the cache is keyed on (snapshots,
settings, labels) or one read afresh each time (the ask, the pairs, actions, stories); and
a page cached for one programme or one reader never reaches another."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from pairs.models import Pair
from programmes.models import KeySkill, OrganisationSettings, Programme, Topic
from reporting.models import KpiSnapshot, SponsorAsk, SuccessStory
from risks.models import PairAction
from tests.factories import ProgrammeFactory, UserFactory
from tests.reporting.kpi_helpers import pair_in
from tests.reporting.test_sponsor import AFTER, NOVEMBER
from tests.reporting.test_sponsor_views import headline_card, status_url

pytestmark = pytest.mark.django_db

Kpi = KpiSnapshot.Kpi


def recompute(programme: Programme) -> None:
    """What the KPI task does: every row replaced, computed now (notes logged now 85%)."""
    rows = list(KpiSnapshot.objects.filter(programme=programme))
    KpiSnapshot.objects.filter(programme=programme).delete()
    for row in rows:
        row.pk = None
        row.computed_at = AFTER + timedelta(days=1)
        if row.kpi == Kpi.NOTES_LOGGED:
            row.value = 0.85
    KpiSnapshot.objects.bulk_create(rows)


def target_lowered(programme: Programme) -> None:
    programme.target_notes_logged = 40
    programme.save()


def organisation_floor_raised(programme: Programme) -> None:
    OrganisationSettings.objects.update(min_group_size=20)


def skill_renamed(programme: Programme) -> None:
    KeySkill.objects.filter(programme=programme).update(name="Working with AI")


def topic_renamed(programme: Programme) -> None:
    Topic.objects.filter(programme=programme, title="Generative AI").update(title="Agents")


def ask_changed(programme: Programme) -> None:
    SponsorAsk.objects.filter(programme=programme).update(text="Come to the March panel.")


def pair_paused(programme: Programme) -> None:
    pair = Pair.objects.filter(cohort__programme=programme).first()
    Pair.objects.filter(pk=pair.pk).update(status=Pair.Status.PAUSED)


def consent_withdrawn(programme: Programme) -> None:
    SuccessStory.objects.filter(pair__cohort__programme=programme).update(
        reverse_mentor_consent_at=None
    )


def action_recorded(programme: Programme) -> None:
    pair = Pair.objects.filter(cohort__programme=programme).first()
    for _ in range(6):
        PairAction.objects.create(
            pair=pair, kind=PairAction.Kind.CHECKIN, at=datetime(2026, 11, 20, tzinfo=UTC)
        )


# (change, what the page says before, what it says after); a recomputation of the snapshots
# has its own test below.
CHANGES: list[tuple[Callable[[Programme], None], str, str]] = [
    (target_lowered, "target 80%", "target 40%"),
    (organisation_floor_raised, "A calmer inbox", "fewer than 20 responses"),
    (skill_renamed, "Digital fluency", "Working with AI"),
    (topic_renamed, "Generative AI", "Agents"),
    (ask_changed, "Please open the December showcase.", "Come to the March panel."),
    (pair_paused, "<dt>Paused</dt><dd>0</dd>", "<dt>Paused</dt><dd>fewer than 5</dd>"),
    (consent_withdrawn, "A calmer inbox", "None to share yet"),
    (
        action_recorded,
        "No actions on pairs recorded",
        '<span class="action-count">6</span> check-in sent',
    ),
]


@pytest.mark.parametrize(
    ("change", "before", "after"), CHANGES, ids=[change.__name__ for change, *_ in CHANGES]
)
def test_the_next_request_shows_any_change(client, november, sponsor, change, before, after):
    # Enough people in pairs today for their counts to be shown.
    cohort = Pair.objects.filter(cohort__programme=november).first().cohort
    for _ in range(2):
        pair_in(cohort, started_on=NOVEMBER)
    client.force_login(sponsor)
    url = status_url(november)
    assert before in client.get(url).content.decode()
    # Served from the cache while nothing changed.
    assert client.get(url).content.decode().count(before) >= 1

    change(november)

    page = client.get(url).content.decode()
    assert after in page
    if change is not organisation_floor_raised:  # the stories stay, under any floor
        assert before not in page


def test_a_recomputed_figure_changes_its_mark_too(client, november, sponsor):
    client.force_login(sponsor)
    url = status_url(november)
    assert headline_card(client.get(url).content.decode(), Kpi.NOTES_LOGGED)[0] == "off_track"

    recompute(november)

    assert headline_card(client.get(url).content.decode(), Kpi.NOTES_LOGGED) == (
        "on_track",
        "85%",
    )


def test_another_programmes_reader_gets_a_404_once_the_page_is_cached(client, november, sponsor):
    client.force_login(sponsor)
    assert client.get(status_url(november)).status_code == 200
    elsewhere = ProgrammeFactory()
    outsider = UserFactory()
    elsewhere.sponsors.add(outsider)

    client.force_login(outsider)

    assert client.get(status_url(november)).status_code == 404


def test_a_programme_never_shows_anothers_cached_figures(client, november, sponsor):
    """Two programmes with the same snapshots, settings and labels: each page names its own
    programme and links to its own CSV."""
    client.force_login(sponsor)
    twin = ProgrammeFactory(name="Twin programme", target_notes_logged=80)
    for row in KpiSnapshot.objects.filter(programme=november):
        row.pk, row.programme = None, twin
        row.save()
    twin.sponsors.add(sponsor)
    first = client.get(status_url(november)).content.decode()

    page = client.get(status_url(twin)).content.decode()

    assert f"/sponsor/{twin.slug}/" in page
    assert f"/sponsor/{november.slug}/" not in page
    assert november.name in first
    assert november.name not in page

"""The risk backtest (risks/backtest.py): ``manage.py risk_backtest --cohort`` replays an
ended cohort day by day and reports, per pair, the first "watch" and "act" days, the lapse
and the lead time, then the totals; the same report is a page from the cohort's diagnosis,
for the cohort's own managers only."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from programmes.roles import MANAGERS_GROUP
from risks.backtest import backtest
from tests.factories import ProgrammeFactory, UserFactory
from tests.risks.score_helpers import (
    DAY,
    MISSED,
    cohort_pair,
    ended_cohort,
    fortnightly,
    historic,
    london,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort(programme):
    """An ended cohort of two pairs: one meets every fortnight; the other holds its first
    session, misses the next two, then nothing."""
    london(programme)
    cohort = ended_cohort(programme)
    start = cohort.starts_on
    healthy = cohort_pair(cohort)
    healthy.mentee.person.full_name = "Hana Well"
    healthy.mentee.person.save()
    fortnightly(healthy, start + 3 * DAY, cohort.ends_on)
    fading = cohort_pair(cohort)
    fading.mentee.person.full_name = "Fay Ding"
    fading.mentee.person.save()
    historic(fading, start + 3 * DAY)
    historic(fading, start + 17 * DAY, MISSED)
    historic(fading, start + 24 * DAY, MISSED)
    return cohort


def test_it_reports_when_the_score_would_have_flagged_against_the_lapse(cohort) -> None:
    result = backtest(cohort)

    rows = {row.names.split(" & ")[0]: row for row in result.rows}
    fading, healthy = rows["Fay Ding"], rows["Hana Well"]
    assert fading.lapsed_on == cohort.starts_on + 33 * DAY
    assert fading.first_watch is not None
    assert fading.first_act is not None
    assert fading.first_watch <= fading.first_act < fading.lapsed_on
    assert fading.lead_days == (fading.lapsed_on - fading.first_act).days
    assert healthy.lapsed_on is None
    assert healthy.first_act is None
    assert (len(result.lapsed), result.flagged_in_time, result.false_flags) == (1, 1, 0)


def test_the_command_prints_each_pair_and_the_totals(cohort) -> None:
    out = StringIO()

    call_command("risk_backtest", cohort=cohort.pk, stdout=out)

    text = out.getvalue()
    result = backtest(cohort)
    fading = next(row for row in result.rows if row.lapsed_on)
    assert f"Risk backtest of {cohort}" in text
    assert (
        f"Fay Ding & Ravi Patel | {fading.first_watch.isoformat()} | "
        f"{fading.first_act.isoformat()} | {fading.lapsed_on.isoformat()} | {fading.lead_days}"
    ) in text
    assert "Hana Well & Ravi Patel | - | - | - | -" in text
    assert "Pairs: 2; lapsed: 1; flagged before the lapse: 1;" in text
    assert "Pairs that did not lapse yet were flagged: 0 of 1" in text


def test_the_command_refuses_an_unknown_cohort(db) -> None:
    with pytest.raises(CommandError):
        call_command("risk_backtest", cohort=999999)


def test_the_page_shows_the_same_report_to_the_cohorts_manager(
    client: Client, manager, cohort
) -> None:
    client.force_login(manager)

    diagnosis = client.get(reverse("admin:programmes_cohort_diagnosis", args=[cohort.pk]))
    url = reverse("admin:programmes_cohort_backtest", args=[cohort.pk])
    assert url in diagnosis.content.decode()
    page = client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Fay Ding &amp; Ravi Patel" in html
    assert "Pairs: 2; lapsed: 1; flagged before the lapse: 1;" in html


def test_another_programmes_manager_gets_not_found(client: Client, cohort) -> None:
    other = UserFactory(username="olga", is_staff=True)
    other.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    ProgrammeFactory().managers.add(other)
    client.force_login(other)

    page = client.get(reverse("admin:programmes_cohort_backtest", args=[cohort.pk]))

    assert page.status_code == 404

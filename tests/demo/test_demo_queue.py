"""The demo's troubled pairs, as a manager meets them: each waits in the at-risk queue with
the reason it was built to show, the healthy pairs raise nothing, the KPIs are there to read,
and of the pilot's two success stories sponsors read the one both sides consented to."""

from collections import defaultdict
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from pairs.models import Pair
from reporting.models import KpiSnapshot, SuccessStory
from reporting.stories import stories_for_sponsors
from risks.models import RiskFlag

pytestmark = pytest.mark.django_db

Rule = RiskFlag.Rule


@pytest.fixture(autouse=True)
def _debug(settings) -> None:
    settings.DEBUG = True


def _wave() -> list[Pair]:
    # The order demo/sessions.py and demo/pulses.py hand out their troubles in.
    return list(Pair.objects.filter(cohort__name="Wave 2").exclude(status="ended").order_by("pk"))


def test_the_drifting_pairs_wait_in_the_queue_with_the_right_reasons() -> None:
    call_command("demo")

    wave = _wave()
    open_rules: dict[int, set[str]] = defaultdict(set)
    for pair_id, rule in RiskFlag.objects.filter(resolved_at=None).values_list("pair", "rule"):
        open_rules[pair_id].add(rule)
    cancelled_by_exec, gone_quiet, paused, unfit, unsafe, reverting, silent = wave[:7]
    # Sessions: the executive cancelled the last two; another pair has been quiet for 38 days:
    # both likely to lapse by the risk score (the timing rules it replaced open nothing).
    assert open_rules[cancelled_by_exec.pk] == {Rule.FADING}
    assert open_rules[gone_quiet.pk] == {Rule.FADING}
    assert cancelled_by_exec.risk.level == gone_quiet.risk.level == "act"
    # A pair paused for a few weeks is left alone until it resumes.
    assert paused.status == Pair.Status.PAUSED
    assert paused.pk not in open_rules
    # Pulses: one answer each, on its own pair.
    assert open_rules[unfit.pk] == {Rule.NOT_A_GOOD_FIT}
    assert open_rules[unsafe.pk] == {Rule.LOW_SAFETY}
    assert open_rules[reverting.pk] == {Rule.REVERSION}
    # Both sides silent on the pulse, yet meeting: the score alone does not flag it (the "no
    # pulse" rule it replaced did).
    assert silent.pk not in open_rules
    # Nobody else: healthy pairs raise nothing by accident, and ended pilot pairs are history.
    assert set(open_rules) == {p.pk for p in (cancelled_by_exec, gone_quiet, *wave[3:6])}


def test_a_manager_sees_the_queue_with_reasons_and_can_act(client) -> None:
    call_command("demo")
    client.login(request=HttpRequest(), username="manager", password="manager-demo-2026")

    page = client.get(reverse("admin:risks_riskflag_changelist"))

    assert page.status_code == 200
    html = page.content.decode()
    for flag in RiskFlag.objects.filter(resolved_at=None):
        assert str(flag.pair.mentee.person) in html
    unsafe = RiskFlag.objects.get(rule=Rule.LOW_SAFETY)
    detail = client.get(reverse("admin:risks_riskflag_change", args=[unsafe.pk]))
    assert detail.status_code == 200
    assert "never through their partner" in detail.content.decode()


def test_the_figures_and_the_story_are_ready() -> None:
    call_command("demo")

    held = KpiSnapshot.objects.filter(
        cohort=None, kpi=KpiSnapshot.Kpi.SESSION_FREQUENCY, value__isnull=False
    )
    assert held.count() >= 3
    shown, waiting = SuccessStory.objects.order_by("pair_id")
    assert shown.publishable
    assert waiting.anonymised
    assert waiting.mentee_consent_at
    assert not waiting.publishable
    assert [s["title"] for s in stories_for_sponsors(programme=shown.pair.cohort.programme)] == [
        shown.title
    ]


def test_the_queue_shows_how_long_each_flag_has_been_open() -> None:
    call_command("demo")

    now = timezone.now()
    opened = list(RiskFlag.objects.values_list("opened_at", flat=True))
    # Dated the day each rule first held, as the hourly scan would have: none in the future,
    # and some have been waiting more than a week.
    assert all(at <= now for at in opened)
    assert any(now - at > timedelta(days=7) for at in opened)
    fading = list(RiskFlag.objects.filter(rule=Rule.FADING))
    assert fading
    for flag in fading:
        assert flag.reason.startswith("Likely to lapse (")
        # Dated some two weeks into the quiet spell it names.
        assert timezone.localdate(flag.opened_at) <= date.fromisoformat(
            flag.evidence["since"]
        ) + timedelta(days=16)

"""The risk score in the at-risk queue (risks/admin.py, risks/admin_watch.py): flags of a
severity sorted by the score, the pairs to watch listed apart (no flag, the user's own
programmes only, never anyone's words), and where the weights come from."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from notifications.models import Notification
from risks import notices as risk_notices
from risks.models import PairRisk, RiskFlag, RiskModel
from risks.score import DEFAULT_WEIGHTS
from tests.factories import ProgrammeFactory
from tests.pairs.meeting_helpers import agreed_pair
from tests.risks.remediation_helpers import (
    assert_no_private_text,
    open_flag,
    private_history,
)

pytestmark = pytest.mark.django_db

QUEUE = "/admin/risks/riskflag/"


@pytest.fixture
def alice(client: Client, manager) -> Client:
    client.force_login(manager)
    return client


FADING = {"probability": 0.6, "reasons": ["no session booked"], "since": "2026-06-01"}


def scored(pair, probability: float, level: str, reasons: list[str] | None = None) -> PairRisk:
    return PairRisk.objects.create(
        pair=pair,
        probability=probability,
        level=level,
        reasons=reasons or [f"{round(probability * 100)} reason"],
        computed_at=timezone.now(),
    )


def test_flags_of_one_severity_come_highest_score_first(alice: Client, programme) -> None:
    low = open_flag(
        agreed_pair(programme=programme), RiskFlag.Rule.FADING, days_ago=9, evidence=FADING
    )
    high = open_flag(
        agreed_pair(programme=programme), RiskFlag.Rule.FADING, days_ago=1, evidence=FADING
    )
    unscored = open_flag(agreed_pair(programme=programme), RiskFlag.Rule.REVERSION, days_ago=20)
    safety = open_flag(agreed_pair(programme=programme), RiskFlag.Rule.LOW_SAFETY, days_ago=1)
    scored(low.pair, 0.55, "act")
    scored(high.pair, 0.9, "act")

    page = alice.get(QUEUE).content.decode()

    listed = [int(pk) for pk in re.findall(r"/admin/risks/riskflag/(\d+)/change/", page)]
    assert list(dict.fromkeys(listed)) == [safety.pk, high.pk, low.pk, unscored.pk]
    assert 'class="field-risk_score">90%<' in page


def test_pairs_to_watch_are_listed_apart_without_a_flag(alice: Client, programme) -> None:
    watched = agreed_pair(programme=programme)
    private_history(watched)
    scored(watched, 0.42, "watch", ["20 days since the last held session (1 Jun 2026)"])
    flagged = agreed_pair(programme=programme)
    scored(flagged, 0.45, "watch")
    open_flag(flagged, RiskFlag.Rule.REVERSION)
    fine = agreed_pair(programme=programme)
    scored(fine, 0.1, "ok")
    theirs = agreed_pair(programme=ProgrammeFactory())
    theirs.mentee.person.full_name = "Olga Other"
    theirs.mentee.person.save()
    scored(theirs, 0.5, "watch")

    page = alice.get(QUEUE).content.decode()

    watch = page[page.index('id="watch"') :]
    assert "42%" in watch
    assert "20 days since the last held session (1 Jun 2026)" in watch
    assert f"/admin/pairs/pair/{watched.pk}/change/" in watch
    assert f"/admin/pairs/pair/{flagged.pk}/change/" not in watch
    assert f"/admin/pairs/pair/{fine.pk}/change/" not in watch
    assert "Olga Other" not in page
    assert_no_private_text(page)


def test_the_queue_says_where_the_weights_come_from(alice: Client, programme) -> None:
    page = alice.get(QUEUE).content.decode()
    assert f"{programme.name}: default weights (not enough history yet)" in page

    model = RiskModel.objects.create(
        programme=programme,
        weights={"bias": -4.4, "gap_vs_cadence": 1.6},  # learned on older features
        fitted_at=timezone.now(),
        pairs_used=42,
        lapsed_used=7,
    )
    page = alice.get(QUEUE).content.decode()
    today = f"{timezone.localdate():%-d %b %Y}"
    assert (
        f"{programme.name}: default weights (the model learned on {today} weighed other "
        "signals; the nightly refit replaces it)"
    ) in page

    model.weights = dict(DEFAULT_WEIGHTS)
    model.save()
    page = alice.get(QUEUE).content.decode()
    assert f"{programme.name}: learned on {today} from 42 pairs (7 lapsed)" in page


# --- The weekly digest's pairs to watch -----------------------------------------------------


def test_the_digest_lists_the_pairs_to_watch_even_with_no_flag_open(programme, manager) -> None:
    watched = agreed_pair(programme=programme)
    private_history(watched)
    scored(watched, 0.41, "watch", ["no session booked in the next 14 days"])
    flagged = agreed_pair(programme=programme)
    scored(flagged, 0.45, "watch")
    open_flag(flagged, RiskFlag.Rule.REVERSION)
    theirs = agreed_pair(programme=ProgrammeFactory())
    scored(theirs, 0.5, "watch")
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    risk_notices.ask_risk_digest(manager, 2026, 1, monday)
    notification = Notification.objects.get(kind="risk_digest")

    message = risk_notices.risk_digest(notification)

    [entry] = message.context["programmes"]
    assert [item["pair"] for item in entry["watch"]] == [watched]
    assert entry["watch"][0]["chance"] == 41
    assert message.context["watch_count"] == 1
    RiskFlag.objects.all().delete()
    message = risk_notices.risk_digest(notification)
    assert message is not None  # pairs to watch are worth the e-mail on their own
    assert [item["pair"] for item in message.context["programmes"][0]["watch"]] == [
        flagged,
        watched,
    ]

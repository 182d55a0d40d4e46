"""What the sponsor page's tests share."""

from datetime import date

import pytest
from django.utils import timezone

from programmes.models import Programme
from reporting.models import KpiSnapshot, SponsorAsk, SuccessStory
from tests.factories import KeySkillFactory, TopicFactory
from tests.reporting.kpi_helpers import cohort_in, pair_in
from tests.reporting.test_sponsor import NOVEMBER, OCTOBER, snap

Kpi = KpiSnapshot.Kpi


@pytest.fixture
def november(programme: Programme) -> Programme:
    """A programme with October and November figures, an ask, topics, key skills and stories."""
    programme.target_notes_logged = 80
    programme.save()
    skill = KeySkillFactory(programme=programme, name="Digital fluency")
    trust = TopicFactory(programme=programme, title="Trust and expectations", position=1)
    ai = TopicFactory(programme=programme, title="Generative AI", position=2)
    for month in (OCTOBER, NOVEMBER):
        snap(programme, month, Kpi.SESSION_FREQUENCY, 2.1)
        snap(programme, month, Kpi.CANCELLATION_RATE, 0.25)
        snap(programme, month, Kpi.CANCELLATION_RATE, 0.25, part="mentee")
        snap(programme, month, Kpi.CANCELLATION_RATE, 0.0, part="reverse_mentor")
        snap(programme, month, Kpi.PULSE_RESPONSE_RATE, 0.83)
        snap(programme, month, Kpi.NOTES_LOGGED, 0.5)
        snap(programme, month, Kpi.ACTION_COMMITMENT, 0.6, people=4)
        snap(programme, month, Kpi.ACTION_FOLLOW_THROUGH, None)
        snap(programme, month, Kpi.REVERSION_RATE, 0.1)
        snap(programme, month, Kpi.NPS, 40.0 if month == NOVEMBER else None)
        snap(programme, month, Kpi.CONFIDENCE_CHANGE, 0.4)
        snap(programme, month, Kpi.CONFIDENCE_CHANGE, 0.6, part=f"skill:{skill.pk}")
        snap(programme, month, Kpi.AT_RISK_PAIRS, 1.0, numerator=1, denominator=6)
        snap(programme, month, Kpi.TOPIC_COVERAGE, 0.5, numerator=1, denominator=2)
        snap(programme, month, Kpi.TOPIC_COVERAGE, 3.0, part=f"topic:{trust.pk}")
        snap(programme, month, Kpi.TOPIC_COVERAGE, 0.0, part=f"topic:{ai.pk}")
    SponsorAsk.objects.create(
        programme=programme, month=NOVEMBER, text="Please open the December showcase."
    )
    cohort = cohort_in(programme, date(2026, 9, 1), date(2026, 12, 31))
    shared, unshared = (pair_in(cohort, started_on=date(2026, 9, 1)) for _ in range(2))
    now = timezone.now()
    SuccessStory.objects.create(
        pair=shared,
        title="A calmer inbox",
        body="An executive now answers customers within a day.",
        anonymised=True,
        mentee_consent_at=now,
        reverse_mentor_consent_at=now,
    )
    SuccessStory.objects.create(
        pair=unshared,
        title="Not agreed yet",
        body="Waiting for the second consent.",
        anonymised=True,
        mentee_consent_at=now,
    )
    return programme

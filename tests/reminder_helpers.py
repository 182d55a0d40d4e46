"""What the tests of beat's "what is due" reminder scans share: a frozen clock, the rows the
outbox was asked for, and a participant invited to give their intake."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from notifications.models import Notification
from programmes.models import Cohort, Participant
from tests.factories import CohortFactory, ParticipantFactory

INVITED = datetime(2026, 2, 2, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def asked(kind: str) -> list[tuple[str, dict]]:
    return sorted(Notification.objects.filter(kind=kind).values_list("key", "data"))


def status_of(key: str) -> str:
    return Notification.objects.get(key=key).status


@pytest.fixture
def invited(programme) -> Participant:
    cohort = CohortFactory(programme=programme, status=Cohort.Status.INTAKE, name="Spring")
    return ParticipantFactory(
        cohort=cohort,
        invitation_sent_at=INVITED,
        person__full_name="Ada Brook",
        person__email="ada@example.org",
    )

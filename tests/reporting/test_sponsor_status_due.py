"""The sponsors' monthly status, found by beat's "what is due" scan: it is asked when due
(08:00 in settings.TIME_ZONE on the month's first working day) and not a minute before, once
per key however often the scan runs, and only to the sponsors of the programme. What the
status says is tested in test_sponsor_email.py; the managers' weekly digest, found the same
way, in tests/risks/test_digests.py."""

from datetime import date, datetime

import pytest
from django.core import mail

from notifications.models import Notification
from pairs.models import Meeting
from programmes.models import Cohort, Programme
from reporting.digests import sponsor_statuses_due
from reporting.kpis import kpis_compute
from reporting.sponsor import sponsor_status_path
from tests.factories import ProgrammeFactory, UserFactory
from tests.pairs.meeting_helpers import agreed_pair, meeting_for
from tests.risks.test_digests import DAY, HOUR, JUNE_FIRST, LONDON, MARKERS, MINUTE, at, keys, pulse

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def london(settings) -> None:
    settings.TIME_ZONE = "Europe/London"


def test_it_asks_the_status_on_the_first_working_day_at_eight(programme, sponsor) -> None:
    with at(JUNE_FIRST - MINUTE):
        assert sponsor_statuses_due() == 0
    for moment in (JUNE_FIRST, JUNE_FIRST + 10 * MINUTE, JUNE_FIRST + 6 * DAY):
        with at(moment):
            sponsor_statuses_due()
    with at(JUNE_FIRST + 7 * DAY):  # the 8th: too late to be worth sending
        assert sponsor_statuses_due() == 0

    assert keys("sponsor_status") == [f"sponsor_status:{sponsor.pk}:{programme.pk}:2026-06"]
    assert Notification.objects.get().data == {"month": "2026-05-01"}


def test_a_month_starting_on_a_weekend_waits_for_monday(programme, sponsor) -> None:
    saturday = datetime(2026, 8, 1, 9, 0, tzinfo=LONDON)
    for moment in (saturday, saturday + DAY):
        with at(moment):
            assert sponsor_statuses_due() == 0
    with at(datetime(2026, 8, 3, 8, 0, tzinfo=LONDON)):
        assert sponsor_statuses_due() == 1


def test_only_the_programmes_sponsors_get_its_status_without_names(
    programme, sponsor, outsider, django_capture_on_commit_callbacks
) -> None:
    pair = agreed_pair(programme=programme, started_on=(JUNE_FIRST - 40 * DAY).date())
    Cohort.objects.filter(pk=pair.cohort_id).update(
        starts_on=date(2026, 4, 1), ends_on=date(2026, 7, 31)
    )
    held = meeting_for(pair, starts_at=JUNE_FIRST - 10 * DAY, status=Meeting.Status.HELD)
    pulse(held, pair.mentee, learning=MARKERS[0], action=MARKERS[1])
    kpis_compute(programme=programme, now=JUNE_FIRST - 6 * HOUR)
    ProgrammeFactory(status=Programme.Status.CLOSED).sponsors.add(UserFactory(username="finn"))
    other = ProgrammeFactory(name="Other")
    other_sponsor = UserFactory(username="gail")
    other.sponsors.add(other_sponsor)

    with at(JUNE_FIRST), django_capture_on_commit_callbacks(execute=True):
        assert sponsor_statuses_due() == 2

    sent = {tuple(m.to): m for m in mail.outbox}
    assert set(sent) == {(sponsor.email,), (other_sponsor.email,)}
    message = sent[sponsor.email,]
    assert message.subject == "Inclusive Leadership: status for May 2026"
    assert "fewer than 5 responses" in message.body
    assert f"http://testserver{sponsor_status_path(programme, date(2026, 5, 1))}" in message.body
    for secret in ("Margaret Hale", "Ravi Patel", *MARKERS):
        assert secret not in message.body

"""kpis_due, beat's nightly KPI scan: a programme is computed once its latest snapshots are
older than the last 02:00 in its own time zone, so running the scan every ten minutes
computes each programme once a night, and a second run straight after computes nothing.
Running programmes, and closed ones for 60 days after their last cohort ended."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from programmes.models import Programme
from reporting import kpis, tasks
from reporting.kpis import kpis_due
from reporting.models import KpiSnapshot
from tests.factories import ProgrammeFactory
from tests.reporting.kpi_helpers import cohort_in, pair_in

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
AUCKLAND = ZoneInfo("Pacific/Auckland")
MINUTE = timedelta(minutes=1)


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def programme_in(zone: str, status: str = Programme.Status.RUNNING, **dates) -> Programme:
    programme = ProgrammeFactory(time_zone=zone, status=status)
    cohort = cohort_in(
        programme,
        dates.get("starts_on", date(2026, 1, 5)),
        dates.get("ends_on", date(2026, 3, 31)),
    )
    pair_in(cohort, started_on=cohort.starts_on)
    return programme


def computed(programme: Programme) -> set[datetime]:
    return set(
        KpiSnapshot.objects.filter(programme=programme).values_list("computed_at", flat=True)
    )


def test_it_computes_each_programme_once_a_night_at_two_in_its_zone():
    programme = programme_in("Europe/London")

    # Never computed: due at once, then not again that night.
    with at(datetime(2026, 2, 20, 1, 0, tzinfo=LONDON)):
        assert kpis_due() == 1
        assert kpis_due() == 0
    first = computed(programme)
    with at(datetime(2026, 2, 20, 1, 59, tzinfo=LONDON)):
        assert kpis_due() == 0
    # 02:00 has come: the next night's computation, once.
    with at(datetime(2026, 2, 20, 2, 0, tzinfo=LONDON)):
        assert kpis_due() == 1
        assert kpis_due() == 0
    with at(datetime(2026, 2, 20, 23, 50, tzinfo=LONDON)):
        assert kpis_due() == 0
    assert computed(programme) != first
    assert len(computed(programme)) == 1


def test_it_goes_by_each_programmes_own_night():
    london = programme_in("Europe/London")
    auckland = programme_in("Pacific/Auckland")
    with at(datetime(2026, 2, 20, 12, 0, tzinfo=ZoneInfo("UTC"))):
        assert kpis_due() == 2

    # 13:30 UTC is 02:30 on the 21st in Auckland (UTC+13), and still the 20th's afternoon in
    # London: only Auckland's night has come.
    with at(datetime(2026, 2, 20, 13, 30, tzinfo=ZoneInfo("UTC"))):
        before = computed(london)
        assert kpis_due() == 1
    assert computed(london) == before
    assert computed(auckland) == {datetime(2026, 2, 20, 13, 30, tzinfo=ZoneInfo("UTC"))}


@pytest.mark.parametrize(
    ("status", "ends_on", "due"),
    [
        (Programme.Status.RUNNING, date(2026, 3, 31), True),
        (Programme.Status.CLOSED, date(2026, 1, 31), True),  # ended 20 days before
        (Programme.Status.CLOSED, date(2025, 11, 30), False),  # more than 60 days ago
        (Programme.Status.DRAFT, date(2026, 3, 31), False),
        (Programme.Status.MATCHING, date(2026, 3, 31), False),
    ],
)
def test_it_computes_running_programmes_and_recently_closed_ones(status, ends_on, due):
    programme_in("Europe/London", status, starts_on=date(2025, 9, 1), ends_on=ends_on)
    with at(datetime(2026, 2, 20, 9, 0, tzinfo=LONDON)):
        assert kpis_due() == int(due)


def test_it_leaves_a_programme_whose_cohorts_have_not_started():
    programme_in("Europe/London", starts_on=date(2026, 3, 2), ends_on=date(2026, 6, 1))
    ProgrammeFactory(status=Programme.Status.RUNNING)  # no cohort at all
    with at(datetime(2026, 2, 20, 9, 0, tzinfo=LONDON)):
        assert kpis_due() == 0
        assert kpis_due() == 0
    assert not KpiSnapshot.objects.exists()


def test_the_beat_task_reports_how_many_programmes_it_computed():
    programme_in("Europe/London")
    with at(datetime(2026, 2, 20, 9, 0, tzinfo=LONDON)):
        assert tasks.compute_due_kpis() == {"programmes": 1}
        assert tasks.compute_due_kpis() == {"programmes": 0}
    with at(datetime(2026, 2, 21, 2, 0, tzinfo=LONDON) - MINUTE):
        assert tasks.compute_due_kpis() == {"programmes": 0}


def test_one_programme_that_fails_does_not_stop_the_others(monkeypatch, caplog):
    broken, fine = programme_in("Europe/London"), programme_in("Europe/London")
    real = kpis._replace

    def replace(programme, now):
        if programme.pk == broken.pk:
            raise RuntimeError("a bug in one programme's data")
        return real(programme, now)

    monkeypatch.setattr(kpis, "_replace", replace)
    with at(datetime(2026, 2, 20, 3, 0, tzinfo=LONDON)):
        assert kpis_due() == 1

    assert computed(fine)
    assert not computed(broken)
    assert f"KPIs of programme {broken.pk} could not be computed" in caplog.text
    # It stays due: once mended, the next scan computes it.
    monkeypatch.setattr(kpis, "_replace", real)
    with at(datetime(2026, 2, 20, 3, 10, tzinfo=LONDON)):
        assert kpis_due() == 1
    assert computed(broken)

"""The sponsors' status selector (reporting/sponsor.py): headline figures from the whole
programme's snapshots only, marks against the targets at their boundaries, small groups
suppressed at, just below and just above the threshold, "no data" rather than 0, a month under
way judged fairly, and counts of pairs and of what was done about them."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from pairs.models import Pair
from programmes.models import Programme
from reporting import sponsor
from reporting.models import KpiSnapshot, SponsorAsk
from risks.models import PairAction
from tests.factories import KeySkillFactory, ProgrammeFactory, TopicFactory
from tests.reporting.kpi_helpers import cohort_in, flag, pair_in

pytestmark = pytest.mark.django_db

Kpi = KpiSnapshot.Kpi
UTC = ZoneInfo("UTC")
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
# Computed after November ended: November is a whole month.
AFTER = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def snap(
    programme: Programme,
    month: date,
    kpi: str,
    value: float | None,
    *,
    people: int = 10,
    part: str = "",
    numerator: float = 0,
    denominator: int = 0,
    cohort=None,
    computed_at: datetime = AFTER,
) -> KpiSnapshot:
    return KpiSnapshot.objects.create(
        programme=programme,
        cohort=cohort,
        month=month,
        kpi=kpi,
        part=part,
        value=value,
        numerator=numerator,
        denominator=denominator,
        people=people,
        computed_at=computed_at,
    )


def headline(programme: Programme, month: date = NOVEMBER) -> dict[str, sponsor.Figure]:
    status = sponsor.sponsor_status(programme=programme, month=month)
    return {figure.kpi: figure for figure in status.headline}


@pytest.mark.parametrize(
    ("value", "text", "mark"),
    [
        (0.80, "80%", sponsor.ON_TRACK),  # at the target
        (0.795, "80%", sponsor.ON_TRACK),  # reads as the target, so it is on track
        (0.794, "79%", sponsor.WATCH),
        (0.70, "70%", sponsor.WATCH),  # 10 points below: still watch
        (0.69, "69%", sponsor.OFF_TRACK),
        (0.0, "0%", sponsor.OFF_TRACK),  # a real 0, not "no data"
    ],
)
def test_it_marks_a_share_against_its_target(programme, value, text, mark):
    programme.target_notes_logged = 80
    programme.save()
    snap(programme, NOVEMBER, Kpi.NOTES_LOGGED, value)

    figure = headline(programme)[Kpi.NOTES_LOGGED]

    assert (figure.text, figure.mark) == (text, mark)
    assert figure.target_text == "target 80%"
    assert figure.mark_label == sponsor.MARK_LABELS[mark]


@pytest.mark.parametrize(
    ("value", "mark"),
    [(0.2, sponsor.ON_TRACK), (0.3, sponsor.WATCH), (0.31, sponsor.OFF_TRACK)],
)
def test_it_marks_a_ceiling_the_other_way_round(programme, value, mark):
    snap(programme, NOVEMBER, Kpi.CANCELLATION_RATE, value)

    figure = headline(programme)[Kpi.CANCELLATION_RATE]

    assert figure.mark == mark
    assert figure.target_text == "at most 20%"


@pytest.mark.parametrize(
    ("value", "mark"),
    [
        (2.0, sponsor.ON_TRACK),
        (1.96, sponsor.ON_TRACK),
        (1.6, sponsor.WATCH),
        (1.5, sponsor.OFF_TRACK),
    ],
)
def test_it_marks_session_frequency_from_80_percent_of_its_target(programme, value, mark):
    snap(programme, NOVEMBER, Kpi.SESSION_FREQUENCY, value)

    figure = headline(programme)[Kpi.SESSION_FREQUENCY]

    assert figure.mark == mark
    assert figure.target_text == "target 2 a month"


@pytest.mark.parametrize(
    ("value", "text", "mark"),
    [
        (30.0, "+30", sponsor.ON_TRACK),
        (20.0, "+20", sponsor.WATCH),
        (19.4, "+19", sponsor.OFF_TRACK),
        (-33.333, "-33", sponsor.OFF_TRACK),
        (0.0, "0", sponsor.OFF_TRACK),
    ],
)
def test_it_marks_nps_within_ten_points(programme, value, text, mark):
    snap(programme, NOVEMBER, Kpi.NPS, value)

    figure = headline(programme)[Kpi.NPS]

    assert (figure.text, figure.mark, figure.target_text) == (text, mark, "target +30")


@pytest.mark.parametrize(
    ("value", "text", "mark"),
    [
        (0.5, "+0.5", sponsor.ON_TRACK),
        (0.46, "+0.5", sponsor.ON_TRACK),
        (0.3, "+0.3", sponsor.WATCH),
        (0.2, "+0.2", sponsor.OFF_TRACK),
        (-0.4, "-0.4", sponsor.OFF_TRACK),
    ],
)
def test_it_marks_confidence_within_a_fifth_of_a_point(programme, value, text, mark):
    snap(programme, NOVEMBER, Kpi.CONFIDENCE_CHANGE, value)

    figure = headline(programme)[Kpi.CONFIDENCE_CHANGE]

    assert (figure.text, figure.mark, figure.target_text) == (text, mark, "target +0.5")


def test_it_uses_each_programmes_own_targets(programme):
    programme.target_pulse_response_rate = 90
    programme.target_reversion_rate = 5
    programme.sessions_per_month_target = 4
    programme.save()
    snap(programme, NOVEMBER, Kpi.PULSE_RESPONSE_RATE, 0.85)
    snap(programme, NOVEMBER, Kpi.REVERSION_RATE, 0.1)
    snap(programme, NOVEMBER, Kpi.SESSION_FREQUENCY, 3.5)

    figures = headline(programme)

    assert figures[Kpi.PULSE_RESPONSE_RATE].mark == sponsor.WATCH
    assert figures[Kpi.REVERSION_RATE].mark == sponsor.WATCH
    assert figures[Kpi.REVERSION_RATE].target_text == "at most 5%"
    assert figures[Kpi.SESSION_FREQUENCY].mark == sponsor.WATCH
    assert figures[Kpi.SESSION_FREQUENCY].target_text == "target 4 a month"


@pytest.mark.parametrize(
    ("people", "shown"), [(4, False), (5, True), (6, True)], ids=["below", "at", "above"]
)
def test_it_suppresses_a_figure_from_fewer_people_than_the_smallest_group(programme, people, shown):
    snap(programme, NOVEMBER, Kpi.PULSE_RESPONSE_RATE, 0.5, people=people)

    figure = headline(programme)[Kpi.PULSE_RESPONSE_RATE]

    if shown:
        assert (figure.text, figure.suppressed, figure.value) == ("50%", False, Decimal(50))
        assert figure.mark == sponsor.OFF_TRACK
    else:
        assert figure.text == "fewer than 5 responses"
        assert figure.suppressed
        # Nothing of the figure is left to show by mistake.
        assert (figure.value, figure.mark, figure.mark_label, figure.people) == (None, "", "", 0)
        assert figure.target_text == "target 70%"


def test_the_smallest_group_is_the_larger_of_the_organisation_s_and_the_programmes(
    programme, organisation
):
    organisation.min_group_size = 5
    organisation.save()
    programme.min_group_size = 8
    programme.save()
    snap(programme, NOVEMBER, Kpi.NOTES_LOGGED, 0.9, people=7)
    snap(programme, NOVEMBER, Kpi.ACTION_COMMITMENT, 0.9, people=8)

    status = sponsor.sponsor_status(programme=programme, month=NOVEMBER)
    figures = {figure.kpi: figure for figure in status.headline}

    assert status.min_group == 8
    assert figures[Kpi.NOTES_LOGGED].text == "fewer than 8 responses"
    assert figures[Kpi.ACTION_COMMITMENT].text == "90%"

    organisation.min_group_size = 10
    organisation.save()
    assert sponsor.min_group(programme) == 10


def test_it_says_no_data_rather_than_zero_and_gives_no_mark(programme):
    snap(programme, NOVEMBER, Kpi.ACTION_FOLLOW_THROUGH, None, people=12)
    snap(programme, NOVEMBER, Kpi.NPS, None, people=0)

    figures = headline(programme)

    for kpi in (Kpi.ACTION_FOLLOW_THROUGH, Kpi.NPS, Kpi.REVERSION_RATE):  # the last has no row
        assert figures[kpi].text == "no data"
        assert figures[kpi].no_data
        assert not figures[kpi].suppressed
        assert figures[kpi].mark == ""
        assert figures[kpi].value is None


def test_it_reads_the_whole_programme_never_a_cohort(programme):
    cohort = cohort_in(programme, date(2026, 9, 1), date(2026, 12, 31))
    snap(programme, NOVEMBER, Kpi.NOTES_LOGGED, 0.9, people=12)
    snap(programme, NOVEMBER, Kpi.NOTES_LOGGED, 0.1, people=3, cohort=cohort)
    snap(programme, OCTOBER, Kpi.NOTES_LOGGED, 0.5, people=3, cohort=cohort)

    status = sponsor.sponsor_status(programme=programme, month=NOVEMBER)

    assert {figure.kpi: figure.text for figure in status.headline}[Kpi.NOTES_LOGGED] == "90%"
    # October has only a cohort's row: it is not one of the sponsors' months.
    assert status.months == [NOVEMBER]
    assert sponsor.sponsor_months(programme) == [NOVEMBER]


def test_it_lists_the_programmes_months_oldest_first(programme):
    other = ProgrammeFactory()
    for month in (NOVEMBER, date(2026, 9, 1), OCTOBER):
        snap(programme, month, Kpi.NOTES_LOGGED, 0.5)
    snap(other, date(2026, 1, 1), Kpi.NOTES_LOGGED, 0.5)

    assert sponsor.sponsor_months(programme) == [date(2026, 9, 1), OCTOBER, NOVEMBER]
    status = sponsor.sponsor_status(programme=programme, month=OCTOBER)
    assert (status.previous_month, status.next_month) == (date(2026, 9, 1), NOVEMBER)
    assert status.has_figures
    assert not sponsor.sponsor_status(programme=programme, month=date(2026, 8, 1)).has_figures


def test_it_gives_the_pages_path(programme):
    assert (
        sponsor.sponsor_status_path(programme, NOVEMBER) == "/sponsor/inclusive-leadership/2026-11/"
    )


def test_it_judges_session_frequency_in_a_month_under_way_against_the_days_so_far(programme):
    # Computed at 02:00 on 16 November: 15 of November's 30 days are in the figures.
    computed = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
    snap(programme, NOVEMBER, Kpi.SESSION_FREQUENCY, 0.9, computed_at=computed)

    status = sponsor.sponsor_status(programme=programme, month=NOVEMBER)
    figure = status.headline[0]

    assert status.in_progress
    assert status.as_of == computed
    assert figure.target_text == "target 2 a month (1.0 by 16 Nov)"
    assert figure.mark == sponsor.WATCH  # 0.9 of 1.0 due so far, not "off track" against 2


def test_it_gives_session_frequency_no_mark_in_the_first_week_of_a_month(programme):
    snap(
        programme,
        NOVEMBER,
        Kpi.SESSION_FREQUENCY,
        0.0,
        computed_at=datetime(2026, 11, 4, 2, 0, tzinfo=UTC),
    )
    snap(
        programme,
        NOVEMBER,
        Kpi.NOTES_LOGGED,
        0.5,
        computed_at=datetime(2026, 11, 4, 2, 0, tzinfo=UTC),
    )

    status = sponsor.sponsor_status(programme=programme, month=NOVEMBER)
    figures = {figure.kpi: figure for figure in status.headline}

    assert figures[Kpi.SESSION_FREQUENCY].text == "0.0"
    assert figures[Kpi.SESSION_FREQUENCY].mark == ""
    assert figures[Kpi.NOTES_LOGGED].mark == sponsor.OFF_TRACK  # shares are judged at once
    assert status.unmarked == len(status.headline) - 1


def test_a_month_computed_after_it_ended_is_whole(programme):
    snap(
        programme,
        OCTOBER,
        Kpi.SESSION_FREQUENCY,
        1.7,
        computed_at=datetime(2026, 11, 1, 2, tzinfo=UTC),
    )

    status = sponsor.sponsor_status(programme=programme, month=OCTOBER)

    assert not status.in_progress
    assert status.headline[0].target_text == "target 2 a month"
    assert status.headline[0].mark == sponsor.WATCH


def test_the_month_in_progress_follows_the_programmes_time_zone(programme):
    programme.time_zone = "Pacific/Auckland"
    programme.save()
    # 1 December 02:00 in Auckland is still 30 November in UTC: November is whole there.
    computed = datetime(2026, 12, 1, 2, 0, tzinfo=ZoneInfo("Pacific/Auckland"))
    snap(programme, NOVEMBER, Kpi.SESSION_FREQUENCY, 2.0, computed_at=computed)

    assert not sponsor.sponsor_status(programme=programme, month=NOVEMBER).in_progress


def test_it_counts_marks_for_the_summary(programme):
    snap(programme, NOVEMBER, Kpi.SESSION_FREQUENCY, 2.5)  # on track
    snap(programme, NOVEMBER, Kpi.CANCELLATION_RATE, 0.25)  # watch
    snap(programme, NOVEMBER, Kpi.NOTES_LOGGED, 0.2)  # off track
    snap(programme, NOVEMBER, Kpi.NPS, 50.0, people=2)  # suppressed

    status = sponsor.sponsor_status(programme=programme, month=NOVEMBER)

    assert status.counts == {sponsor.ON_TRACK: 1, sponsor.WATCH: 1, sponsor.OFF_TRACK: 1}
    assert status.unmarked == 6


def test_it_breaks_cancellations_down_by_side_with_the_same_suppression(programme):
    snap(programme, NOVEMBER, Kpi.CANCELLATION_RATE, 0.25)
    snap(programme, NOVEMBER, Kpi.CANCELLATION_RATE, 0.2, part="mentee")
    snap(programme, NOVEMBER, Kpi.CANCELLATION_RATE, 0.05, part="reverse_mentor", people=4)

    status = sponsor.sponsor_status(programme=programme, month=NOVEMBER)

    assert [(f.label, f.text) for f in status.cancellation_parts] == [
        ("cancelled by executives", "20%"),
        ("cancelled by reverse-mentors", "fewer than 5 responses"),
    ]


def test_it_gives_confidence_per_key_skill_against_the_target(programme):
    digital = KeySkillFactory(programme=programme, name="Digital fluency", position=1)
    inclusion = KeySkillFactory(programme=programme, name="Inclusive leadership", position=2)
    customers = KeySkillFactory(programme=programme, name="Customers", position=3)
    snap(programme, NOVEMBER, Kpi.CONFIDENCE_CHANGE, 0.6, part=f"skill:{digital.pk}")
    snap(programme, NOVEMBER, Kpi.CONFIDENCE_CHANGE, 0.35, part=f"skill:{inclusion.pk}")
    snap(programme, NOVEMBER, Kpi.CONFIDENCE_CHANGE, 1.5, part=f"skill:{customers.pk}", people=3)

    status = sponsor.sponsor_status(programme=programme, month=NOVEMBER)

    assert [(f.label, f.text, f.mark) for f in status.confidence_by_skill] == [
        ("Digital fluency", "+0.6", sponsor.ON_TRACK),
        ("Inclusive leadership", "+0.4", sponsor.WATCH),
        ("Customers", "fewer than 5 responses", ""),
    ]


def test_it_gives_the_latest_nps_up_to_the_month(programme):
    snap(programme, date(2026, 6, 1), Kpi.NPS, 71.4, people=7)
    snap(programme, date(2026, 7, 1), Kpi.NPS, -33.3, people=3)
    snap(programme, OCTOBER, Kpi.NPS, None, people=0)
    snap(programme, NOVEMBER, Kpi.NPS, 37.5, people=8)

    october = sponsor.sponsor_status(programme=programme, month=OCTOBER)
    june = sponsor.sponsor_status(programme=programme, month=date(2026, 6, 1))

    # July's answers are the latest before October, and too few to show.
    assert october.nps_latest_month == date(2026, 7, 1)
    assert october.nps_latest.text == "fewer than 5 responses"
    assert {f.kpi: f.text for f in october.headline}[Kpi.NPS] == "no data"
    assert (june.nps_latest.text, june.nps_latest.mark) == ("+71", sponsor.ON_TRACK)


def test_it_takes_the_ask_of_that_month_only(programme):
    SponsorAsk.objects.create(programme=programme, month=OCTOBER, text="Open the March town hall.")
    snap(programme, OCTOBER, Kpi.NOTES_LOGGED, 0.5)
    snap(programme, NOVEMBER, Kpi.NOTES_LOGGED, 0.5)

    assert sponsor.sponsor_status(programme=programme, month=OCTOBER).ask == (
        "Open the March town hall."
    )
    assert sponsor.sponsor_status(programme=programme, month=NOVEMBER).ask == ""


def test_it_shows_the_trend_with_gaps_for_no_data_and_small_groups(programme):
    snap(programme, date(2026, 9, 1), Kpi.NOTES_LOGGED, 0.5)
    snap(programme, OCTOBER, Kpi.NOTES_LOGGED, 0.9, people=4)
    snap(programme, NOVEMBER, Kpi.NOTES_LOGGED, None, people=0)

    trend = next(
        t
        for t in sponsor.sponsor_status(programme=programme, month=NOVEMBER).trends
        if t.kpi == Kpi.NOTES_LOGGED
    )

    assert [(p.value, p.text, p.suppressed) for p in trend.points] == [
        (Decimal(50), "50%", False),
        (None, "fewer than 5 responses", True),
        (None, "no data", False),
    ]
    assert sponsor.sponsor_trend(programme=programme, kpi=Kpi.NOTES_LOGGED) == trend


def test_it_counts_topics_this_month_and_so_far_and_calls_out_the_uncovered(programme):
    first, second, third = (
        TopicFactory(programme=programme, title=title, position=n)
        for n, title in enumerate(["Trust", "Digital habits", "Customers"])
    )
    september = date(2026, 9, 1)
    for month, people, counts in [
        (september, 10, {first: 3}),
        (OCTOBER, 3, {second: 2}),  # too few people: left out of "so far" too
        (NOVEMBER, 10, {first: 1, second: 1}),
    ]:
        snap(
            programme,
            month,
            Kpi.TOPIC_COVERAGE,
            len(counts) / 3,
            numerator=len(counts),
            denominator=3,
            people=people,
        )
        for topic in (first, second, third):
            snap(
                programme,
                month,
                Kpi.TOPIC_COVERAGE,
                counts.get(topic, 0),
                part=f"topic:{topic.pk}",
                people=people,
            )

    november = sponsor.sponsor_status(programme=programme, month=NOVEMBER).topics
    october = sponsor.sponsor_status(programme=programme, month=OCTOBER).topics

    assert november.coverage_text == "2 of 3 topics"
    assert [(r.title, r.this_month, r.so_far) for r in november.rows] == [
        ("Trust", 1, 4),
        ("Digital habits", 1, 1),
        ("Customers", 0, 0),
    ]
    assert november.uncovered == ["Customers"]
    assert november.months_left_out == 1
    assert october.suppressed
    assert october.coverage_text == "fewer than 5 responses"
    assert [r.this_month for r in october.rows] == [None, None, None]


def test_it_counts_pairs_today_and_what_was_done_in_the_month(programme):
    cohort = cohort_in(programme, date(2026, 9, 1), date(2026, 12, 31))
    pairs = [pair_in(cohort, started_on=date(2026, 9, 1)) for _ in range(4)]
    paused = pair_in(cohort, started_on=date(2026, 9, 1), status=Pair.Status.PAUSED)
    pair_in(cohort, started_on=date(2026, 9, 1), ended_on=date(2026, 10, 1))
    pair_in(cohort, started_on=None, status=Pair.Status.PROPOSED)
    flag(pairs[0], datetime(2026, 11, 3, tzinfo=UTC))
    flag(pairs[0], datetime(2026, 11, 4, tzinfo=UTC), rule="no_pulse")  # one pair, two flags
    flag(paused, datetime(2026, 11, 5, tzinfo=UTC))
    flag(pairs[1], datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 10, 9, tzinfo=UTC))
    in_november = datetime(2026, 11, 10, tzinfo=UTC)
    PairAction.objects.bulk_create(
        [
            PairAction(pair=pairs[0], kind=PairAction.Kind.CHECKIN, at=in_november),
            PairAction(pair=pairs[1], kind=PairAction.Kind.CHECKIN, at=in_november),
            PairAction(pair=paused, kind=PairAction.Kind.PAUSE, at=in_november),
            PairAction(
                pair=pairs[1], kind=PairAction.Kind.RESOLVE, at=datetime(2026, 10, 9, tzinfo=UTC)
            ),
            PairAction(
                pair=pairs[2], kind=PairAction.Kind.END, at=datetime(2026, 12, 1, tzinfo=UTC)
            ),
        ]
    )
    # Another programme's pairs and actions never count.
    elsewhere = cohort_in(ProgrammeFactory(), date(2026, 9, 1), date(2026, 12, 31))
    PairAction.objects.create(
        pair=pair_in(elsewhere, started_on=date(2026, 9, 1)), kind="checkin", at=in_november
    )
    snap(programme, NOVEMBER, Kpi.AT_RISK_PAIRS, 2.0, numerator=2, denominator=5, people=10)

    pairs_now = sponsor.sponsor_status(programme=programme, month=NOVEMBER).pairs

    assert pairs_now.shown
    assert pairs_now.shown_now
    # Counts of pairs and actions below the smallest group are banded, never exact.
    assert (pairs_now.active_in_month, pairs_now.at_risk_in_month) == ("5", "fewer than 5")
    assert pairs_now.actions == [
        ("Check-in sent", "fewer than 5"),
        ("Paused for a month", "fewer than 5"),
    ]
    assert (pairs_now.active_now, pairs_now.paused_now, pairs_now.at_risk_now) == (
        "fewer than 5",
        "fewer than 5",
        "fewer than 5",
    )
    assert pairs_now.today == timezone.localdate()


def test_it_hides_pair_counts_of_a_small_programme(programme):
    cohort = cohort_in(programme, date(2026, 9, 1), date(2026, 12, 31))
    pair_in(cohort, started_on=date(2026, 9, 1))
    pair_in(cohort, started_on=date(2026, 9, 1))  # four people
    snap(programme, NOVEMBER, Kpi.AT_RISK_PAIRS, 1.0, numerator=1, denominator=2, people=4)

    pairs_now = sponsor.sponsor_status(programme=programme, month=NOVEMBER).pairs

    assert not pairs_now.shown
    assert not pairs_now.shown_now
    assert (pairs_now.active_in_month, pairs_now.at_risk_in_month, pairs_now.actions) == (
        "",
        None,
        [],
    )
    assert (pairs_now.active_now, pairs_now.paused_now, pairs_now.at_risk_now) == ("", "", "")


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0"), (1, "fewer than 5"), (4, "fewer than 5"), (5, "5"), (12, "12")],
)
def test_it_bands_counts_below_the_smallest_group(count, text):
    assert sponsor.count_text(count, 5) == text


def test_a_month_without_figures_reads_no_data(programme):
    status = sponsor.sponsor_status(programme=programme, month=NOVEMBER)

    assert not status.has_figures
    assert {figure.text for figure in status.headline} == {"no data"}
    assert status.as_of is None
    assert status.stories == []


def test_it_takes_the_first_day_of_any_day_in_the_month(programme):
    snap(programme, NOVEMBER, Kpi.NOTES_LOGGED, 0.9)

    status = sponsor.sponsor_status(programme=programme, month=NOVEMBER + timedelta(days=14))

    assert status.month == NOVEMBER
    assert status.has_figures

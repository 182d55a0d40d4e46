"""The risk score (risks/signals.py, risks/score.py): signals as known at the end of a day
(nothing booked, logged or answered later counts), each feature moving the score the way
docs/at-risk.md says, the two levels, reasons in counts and dates only, a learned model
used in place of the defaults."""

from dataclasses import replace
from datetime import date

import pytest

from programmes.models import Role
from risks.models import CheckIn, RiskModel
from risks.score import (
    ACT,
    ACT_AT,
    DEFAULT_WEIGHTS,
    FEATURES,
    OK,
    WATCH,
    WATCH_AT,
    features,
    level_of,
    pair_score,
    probability,
    reasons,
    score_of,
    scores_for,
)
from risks.signals import Signals, pair_signals
from surveys.models import ConfidenceRating
from tests.factories import KeySkillFactory
from tests.pairs.meeting_helpers import agreed_pair
from tests.risks.remediation_helpers import PRIVATE, assert_no_private_text
from tests.risks.score_helpers import (
    CANCELLED,
    DAY,
    HELD,
    MISSED,
    answered,
    historic,
    london,
    noon,
)

pytestmark = pytest.mark.django_db

D = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def _london(programme) -> None:
    london(programme)


def test_signals_use_only_what_was_known_at_the_end_of_the_day(programme) -> None:
    pair = agreed_pair(programme=programme, started_on=D - 60 * DAY)
    held = historic(pair, D - 20 * DAY)
    answered(held, pair.mentee, on=D - 19 * DAY)
    answered(held, pair.reverse_mentor, on=D + 1 * DAY)  # after D
    # Held on D - 5, but only logged on D + 2: on D it was not logged yet.
    historic(pair, D - 5 * DAY, logged=D + 2 * DAY)
    # Booked on D + 1: one missed on D + 3, one for D + 4.
    historic(pair, D + 3 * DAY, MISSED, booked=D + DAY)
    historic(pair, D + 4 * DAY, "scheduled", booked=D + DAY)
    CheckIn.objects.create(
        pair=pair, participant=pair.mentee, choice="pause", answered_at=noon(D + DAY)
    )

    then = pair_signals(pair, on=D)

    assert then.last_held == D - 20 * DAY
    assert then.days_since_held == 20
    assert then.not_happened == 0
    assert then.next_booked == 0  # the next sessions were booked after D
    assert then.checkin_wants_out == 0
    assert (then.exec_pulse_share, then.mentor_pulse_share) == (1.0, 0.0)

    later = pair_signals(pair, on=D + 4 * DAY)
    assert later.last_held == D - 5 * DAY
    assert later.not_happened == 1
    assert later.checkin_wants_out == 1
    assert later.mentor_pulse_share == 0.5


def test_future_sessions_never_count_as_held_or_missed(programme) -> None:
    pair = agreed_pair(programme=programme, started_on=D - 30 * DAY)
    for days in (1, 8, 15):
        historic(pair, D + days * DAY, HELD, booked=D - 30 * DAY, logged=D - 30 * DAY)
    historic(pair, D + 2 * DAY, MISSED, booked=D - 30 * DAY, logged=D - 30 * DAY)

    s = pair_signals(pair, on=D)

    assert s.last_held is None
    assert s.days_since_held == 30
    assert s.not_happened == s.not_happened_in_a_row == 0
    assert s.next_booked == 0  # already marked as held: not a session still to come


def test_booking_signals_say_whether_the_next_session_is_even_booked(programme) -> None:
    pair = agreed_pair(programme=programme, started_on=D - 60 * DAY)
    historic(pair, D - 34 * DAY, booked=D - 41 * DAY)
    historic(pair, D - 20 * DAY, booked=D - 27 * DAY)

    nothing = pair_signals(pair, on=D)
    assert (nothing.booked_since_held, nothing.overdue_days, nothing.days_to_next) == (0, 6, None)
    assert (nothing.held_interval, nothing.held_recent, nothing.booking_notice) == (14.0, 2, 7.0)

    # Yesterday's session, nobody has logged yet; the next booked two days ago, for D + 5.
    historic(pair, D - 1 * DAY, "scheduled", booked=D - 10 * DAY)
    historic(pair, D + 5 * DAY, "scheduled", booked=D - 2 * DAY)
    historic(pair, D + 4 * DAY, "scheduled", booked=D + 1 * DAY)  # booked after D

    booked = pair_signals(pair, on=D)
    assert (booked.booked_since_held, booked.days_to_next) == (2, 4)
    assert (booked.awaiting_log, booked.unlogged) == (1, 0)
    assert booked.booking_notice == round((7 + 7 + 9) / 3, 2)
    # Three days on, still nobody has logged it: no longer awaiting, unlogged.
    later = pair_signals(pair, on=D + 3 * DAY)
    assert (later.awaiting_log, later.unlogged) == (0, 1)


def test_teaching_drift_and_the_executives_confidence_trend(programme) -> None:
    pair = agreed_pair(programme=programme, started_on=D - 90 * DAY)
    skills = [KeySkillFactory(programme=programme) for _ in range(2)]
    # Five sessions: the reverse-mentor taught the first two, the executive the last three;
    # the executive's confidence rose from 2 to 4 on average, then fell back to 3.
    for days, teaching, ratings in (
        (70, 1, (2, 2)),
        (56, 2, (3, 3)),
        (42, 4, (4, 4)),
        (28, 5, (3, 4)),
        (14, 4, (3, 3)),
    ):
        held = historic(pair, D - days * DAY)
        pulse = answered(held, pair.mentee, teaching=teaching)
        for skill, value in zip(skills, ratings, strict=True):
            ConfidenceRating.objects.create(
                participant=pair.mentee,
                key_skill=skill,
                value=value,
                context=ConfidenceRating.Context.PULSE,
                recorded_at=noon(D - days * DAY),
                pulse=pulse,
            )
    answered(held, pair.reverse_mentor, teaching=4)  # the latest, from the other side

    s = pair_signals(pair, on=D)

    assert s.teaching_mean == round((4 + 5 + 4 + 4) / 4, 3)
    assert s.teaching_drift == round((4 + 5 + 4 + 4) / 4 - (1 + 2) / 2, 3)
    assert s.exec_confidence_change == 1.0  # 3 in the latest rated pulse, 2 in the first
    assert pair_signals(pair, on=D - 60 * DAY).exec_confidence_change == 0.0  # one rated pulse


def test_a_missed_session_counts_the_side_that_did_not_turn_up(programme) -> None:
    pair = agreed_pair(programme=programme, started_on=D - 60 * DAY)
    historic(pair, D - 30 * DAY, MISSED, missed_by=Role.MENTEE)
    historic(pair, D - 20 * DAY, MISSED, missed_by=Role.REVERSE_MENTOR)
    historic(pair, D - 10 * DAY, MISSED)
    historic(pair, D - 5 * DAY, CANCELLED, cancelled_by=Role.REVERSE_MENTOR)

    s = pair_signals(pair, on=D)

    assert (s.missed_by_exec, s.missed_by_mentor, s.missed_by_unknown) == (1, 1, 1)
    assert (s.cancelled_by_exec, s.cancelled_by_mentor) == (0, 1)
    assert s.not_happened == s.not_happened_in_a_row == 4
    assert s.latest_not_happened == D - 5 * DAY


def test_empty_learning_and_missing_actions_are_counted_without_reading_them(programme) -> None:
    pair = agreed_pair(programme=programme, started_on=D - 60 * DAY)
    for days in (40, 26, 12):
        held = historic(pair, D - days * DAY)
        answered(held, pair.mentee, learning="", action="", previous_action_done="no")
        answered(held, pair.reverse_mentor, learning=PRIVATE["learning"], action="")

    s = pair_signals(pair, on=D)
    score = pair_score(pair, on=D)

    assert s.settled_held == 3
    assert s.empty_learning_share == 0.5
    assert s.no_action_share == 1.0
    assert s.action_not_done_share == 0.5
    for reason in score.reasons:
        assert_no_private_text(reason)


# --- Each feature moves the score as documented -------------------------------------------

QUIET = Signals(
    on=D,
    cadence_days=14,
    days_since_held=7,
    days_since_held_vs_cadence=0.5,
    last_held=D - 7 * DAY,
    quiet_since=D - 7 * DAY,
    not_happened=0,
    not_happened_in_a_row=0,
    cancelled_by_exec=0,
    cancelled_by_mentor=0,
    missed_by_exec=0,
    missed_by_mentor=0,
    missed_by_unknown=0,
    latest_not_happened=None,
    rescheduled=0,
    rescheduled_late=0,
    next_booked=1,
    days_to_next=6,
    overdue_days=0,
    unlogged=0,
    booking_notice=14.0,
    held_interval=14.0,
    held_recent=3,
    booked_since_held=1,
    awaiting_log=0,
    settled_held=3,
    exec_pulse_share=1.0,
    mentor_pulse_share=1.0,
    silent_sides=0,
    empty_learning_share=0.0,
    no_action_share=0.0,
    action_not_done_share=0.0,
    teaching_mean=2.0,
    teaching_drift=0.0,
    exec_confidence_change=0.0,
    checkin_wants_out=0,
    checkin_continue=0,
)
# For each feature: the signals of a pair where it is raised, all else as QUIET.
RAISED = {
    "quiet": {"days_since_held": 25, "days_since_held_vs_cadence": 25 / 14},
    "unbooked_overdue": {"overdue_days": 3, "booked_since_held": 0},
    "nothing_booked": {"next_booked": 0, "days_to_next": None},
    "awaiting_log": {"awaiting_log": 1},
    "not_happened": {"not_happened": 1, "latest_not_happened": D - 3 * DAY},
    "in_a_row": {"not_happened_in_a_row": 2},
    "by_exec": {"cancelled_by_exec": 1},
    "rescheduled_late": {"rescheduled": 1, "rescheduled_late": 1},
    "short_notice": {"booking_notice": 2.0},
    "silent_sides": {"silent_sides": 1, "exec_pulse_share": 0.0},
    "empty_learning": {"empty_learning_share": 1.0},
    "action_not_done": {"action_not_done_share": 1.0},
    "checkin_wants_out": {"checkin_wants_out": 1},
}
# docs/at-risk.md: a session awaiting its log lowers the score (it was probably held); the
# executive's share of what did not happen and late moves start at 0 (they added nothing in
# the benchmark), for the learning to weigh on the organisation's own history.
LOWERING = {"awaiting_log"}
NEUTRAL = {"by_exec", "rescheduled_late"}


def test_every_feature_has_a_documented_default_weight() -> None:
    assert set(RAISED) == set(FEATURES)
    assert set(DEFAULT_WEIGHTS) == {"bias", *FEATURES}
    assert {name for name in FEATURES if DEFAULT_WEIGHTS[name] < 0} == LOWERING
    assert {name for name in FEATURES if DEFAULT_WEIGHTS[name] == 0} == NEUTRAL


@pytest.mark.parametrize("name", sorted(set(RAISED) - LOWERING - NEUTRAL))
def test_each_raised_signal_raises_the_score_and_says_so(name: str) -> None:
    raised = replace(QUIET, **RAISED[name])

    before, after = score_of(QUIET), score_of(raised)

    assert features(raised)[name] > features(QUIET)[name]
    assert after.probability > before.probability
    assert len(after.reasons) == len(before.reasons) + 1
    assert before.reasons == []


@pytest.mark.parametrize("name", sorted(LOWERING | NEUTRAL))
def test_a_signal_without_a_positive_weight_is_never_a_reason(name: str) -> None:
    raised = replace(QUIET, **RAISED[name])

    before, after = score_of(QUIET), score_of(raised)

    assert features(raised)[name] > features(QUIET)[name]
    if name in LOWERING:
        assert after.probability < before.probability
    else:
        assert after.probability == before.probability
    assert after.reasons == before.reasons == []


def test_a_quiet_healthy_pair_is_ok_and_a_lost_one_acts() -> None:
    assert score_of(QUIET).level == OK
    lost = replace(QUIET, **{k: v for change in RAISED.values() for k, v in change.items()})
    assert score_of(lost).level == ACT


def test_the_levels_follow_the_two_thresholds() -> None:
    assert 0 < WATCH_AT < ACT_AT < 1
    assert level_of(WATCH_AT - 0.001) == OK
    assert level_of(WATCH_AT) == WATCH
    assert level_of(ACT_AT - 0.001) == WATCH
    assert level_of(ACT_AT) == ACT


def test_the_probability_is_the_documented_logistic_formula() -> None:
    values = features(QUIET)
    z = DEFAULT_WEIGHTS["bias"] + sum(DEFAULT_WEIGHTS[n] * v for n, v in values.items())
    assert probability(values, DEFAULT_WEIGHTS) == pytest.approx(1 / (1 + 2.718281828459045**-z))


def test_reasons_say_counts_and_dates() -> None:
    lost = replace(
        QUIET,
        days_since_held=25,
        days_since_held_vs_cadence=25 / 14,
        last_held=D - 25 * DAY,
        not_happened=2,
        cancelled_by_exec=1,
        missed_by_mentor=1,
        latest_not_happened=D - 4 * DAY,
        next_booked=0,
        overdue_days=11,
        booked_since_held=0,
        booking_notice=3.0,
    )

    said = reasons(lost, DEFAULT_WEIGHTS)

    assert "25 days since the last held session (21 May 2026), against a cadence of 14 days" in said
    assert (
        "2 sessions did not happen in 42 days, the latest on 11 Jun 2026 (1 cancelled by the "
        "executive, 1 missed by the reverse-mentor)"
    ) in said
    assert "no session booked in the next 14 days" in said
    assert "no session booked since the last held one, 11 days past the cadence" in said
    assert "the latest sessions were booked 3 days ahead on average" in said
    # Booked at least half a cadence ahead: it adds to the score, but is no reason to worry.
    assert not any(
        "booked 7 days ahead" in r
        for r in reasons(replace(lost, booking_notice=7.0), DEFAULT_WEIGHTS)
    )


def test_a_learned_model_replaces_the_defaults(programme) -> None:
    pair = agreed_pair(programme=programme, started_on=D - 60 * DAY)
    historic(pair, D - 20 * DAY)
    default = pair_score(pair, on=D)
    RiskModel.objects.create(
        programme=programme,
        weights={**DEFAULT_WEIGHTS, "nothing_booked": 6.0},
        fitted_at=noon(D),
        pairs_used=40,
        lapsed_used=9,
    )

    learned = pair_score(pair, on=D)

    assert learned.probability > default.probability
    assert pair_score(pair, on=D, model=RiskModel(weights=DEFAULT_WEIGHTS)) == default


def test_a_model_learned_on_other_signals_is_not_used(programme) -> None:
    pair = agreed_pair(programme=programme, started_on=D - 60 * DAY)
    historic(pair, D - 20 * DAY)
    default = pair_score(pair, on=D)
    # Learned before an upgrade changed the features: one it weighs is gone, one is new.
    older = {name: 3.0 for name in DEFAULT_WEIGHTS if name != "quiet"} | {"gap_vs_cadence": 3.0}
    model = RiskModel(weights=older)

    assert pair_score(pair, on=D, model=model) == default


def test_scores_for_many_pairs_cost_a_fixed_number_of_queries(
    programme, django_assert_num_queries
) -> None:
    pairs = []
    for _ in range(4):
        pair = agreed_pair(programme=programme, started_on=D - 60 * DAY)
        held = historic(pair, D - 20 * DAY)
        answered(held, pair.mentee)
        pairs.append(pair)
    # The pairs with their cohorts and programmes loaded, as the scans load them.
    loaded = list(
        type(pairs[0])
        .objects.select_related("cohort__programme")
        .filter(pk__in=[p.pk for p in pairs])
    )

    # Sessions, pulses, agreements, check-ins; the learned models.
    with django_assert_num_queries(5):
        scores = scores_for(loaded, on=D)
    assert set(scores) == {p.pk for p in pairs}
    assert scores == {p.pk: pair_score(p, on=D) for p in pairs}

"""At-risk detection (risks/detection.py): each rule raises its flag when it holds with the
programme's thresholds and not a moment before, never twice for one occurrence (a resolved
one stays resolved), updates the open flag for a newer occurrence, and opens a new flag for
a new occurrence after resolution. Flags keep counts, dates and ids only."""

import json
from dataclasses import replace
from uuid import uuid4

import pytest

from pairs.models import Meeting, Pair
from programmes.models import Programme, Role
from risks.checkins import pairs_resume_due
from risks.detection import RETIRED
from risks.models import PairRisk, RiskFlag
from tests.factories import RiskFlagFactory
from tests.pairs.meeting_helpers import agreed_pair
from tests.risks.risk_helpers import (
    DAY,
    HOUR,
    MARKERS,
    NOW,
    detect,
    flags,
    only_flag,
    pulse,
    resolve,
    session,
    with_private_text,
)

pytestmark = pytest.mark.django_db

Rule = RiskFlag.Rule
HELD, MISSED, CANCELLED = Meeting.Status.HELD, Meeting.Status.MISSED, Meeting.Status.CANCELLED


@pytest.fixture(autouse=True)
def london(programme: Programme) -> None:
    programme.time_zone = "Europe/London"
    programme.save(update_fields=["time_zone"])


def new_pair(programme: Programme, **fields) -> Pair:
    fields.setdefault("started_on", (NOW - 20 * DAY).date())
    return agreed_pair(programme=programme, **fields)


# --- Likely to lapse (the risk score) ----------------------------------------------------------
# The timing rules (two missed in a row, 30 days without a held session, two held sessions
# without a pulse) were replaced by the score (risks/score.py): their tests became the ones
# below, which check that those situations now raise "likely to lapse" (or nothing) instead.


def fading(programme: Programme, **fields) -> Pair:
    """Held 35 days ago, then one session missed and one cancelled by the executive, nothing
    booked: the score is at "act"."""
    pair = new_pair(programme, started_on=(NOW - 60 * DAY).date(), **fields)
    session(pair, 35)
    session(pair, 21, MISSED)
    session(pair, 7, CANCELLED, cancelled_by=Role.MENTEE, cancel_reason=MARKERS[2])
    return pair


def test_a_fading_pair_is_flagged_with_the_signals_that_raised_it(programme) -> None:
    pair = fading(programme)

    assert detect() == {"opened": 1, "updated": 0}

    flag = only_flag(pair, Rule.FADING)
    assert flag.is_open
    assert flag.severity == RiskFlag.Severity.MEDIUM
    assert flag.condition == "since:2026-05-11"
    assert flag.recommended_action == RiskFlag.PLAYBOOK[Rule.FADING]
    assert flag.evidence["last_held"] == "2026-05-11"
    assert flag.evidence["probability"] >= 0.6
    assert flag.reason.startswith("Likely to lapse (")
    assert "35 days since the last held session (11 May 2026)" in flag.reason
    assert "2 sessions did not happen in 42 days, the latest on 8 Jun 2026" in flag.reason
    assert "(1 cancelled by the executive, 1 missed, by whom not said)" in flag.reason
    assert "no session booked in the next 14 days" in flag.reason
    assert pair.risk.level == "act"


@pytest.mark.parametrize("rule", sorted(RETIRED))
def test_the_timing_rules_open_no_flag_any_more(programme, rule) -> None:
    """Each old rule's situation: two missed in a row, 30 days without a held session, the
    last two held without a pulse. A flag of the score, or none; never the old rule's."""
    pair = new_pair(programme, started_on=(NOW - 60 * DAY).date())
    session(pair, 40)
    session(pair, 31)
    session(pair, 10, MISSED)
    session(pair, 3, MISSED)

    detect()

    assert flags(pair, rule) == []
    assert [f.rule for f in RiskFlag.objects.filter(pair=pair)] == [Rule.FADING]


def test_one_missed_session_of_a_pair_that_meets_is_not_flagged(programme) -> None:
    pair = new_pair(programme, started_on=(NOW - 60 * DAY).date())
    for days in (35, 21):
        held = session(pair, days)
        pulse(held, pair.mentee)
        pulse(held, pair.reverse_mentor)
    session(pair, 7, MISSED)
    session(pair, -5, Meeting.Status.SCHEDULED)

    assert detect() == {"opened": 0, "updated": 0}

    assert pair.risk.level in ("ok", "watch")


def test_a_pair_to_watch_has_its_score_and_no_flag(programme) -> None:
    # 24 days since the last held session, one missed since, the next one booked.
    pair = new_pair(programme, started_on=(NOW - 60 * DAY).date())
    for days in (38, 24):
        held = session(pair, days)
        pulse(held, pair.mentee)
        pulse(held, pair.reverse_mentor)
    session(pair, 10, MISSED)
    session(pair, -5, Meeting.Status.SCHEDULED)

    detect()

    assert RiskFlag.objects.filter(pair=pair).count() == 0
    assert pair.risk.level == "watch"
    assert any("did not happen" in reason for reason in pair.risk.reasons)


def test_the_same_quiet_spell_updates_nothing_and_stays_resolved(programme) -> None:
    pair = fading(programme)
    detect()
    flag = only_flag(pair, Rule.FADING)

    assert detect(now=NOW + DAY) == {"opened": 0, "updated": 0}
    resolve(flag)
    assert detect(now=NOW + 2 * DAY) == {"opened": 0, "updated": 0}
    assert flags(pair, Rule.FADING) == [flag]


def test_a_later_quiet_spell_updates_the_open_flag_or_opens_one_after_resolution(
    programme,
) -> None:
    pair = fading(programme)
    detect()
    flag = only_flag(pair, Rule.FADING)

    # Held again 5 days after NOW, then quiet: the spell now counts from that session.
    Meeting.objects.create(
        pair=pair, starts_at=NOW + 5 * DAY, status=HELD, uid=uuid4(), duration_minutes=45
    )
    later = NOW + 45 * DAY
    assert detect(now=later) == {"opened": 0, "updated": 1}
    flag.refresh_from_db()
    assert flag.condition == "since:2026-06-20"

    resolve(flag, later)
    Meeting.objects.create(
        pair=pair, starts_at=later + DAY, status=HELD, uid=uuid4(), duration_minutes=45
    )
    assert detect(now=later + 45 * DAY) == {"opened": 1, "updated": 0}
    assert len(flags(pair, Rule.FADING)) == 2


def test_a_pair_back_from_a_pause_counts_from_the_day_it_resumed(programme) -> None:
    # Held 45 days ago, then paused until 3 days ago: only 3 quiet days since it came back.
    pair = new_pair(programme, started_on=(NOW - 90 * DAY).date())
    session(pair, 45)
    Pair.objects.filter(pk=pair.pk).update(
        status=Pair.Status.PAUSED, paused_until=(NOW - 3 * DAY).date()
    )
    detect()
    assert not PairRisk.objects.filter(pair=pair).exists()  # a pause is not a lapse
    pairs_resume_due(now=NOW)

    detect()

    assert flags(pair, Rule.FADING) == []
    assert pair.risk.level == "ok"
    # A month later with still no session, it is likely to lapse.
    detect(now=NOW + 30 * DAY)
    assert only_flag(pair, Rule.FADING).condition == "since:2026-06-12"


def test_a_paused_pair_gets_no_score_and_no_fading_flag(programme) -> None:
    pair = fading(programme, status=Pair.Status.PAUSED)

    detect()

    assert flags(pair, Rule.FADING) == []
    assert not PairRisk.objects.filter(pair=pair).exists()


@pytest.mark.parametrize("rule", sorted(RETIRED))
def test_stored_flags_of_the_timing_rules_still_say_what_raised_them(pair, rule) -> None:
    evidence = {
        Rule.MISSED: {"in_a_row": 2, "sessions": [{"id": 1, "date": "2026-06-01"}]},
        Rule.NO_SESSION: {"days": 31, "last_held": "2026-05-01", "since": "2026-05-01"},
        Rule.NO_PULSE: {"sessions": [{"id": 1, "date": "2026-06-01"}, {"id": 2, "date": "x"}]},
    }[rule]
    flag = RiskFlagFactory(pair=pair, rule=rule, evidence=evidence)

    assert flag.reason != flag.get_rule_display()
    assert flag.recommended_action == RiskFlag.PLAYBOOK[rule]


# --- Low psychological safety -------------------------------------------------------------------


def test_it_flags_a_safety_answer_at_the_threshold_and_not_above(programme) -> None:
    pair = new_pair(programme)
    meeting = session(pair, 5)
    pulse(meeting, pair.mentee, safety=3)
    answer = pulse(meeting, pair.reverse_mentor, safety=2)

    detect()

    flag = only_flag(pair, Rule.LOW_SAFETY)
    assert flag.severity == RiskFlag.Severity.HIGH
    assert flag.condition == f"pulse:{answer.pk}"
    # Neither the answer nor the threshold: with the threshold at 1, one is the other.
    assert flag.evidence == {"date": "2026-06-10", "side": "reverse_mentor"}
    assert flag.reason == (
        "A low safety answer from the reverse-mentor, about the session of 10 Jun 2026."
    )


def test_safety_follows_the_programmes_threshold(programme) -> None:
    pair = new_pair(programme)
    answer = pulse(session(pair, 5), pair.mentee, safety=3)

    detect()
    assert flags(pair, Rule.LOW_SAFETY) == []

    programme.risk_safety_at_most = 3
    programme.save()
    detect()
    flag = only_flag(pair, Rule.LOW_SAFETY)
    assert flag.condition == f"pulse:{answer.pk}"
    assert flag.evidence == {"date": "2026-06-10", "side": "mentee"}


@pytest.mark.parametrize("threshold", [1, 2, 3])
def test_a_flag_says_the_same_whatever_the_threshold(programme, threshold: int) -> None:
    """What a manager reads must not change with the threshold, or moving it would give
    the answer away."""
    programme.risk_safety_at_most = threshold
    programme.save()
    pair = new_pair(programme)
    pulse(session(pair, 5), pair.mentee, safety=1)

    detect()

    flag = only_flag(pair, Rule.LOW_SAFETY)
    assert flag.evidence == {"date": "2026-06-10", "side": "mentee"}
    assert (
        flag.reason == "A low safety answer from the executive, about the session of 10 Jun 2026."
    )


def test_lowering_the_threshold_never_moves_a_flag_back_to_an_older_answer(programme) -> None:
    """Moved back to the older answer, the flag's date would say that the newer answer was
    2 and the older one 1."""
    pair = new_pair(programme)
    pulse(session(pair, 9), pair.mentee, safety=1)
    newer = pulse(session(pair, 5), pair.mentee, safety=2)
    detect()
    flag = only_flag(pair, Rule.LOW_SAFETY)
    assert flag.condition == f"pulse:{newer.pk}"

    programme.risk_safety_at_most = 1
    programme.save()
    assert detect() == {"opened": 0, "updated": 0}
    assert only_flag(pair, Rule.LOW_SAFETY).evidence == flag.evidence

    resolve(flag)  # and once resolved, the older answer opens nothing either
    assert detect() == {"opened": 0, "updated": 0}
    assert flags(pair, Rule.LOW_SAFETY) == [flag]


def test_a_later_low_answer_updates_the_flag_and_one_after_resolution_opens_another(
    programme,
) -> None:
    pair = new_pair(programme)
    pulse(session(pair, 9), pair.mentee, safety=1)
    detect()
    second = pulse(session(pair, 6), pair.mentee, safety=2)

    assert detect() == {"opened": 0, "updated": 1}
    assert only_flag(pair, Rule.LOW_SAFETY).condition == f"pulse:{second.pk}"

    resolve(only_flag(pair, Rule.LOW_SAFETY))
    assert detect() == {"opened": 0, "updated": 0}
    third = pulse(session(pair, 3), pair.reverse_mentor, safety=1)
    assert detect() == {"opened": 1, "updated": 0}
    assert [f.condition for f in flags(pair, Rule.LOW_SAFETY)] == [
        f"pulse:{second.pk}",
        f"pulse:{third.pk}",
    ]


# --- Roles reverting ----------------------------------------------------------------------------


def test_it_flags_reversion_in_two_of_the_last_three_held_sessions(programme) -> None:
    pair = new_pair(programme)
    first = session(pair, 12)
    pulse(first, pair.mentee, teaching=4)
    session(pair, 8, MISSED)  # not held: not looked at
    second = session(pair, 6)
    pulse(second, pair.mentee, teaching=2)
    pulse(second, pair.reverse_mentor, teaching=3)
    third = session(pair, 2)

    detect()
    assert flags(pair, Rule.REVERSION) == []

    pulse(third, pair.reverse_mentor, teaching=5)
    detect()
    flag = only_flag(pair, Rule.REVERSION)
    assert flag.condition == f"meeting:{third.pk}"
    assert flag.evidence == {
        "reverted": 2,
        "of": 3,
        "sessions": [
            {"id": first.pk, "date": "2026-06-03"},
            {"id": third.pk, "date": "2026-06-13"},
        ],
    }
    assert flag.reason == "The executive did most of the teaching in 2 of the last 3 sessions held."


def test_reverted_sessions_older_than_the_window_do_not_count(programme) -> None:
    pair = new_pair(programme)
    pulse(session(pair, 15), pair.mentee, teaching=5)
    session(pair, 10)
    session(pair, 6)
    pulse(session(pair, 2), pair.mentee, teaching=4)

    detect()

    assert flags(pair, Rule.REVERSION) == []


def test_reversion_follows_the_programmes_thresholds(programme) -> None:
    programme.risk_reversion_count = 1
    programme.risk_reversion_window = 1
    programme.save()
    pair = new_pair(programme)
    pulse(session(pair, 6), pair.mentee, teaching=4)
    latest = session(pair, 2)

    detect()
    assert flags(pair, Rule.REVERSION) == []

    pulse(latest, pair.mentee, teaching=4)
    detect()
    assert only_flag(pair, Rule.REVERSION).evidence["of"] == 1


def test_a_newer_reverted_session_updates_the_flag_and_reopens_after_resolution(
    programme,
) -> None:
    pair = new_pair(programme)
    for days in (12, 9):
        pulse(session(pair, days), pair.mentee, teaching=4)
    detect()
    newer = session(pair, 6)
    pulse(newer, pair.mentee, teaching=5)

    assert detect() == {"opened": 0, "updated": 1}
    assert only_flag(pair, Rule.REVERSION).evidence["reverted"] == 3

    resolve(only_flag(pair, Rule.REVERSION))
    assert detect() == {"opened": 0, "updated": 0}
    newest = session(pair, 3)
    pulse(newest, pair.reverse_mentor, teaching=4)
    assert detect() == {"opened": 1, "updated": 0}
    assert flags(pair, Rule.REVERSION)[-1].condition == f"meeting:{newest.pk}"


# --- Not a good fit -----------------------------------------------------------------------------


def test_it_flags_a_not_a_good_fit_answer(programme) -> None:
    pair = new_pair(programme)
    first = session(pair, 5)
    pulse(first, pair.reverse_mentor, good_fit=True)

    detect()
    assert flags(pair, Rule.NOT_A_GOOD_FIT) == []

    answer = pulse(first, pair.mentee, good_fit=False)
    detect()
    flag = only_flag(pair, Rule.NOT_A_GOOD_FIT)
    assert flag.severity == RiskFlag.Severity.HIGH
    assert flag.condition == f"pulse:{answer.pk}"
    assert flag.evidence == {"date": "2026-06-10", "side": "mentee"}
    assert flag.reason == (
        'The executive answered "not a good fit" after the first session (10 Jun 2026).'
    )


def test_a_resolved_not_a_good_fit_stays_resolved_until_someone_else_says_it(programme) -> None:
    pair = new_pair(programme)
    first = session(pair, 5)
    pulse(first, pair.mentee, good_fit=False)
    detect()
    resolve(only_flag(pair, Rule.NOT_A_GOOD_FIT))

    assert detect() == {"opened": 0, "updated": 0}

    pulse(first, pair.reverse_mentor, good_fit=False)
    assert detect() == {"opened": 1, "updated": 0}
    assert flags(pair, Rule.NOT_A_GOOD_FIT)[-1].evidence["side"] == "reverse_mentor"


# --- Every rule ---------------------------------------------------------------------------------


def trouble_everywhere(programme: Programme, **fields) -> Pair:
    """A pair for which every rule holds, with free text wherever there can be some: the
    score at "act", low safety, reversion, not a good fit."""
    pair = new_pair(programme, started_on=(NOW - 90 * DAY).date(), **fields)
    first = session(pair, 60)
    with_private_text(first, pair.mentee, good_fit=False, safety=1, teaching=5)
    with_private_text(session(pair, 50), pair.reverse_mentor, teaching=4)
    session(pair, 40)  # held, no pulse
    session(pair, 20, MISSED)
    session(pair, 10, CANCELLED, cancel_reason=MARKERS[2])
    return pair


def test_flags_keep_counts_dates_and_ids_and_nothing_anyone_wrote(programme) -> None:
    pair = trouble_everywhere(programme)

    assert detect() == {"opened": 4, "updated": 0}

    found = RiskFlag.objects.filter(pair=pair)
    # Every rule the detection has: "left without a partner" is opened by a re-match, the
    # timing rules are retired.
    assert {flag.rule for flag in found} == set(Rule) - {Rule.NEEDS_PARTNER} - RETIRED
    for flag in found:
        assert flag.severity == RiskFlag.SEVERITY[flag.rule]
        for text in (json.dumps(flag.evidence), flag.reason, flag.condition):
            for marker in MARKERS:
                assert marker not in text


def test_running_twice_changes_nothing_the_second_time(programme) -> None:
    pair = trouble_everywhere(programme)
    detect()
    before = list(RiskFlag.objects.filter(pair=pair).values())
    score = list(PairRisk.objects.filter(pair=pair).values())

    assert detect(now=NOW + HOUR) == {"opened": 0, "updated": 0}

    assert list(RiskFlag.objects.filter(pair=pair).values()) == before
    # The score is the same an hour later: its row is not written again.
    assert list(PairRisk.objects.filter(pair=pair).values()) == score
    assert len(score) == 1


def test_a_paused_pair_is_flagged_only_for_what_its_people_answered(programme) -> None:
    pair = trouble_everywhere(programme, status=Pair.Status.PAUSED)

    detect()

    assert {flag.rule for flag in RiskFlag.objects.filter(pair=pair)} == {
        Rule.LOW_SAFETY,
        Rule.NOT_A_GOOD_FIT,
    }


def test_ended_and_proposed_pairs_are_left_alone(programme) -> None:
    ended = trouble_everywhere(programme, status=Pair.Status.ENDED)
    proposed = new_pair(programme, status=Pair.Status.PROPOSED)

    assert detect() == {"opened": 0, "updated": 0}

    assert not RiskFlag.objects.filter(pair__in=[ended, proposed]).exists()


def test_it_can_look_at_chosen_pairs_only(programme) -> None:
    chosen = trouble_everywhere(programme)
    other = trouble_everywhere(programme)

    assert detect(pair_ids=[chosen.pk]) == {"opened": 4, "updated": 0}

    assert not RiskFlag.objects.filter(pair=other).exists()


def test_it_reads_a_fixed_number_of_queries_however_many_pairs(
    programme, django_assert_num_queries
) -> None:
    trouble_everywhere(programme)
    detect()
    # The open pairs with their programmes, then for the programme: the score's signals
    # (sessions, pulses, agreements, check-ins) and learned model, the started sessions (with
    # whether each has a reverted pulse), the low-safety and not-a-good-fit answers, the
    # flags, the kept scores. Nothing new: nothing written.
    with django_assert_num_queries(10):
        assert detect(now=NOW + HOUR) == {"opened": 0, "updated": 0}

    for _ in range(5):
        trouble_everywhere(programme)
        new_pair(programme)
    detect()
    with django_assert_num_queries(10):
        assert detect(now=NOW + HOUR) == {"opened": 0, "updated": 0}


def test_a_run_that_lost_the_race_writes_nothing(programme, monkeypatch) -> None:
    """Two runs at once: the pair is locked and evaluated again before writing, so the
    second sees the first one's flag; where the lock is a no-op (SQLite) and both inserts
    race, the constraint stops the second and it leaves the pair alone."""
    from risks import detection

    pair = fading(programme)
    real_write = detection._write

    def other_run_first(*args, **kwargs):
        assert real_write(*args, **kwargs) == (1, 0)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(detection, "_write", other_run_first)
    assert detect() == {"opened": 0, "updated": 0}
    assert len(flags(pair, Rule.FADING)) == 1

    # Both saw no flag and both insert: the constraint keeps one.
    real_evaluate = detection._evaluate

    def stale(*args, **kwargs):
        found = real_evaluate(*args, **kwargs)
        return replace(found, known=detection.defaultdict(detection._Known))

    monkeypatch.setattr(detection, "_write", real_write)
    monkeypatch.setattr(detection, "_evaluate", stale)
    assert detect(now=NOW + HOUR) == {"opened": 0, "updated": 0}
    assert len(flags(pair, Rule.FADING)) == 1

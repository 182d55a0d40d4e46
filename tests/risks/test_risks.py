"""At-risk detection (risks/detection.py): each rule raises its flag when it holds with the
programme's thresholds and not a moment before, never twice for one occurrence (a resolved
one stays resolved), updates the open flag for a newer occurrence, and opens a new flag for
a new occurrence after resolution. Flags keep counts, dates and ids only."""

import json
from datetime import UTC, datetime

import pytest

from pairs.models import Meeting, Pair
from programmes.models import Programme, Role
from risks.checkins import pairs_resume_due
from risks.models import RiskFlag
from tests.pairs.meeting_helpers import agreed_pair, meeting_for
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


# --- Missed or cancelled sessions ---------------------------------------------------------------


def test_it_flags_two_sessions_in_a_row_that_did_not_happen(programme) -> None:
    pair = new_pair(programme)
    session(pair, 10)
    missed = session(pair, 7, MISSED)
    cancelled = session(pair, 3, CANCELLED, cancelled_by=Role.REVERSE_MENTOR)

    assert detect() == {"opened": 1, "updated": 0}

    flag = only_flag(pair, Rule.MISSED)
    assert flag.is_open
    assert flag.severity == RiskFlag.Severity.MEDIUM
    assert flag.condition == f"meeting:{cancelled.pk}"
    assert flag.opened_at == flag.updated_at == NOW
    assert flag.evidence == {
        "in_a_row": 2,
        "in_window": 2,
        "window_days": 30,
        "sessions": [
            {"id": missed.pk, "date": "2026-06-08", "status": "missed", "by": ""},
            {
                "id": cancelled.pk,
                "date": "2026-06-12",
                "status": "cancelled",
                "by": "reverse_mentor",
            },
        ],
    }
    assert flag.reason == (
        "The last 2 sessions did not happen (missed or cancelled), the latest on 12 Jun 2026."
    )


def test_it_does_not_flag_one_missed_session_or_one_still_to_come(programme) -> None:
    pair = new_pair(programme)
    session(pair, 10)
    session(pair, 7, MISSED)
    session(pair, -1, CANCELLED)  # tomorrow: it counts once its time has come

    detect()
    assert flags(pair, Rule.MISSED) == []

    detect(now=NOW + 2 * DAY)
    assert len(flags(pair, Rule.MISSED)) == 1


def test_a_past_session_nobody_logged_breaks_the_run(programme) -> None:
    programme.risk_missed_in_window = 3
    programme.save()
    pair = new_pair(programme)
    session(pair, 7, MISSED)
    session(pair, 5, Meeting.Status.SCHEDULED)
    session(pair, 3, MISSED)

    detect()

    assert flags(pair, Rule.MISSED) == []


def test_two_within_the_window_are_flagged_even_with_a_held_one_between(programme) -> None:
    pair = new_pair(programme, started_on=(NOW - 60 * DAY).date())
    session(pair, 40, MISSED)  # outside the 30 days
    first = session(pair, 20, MISSED)
    session(pair, 10)
    second = session(pair, 2, CANCELLED)

    detect()

    flag = only_flag(pair, Rule.MISSED)
    assert flag.condition == f"meeting:{second.pk}"
    assert flag.evidence["in_a_row"] is None
    assert flag.evidence["in_window"] == 2
    assert [s["id"] for s in flag.evidence["sessions"]] == [first.pk, second.pk]
    assert flag.reason == "2 sessions missed or cancelled in the last 30 days."


def test_missed_sessions_follow_the_programmes_thresholds(programme) -> None:
    programme.risk_missed_in_a_row = 3
    programme.risk_missed_in_window = 3
    programme.save()
    pair = new_pair(programme)
    session(pair, 9, MISSED)
    session(pair, 6, MISSED)

    detect()
    assert flags(pair, Rule.MISSED) == []

    third = session(pair, 3, MISSED)
    detect()
    flag = only_flag(pair, Rule.MISSED)
    assert flag.condition == f"meeting:{third.pk}"
    assert flag.evidence["in_a_row"] == 3


def test_a_newer_missed_session_updates_the_open_flag(programme) -> None:
    pair = new_pair(programme)
    session(pair, 9, MISSED)
    session(pair, 6, MISSED)
    detect()
    later = session(pair, 3, CANCELLED)

    assert detect(now=NOW + HOUR) == {"opened": 0, "updated": 1}

    flag = only_flag(pair, Rule.MISSED)
    assert flag.condition == f"meeting:{later.pk}"
    assert flag.opened_at == NOW
    assert flag.updated_at == NOW + HOUR
    assert flag.evidence["sessions"][-1]["id"] == later.pk


def test_a_resolved_occurrence_stays_resolved_and_the_next_one_opens_a_flag(programme) -> None:
    pair = new_pair(programme)
    session(pair, 9, MISSED)
    session(pair, 6, MISSED)
    detect()
    resolve(only_flag(pair, Rule.MISSED))

    assert detect(now=NOW + HOUR) == {"opened": 0, "updated": 0}
    assert detect(now=NOW + DAY) == {"opened": 0, "updated": 0}

    later = session(pair, 3, MISSED)
    assert detect(now=NOW + DAY) == {"opened": 1, "updated": 0}
    resolved, reopened = flags(pair, Rule.MISSED)
    assert not resolved.is_open
    assert reopened.is_open
    assert reopened.condition == f"meeting:{later.pk}"


# --- No session held lately ---------------------------------------------------------------------


def test_it_flags_thirty_days_without_a_held_session_and_not_twenty_nine(programme) -> None:
    pair = new_pair(programme, started_on=(NOW - 60 * DAY).date())
    session(pair, 29)

    detect()
    assert flags(pair, Rule.NO_SESSION) == []

    detect(now=NOW + DAY)
    flag = only_flag(pair, Rule.NO_SESSION)
    assert flag.condition == "since:2026-05-17"
    assert flag.evidence == {
        "days": 30,
        "last_held": "2026-05-17",
        "since": "2026-05-17",
        "resumed_on": None,
    }
    assert flag.reason == "No session held for 30 days (the last on 17 May 2026)."


def test_days_without_a_session_are_counted_in_the_programmes_time_zone(programme) -> None:
    pair = new_pair(programme, started_on=(NOW - 60 * DAY).date())
    # 23:30 UTC on 16 May is 00:30 on the 17th in London.
    meeting_for(pair, starts_at=datetime(2026, 5, 16, 23, 30, tzinfo=UTC), status=HELD)

    detect(now=NOW + DAY)

    assert only_flag(pair, Rule.NO_SESSION).evidence["last_held"] == "2026-05-17"


def test_a_pair_that_never_met_counts_from_its_start(programme) -> None:
    pair = new_pair(programme, started_on=(NOW - 30 * DAY).date())
    session(pair, 10, MISSED)

    detect()

    flag = only_flag(pair, Rule.NO_SESSION)
    assert flag.evidence == {
        "days": 30,
        "last_held": None,
        "since": "2026-05-16",
        "resumed_on": None,
    }
    assert flag.reason == "No session held since the pair started on 16 May 2026."


def test_a_pair_back_from_a_pause_counts_from_the_day_it_resumed(programme) -> None:
    # Held 45 days ago, then paused until 20 days ago: 20 quiet days since it came back.
    pair = new_pair(programme, started_on=(NOW - 90 * DAY).date())
    session(pair, 45)
    Pair.objects.filter(pk=pair.pk).update(
        status=Pair.Status.PAUSED, paused_until=(NOW - 20 * DAY).date()
    )
    pairs_resume_due(now=NOW)

    detect()
    assert flags(pair, Rule.NO_SESSION) == []

    # Ten days later the pair has been back 30 days with no session.
    detect(now=NOW + 10 * DAY)
    flag = only_flag(pair, Rule.NO_SESSION)
    assert flag.evidence["resumed_on"] == "2026-05-26"
    assert flag.condition == "since:2026-05-26"
    assert flag.reason == (
        "No session held in the 30 days since the pair came back from a pause on 26 May 2026."
    )


def test_a_pair_with_no_start_date_counts_from_its_creation(programme, time_machine) -> None:
    time_machine.move_to(NOW - 31 * DAY, tick=False)
    pair = new_pair(programme, started_on=None)

    detect()

    assert only_flag(pair, Rule.NO_SESSION).condition == "since:2026-05-15"


def test_days_without_a_session_follow_the_programmes_threshold(programme) -> None:
    programme.risk_days_without_session = 10
    programme.save()
    pair = new_pair(programme)
    session(pair, 9)

    detect()
    assert flags(pair, Rule.NO_SESSION) == []

    detect(now=NOW + DAY)
    assert only_flag(pair, Rule.NO_SESSION).evidence["days"] == 10


def test_a_later_quiet_spell_updates_the_open_flag_or_opens_one_after_resolution(
    programme,
) -> None:
    pair = new_pair(programme, started_on=(NOW - 90 * DAY).date())
    pulse(session(pair, 60), pair.mentee)
    detect()
    first = only_flag(pair, Rule.NO_SESSION)
    assert first.condition == "since:2026-04-16"

    # Still quiet the next day: the same occurrence, nothing changes.
    assert detect(now=NOW + DAY) == {"opened": 0, "updated": 0}

    pulse(session(pair, -1), pair.mentee)  # held tomorrow, then nothing for 30 days
    assert detect(now=NOW + 31 * DAY) == {"opened": 0, "updated": 1}
    assert only_flag(pair, Rule.NO_SESSION).condition == "since:2026-06-16"

    resolve(only_flag(pair, Rule.NO_SESSION))
    assert detect(now=NOW + 40 * DAY) == {"opened": 0, "updated": 0}
    pulse(session(pair, -45), pair.mentee)
    assert detect(now=NOW + 75 * DAY) == {"opened": 1, "updated": 0}
    assert [f.condition for f in flags(pair, Rule.NO_SESSION)] == [
        "since:2026-06-16",
        "since:2026-07-30",
    ]


# --- No pulse for the last held sessions -------------------------------------------------------


def test_it_flags_the_last_two_held_sessions_without_a_pulse(programme) -> None:
    pair = new_pair(programme)
    first = session(pair, 10)
    second = session(pair, 5)

    detect()

    flag = only_flag(pair, Rule.NO_PULSE)
    assert flag.severity == RiskFlag.Severity.LOW
    assert flag.condition == f"meeting:{second.pk}"
    assert flag.evidence == {
        "sessions": [
            {"id": first.pk, "date": "2026-06-05"},
            {"id": second.pk, "date": "2026-06-10"},
        ]
    }
    assert flag.reason == (
        "Nobody answered the pulse for the last 2 sessions held (the latest on 10 Jun 2026)."
    )


def test_a_pulse_from_either_side_is_enough(programme) -> None:
    pair = new_pair(programme)
    session(pair, 10)
    pulse(session(pair, 5), pair.reverse_mentor)

    detect()

    assert flags(pair, Rule.NO_PULSE) == []


def test_the_latest_session_waits_for_its_pulse_to_come_in(programme) -> None:
    pair = new_pair(programme)
    session(pair, 10)
    latest = session(pair, 0)

    # Ended 72 hours ago: the nudge went 23 hours ago, the answer may still come.
    detect(now=latest.ends_at + 72 * HOUR)
    assert flags(pair, Rule.NO_PULSE) == []

    detect(now=latest.ends_at + 73 * HOUR)
    assert only_flag(pair, Rule.NO_PULSE).condition == f"meeting:{latest.pk}"


def test_one_held_session_without_a_pulse_is_not_enough_unless_the_programme_says_so(
    programme,
) -> None:
    pair = new_pair(programme)
    session(pair, 5)

    detect()
    assert flags(pair, Rule.NO_PULSE) == []

    programme.risk_held_without_pulse = 1
    programme.save()
    detect()
    assert len(only_flag(pair, Rule.NO_PULSE).evidence["sessions"]) == 1


def test_later_sessions_without_a_pulse_update_the_flag_and_reopen_after_resolution(
    programme,
) -> None:
    pair = new_pair(programme)
    session(pair, 10)
    session(pair, 7)
    detect()
    third = session(pair, 4)

    assert detect() == {"opened": 0, "updated": 1}
    assert only_flag(pair, Rule.NO_PULSE).condition == f"meeting:{third.pk}"

    resolve(only_flag(pair, Rule.NO_PULSE))
    assert detect() == {"opened": 0, "updated": 0}
    fourth = session(pair, -1)
    assert detect(now=fourth.ends_at + 4 * DAY) == {"opened": 1, "updated": 0}
    assert flags(pair, Rule.NO_PULSE)[-1].condition == f"meeting:{fourth.pk}"


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
    """A pair for which every rule holds, with free text wherever there can be some. (With
    the default thresholds "no pulse for the last two held" and "reverted in two of the last
    three held" cannot both hold: the programme flags one held session without a pulse.)"""
    programme.risk_held_without_pulse = 1
    programme.save(update_fields=["risk_held_without_pulse"])
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

    assert detect() == {"opened": 6, "updated": 0}

    found = RiskFlag.objects.filter(pair=pair)
    # Every rule the detection has: "left without a partner" is opened by a re-match.
    assert {flag.rule for flag in found} == set(Rule) - {Rule.NEEDS_PARTNER}
    for flag in found:
        assert flag.severity == RiskFlag.SEVERITY[flag.rule]
        for text in (json.dumps(flag.evidence), flag.reason, flag.condition):
            for marker in MARKERS:
                assert marker not in text


def test_running_twice_changes_nothing_the_second_time(programme) -> None:
    pair = trouble_everywhere(programme)
    detect()
    before = list(RiskFlag.objects.filter(pair=pair).values())

    assert detect(now=NOW + HOUR) == {"opened": 0, "updated": 0}

    assert list(RiskFlag.objects.filter(pair=pair).values()) == before


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

    assert detect(pair_ids=[chosen.pk]) == {"opened": 6, "updated": 0}

    assert not RiskFlag.objects.filter(pair=other).exists()


def test_it_reads_a_fixed_number_of_queries_however_many_pairs(
    programme, django_assert_num_queries
) -> None:
    trouble_everywhere(programme)
    detect()
    # The open pairs with their programmes, then for the programme: the started sessions
    # (with whether each has a pulse and a reverted one), the low-safety and not-a-good-fit
    # answers, the flags. Nothing new: nothing written.
    with django_assert_num_queries(4):
        assert detect(now=NOW + HOUR) == {"opened": 0, "updated": 0}

    for _ in range(5):
        trouble_everywhere(programme)
        new_pair(programme)
    detect()
    with django_assert_num_queries(4):
        assert detect(now=NOW + HOUR) == {"opened": 0, "updated": 0}


def test_a_run_that_lost_the_race_writes_nothing(programme, monkeypatch) -> None:
    """Two runs at once: the pair is locked and evaluated again before writing, so the
    second sees the first one's flag; where the lock is a no-op (SQLite) and both inserts
    race, the constraint stops the second and it leaves the pair alone."""
    from risks import detection

    pair = new_pair(programme)
    session(pair, 9, MISSED)
    session(pair, 6, MISSED)
    real_write = detection._write

    def other_run_first(*args, **kwargs):
        assert real_write(*args, **kwargs) == (1, 0)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(detection, "_write", other_run_first)
    assert detect() == {"opened": 0, "updated": 0}
    assert len(flags(pair, Rule.MISSED)) == 1

    # Both saw no flag and both insert: the constraint keeps one.
    real_evaluate = detection._evaluate

    def stale(*args, **kwargs):
        findings, _ = real_evaluate(*args, **kwargs)
        return findings, detection.defaultdict(detection._Known)

    monkeypatch.setattr(detection, "_write", real_write)
    monkeypatch.setattr(detection, "_evaluate", stale)
    assert detect(now=NOW + HOUR) == {"opened": 0, "updated": 0}
    assert len(flags(pair, Rule.MISSED)) == 1

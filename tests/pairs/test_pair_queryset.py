"""The pair-state and session-state groupings mean exactly these sets: a new status, or a
grouping that quietly changes, fails here first."""

import pytest

from pairs.models import Meeting, Pair
from programmes.models import Role
from surveys.models import Pulse
from tests.factories import CohortFactory, ParticipantFactory

S = Pair.Status
# Every pair status, and whether it is current, open, started.
PAIR_GROUPS = {
    S.PROPOSED: {"current": True, "open": False, "started": False},
    S.ACTIVE: {"current": True, "open": True, "started": True},
    S.PAUSED: {"current": True, "open": True, "started": True},
    S.ENDED: {"current": False, "open": False, "started": True},
}
PAIR_CONSTANTS = {
    "current": "CURRENT_STATUSES",
    "open": "OPEN_STATUSES",
    "started": "STARTED_STATUSES",
}

M = Meeting.Status
# Every session status, and which groupings it belongs to.
MEETING_GROUPS = {
    M.SCHEDULED: {"NOT_HAPPENED": False, "MARKED": False, "MAYBE_HELD": True, "CALLED_OFF": False},
    M.HELD: {"NOT_HAPPENED": False, "MARKED": True, "MAYBE_HELD": True, "CALLED_OFF": False},
    M.CANCELLED: {"NOT_HAPPENED": True, "MARKED": False, "MAYBE_HELD": False, "CALLED_OFF": True},
    M.MISSED: {"NOT_HAPPENED": True, "MARKED": True, "MAYBE_HELD": False, "CALLED_OFF": False},
    M.WITHDRAWN: {"NOT_HAPPENED": False, "MARKED": False, "MAYBE_HELD": False, "CALLED_OFF": True},
}


def _in(groups: dict, name: str) -> set[str]:
    return {status for status, member in groups.items() if member[name]}


@pytest.fixture
def pair_of_each_status(db: None) -> dict[str, Pair]:
    cohort = CohortFactory()
    pairs = {}
    for status in Pair.Status:
        mentee = ParticipantFactory(cohort=cohort, role=Role.MENTEE)
        mentor = ParticipantFactory(cohort=cohort, role=Role.REVERSE_MENTOR)
        pairs[status] = Pair.objects.create(
            cohort=cohort, mentee=mentee, reverse_mentor=mentor, status=status
        )
    return pairs


def test_the_tables_cover_every_status() -> None:
    assert set(PAIR_GROUPS) == set(Pair.Status)
    assert set(MEETING_GROUPS) == set(Meeting.Status)


@pytest.mark.parametrize("method", sorted(PAIR_CONSTANTS))
def test_each_pair_queryset_method_selects_exactly_its_statuses(
    method: str, pair_of_each_status: dict[str, Pair]
) -> None:
    found = getattr(Pair.objects, method)()
    assert set(found.values_list("status", flat=True)) == _in(PAIR_GROUPS, method)
    assert found.count() == len(_in(PAIR_GROUPS, method))


@pytest.mark.parametrize("method", sorted(PAIR_CONSTANTS))
def test_each_pair_constant_is_the_set_its_queryset_method_selects(method: str) -> None:
    constant = getattr(Pair, PAIR_CONSTANTS[method])
    assert set(constant) == _in(PAIR_GROUPS, method)
    assert len(constant) == len(set(constant))


def test_current_pairs_are_those_not_ended_and_open_ones_are_current_and_started() -> None:
    assert set(Pair.CURRENT_STATUSES) == set(Pair.Status) - {S.ENDED}
    assert set(Pair.OPEN_STATUSES) == set(Pair.CURRENT_STATUSES) & set(Pair.STARTED_STATUSES)


def test_the_pair_queryset_methods_chain_with_filters(pair_of_each_status: dict) -> None:
    paused = pair_of_each_status[S.PAUSED]
    assert list(Pair.objects.filter(pk=paused.pk).open()) == [paused]
    assert list(Pair.objects.current().filter(pk=pair_of_each_status[S.ENDED].pk)) == []


@pytest.mark.parametrize("name", ["NOT_HAPPENED", "MARKED", "MAYBE_HELD", "CALLED_OFF"])
def test_each_meeting_grouping_is_exactly_its_statuses(name: str) -> None:
    constant = getattr(Meeting, name)
    assert set(constant) == _in(MEETING_GROUPS, name)
    assert len(constant) == len(set(constant))


def test_sessions_that_did_not_happen_are_missed_or_cancelled_never_withdrawn() -> None:
    assert set(Meeting.NOT_HAPPENED) == {M.MISSED, M.CANCELLED}


@pytest.mark.parametrize("status", list(Meeting.Status))
def test_a_session_is_called_off_exactly_when_its_status_is(status: str) -> None:
    assert Meeting(status=status).called_off is MEETING_GROUPS[status]["CALLED_OFF"]


def test_a_session_reverted_when_the_executive_did_most_of_the_teaching() -> None:
    # teaching: 1 = mostly the reverse-mentor taught … 5 = mostly the executive taught.
    assert [n for n in range(1, 6) if n >= Pulse.REVERTED_FROM] == [4, 5]

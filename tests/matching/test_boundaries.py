"""Boundaries given at intake are hard rules: nobody is paired with someone either of them
asked not to be paired with, nor with someone who wants to learn a topic they ruled out. The
explanations name the rule, never who asked or anything they wrote."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import engine, services, suggestions
from matching.cohort_data import _avoided
from matching.models import MatchingRun, ProposedPair
from programmes.models import Cohort, IntakeObjective, Role
from tests.factories import CohortFactory, PersonFactory, TopicFactory
from tests.matching.sides import random_cohort
from tests.matching.test_services import mentee, mentor, pairs_of, reasons_of, run

AVOIDED = engine.RULES["avoided"]


# --- the engine ------------------------------------------------------------------------------


def avoided(pairs: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = zip(*pairs, strict=True) if pairs else ((), ())
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 6), st.floats(0, 0.7))
def test_the_engine_never_proposes_an_avoided_pair(seed, m, n, share) -> None:
    rng = np.random.default_rng(seed)
    mentees, mentors = random_cohort(rng, m, n)
    ruled_out = [(i, j) for i in range(m) for j in range(n) if rng.random() < share]
    constraints = engine.Constraints(avoided=avoided(ruled_out))
    problem = engine.build_problem(
        mentees, mentors, weights=engine.DEFAULT_WEIGHTS, constraints=constraints
    )

    for protect in (False, True):
        solution = engine.solve(problem, constraints=constraints, protect_worst_off=protect)

        assert not set(solution.pairs) & set(ruled_out)
    assert problem.forbidden["avoided"].sum() == len(set(ruled_out))


def test_the_engine_leaves_out_whoever_only_an_avoided_pair_could_place() -> None:
    mentees, mentors = random_cohort(np.random.default_rng(3), 2, 2)
    # Nothing else in the way: no reporting lines, no topics ruled out, every hour shared.
    mentees.line_entry[:] = mentors.line_entry[:] = -1
    mentees.off_limits[:] = mentors.off_limits[:] = False
    mentees.hours[:] = mentors.hours[:] = True
    # Both mentees would rather not be paired with mentor 0: only one of them can be placed.
    constraints = engine.Constraints(avoided=avoided([(0, 0), (1, 0)]))
    problem = engine.build_problem(
        mentees, mentors, weights=engine.DEFAULT_WEIGHTS, constraints=constraints
    )

    solution = engine.solve(problem, constraints=constraints)

    assert len(solution.pairs) == 1
    assert solution.unmatched_mentors == [0]
    assert engine.blocking_rules(problem, mentor=0) == {"avoided": 2}


def test_the_engine_rules_out_every_avoided_pair_of_a_large_cohort_at_once() -> None:
    """One fancy-indexed assignment from index arrays, not a loop over pairs."""
    size = 600
    mentees, mentors = random_cohort(np.random.default_rng(5), size, size)
    rng = np.random.default_rng(6)
    rows, cols = rng.integers(0, size, 3 * size), rng.integers(0, size, 3 * size)
    constraints = engine.Constraints(avoided=(rows, cols))

    problem = engine.build_problem(
        mentees, mentors, weights=engine.DEFAULT_WEIGHTS, constraints=constraints
    )

    assert problem.forbidden["avoided"][rows, cols].all()
    assert problem.forbidden["avoided"].sum() == len(set(zip(rows, cols, strict=True)))
    assert not problem.allowed[rows, cols].any()


# --- runs on real cohorts --------------------------------------------------------------------

pytestmark = pytest.mark.django_db


@pytest.fixture
def cohort() -> Cohort:
    return CohortFactory(status=Cohort.Status.INTAKE)


def test_a_run_never_pairs_a_mentee_with_a_reverse_mentor_they_avoid(cohort: Cohort) -> None:
    a = mentee(cohort)
    best, other = mentor(cohort), mentor(cohort, hours=[9])
    a.intake.avoid.set([best.person])

    result = run(cohort)

    assert pairs_of(result) == {(a.pk, other.pk)}


def test_a_run_never_pairs_a_reverse_mentor_with_a_mentee_they_avoid(cohort: Cohort) -> None:
    a, b = mentee(cohort), mentee(cohort, hours=[9])
    x = mentor(cohort)
    x.intake.avoid.set([a.person])

    result = run(cohort)

    assert pairs_of(result) == {(b.pk, x.pk)}
    assert reasons_of(result)[a.pk] == f"No possible partner among 1: {AVOIDED} with 1."


def test_a_run_names_who_cannot_be_placed_when_avoidance_makes_a_full_matching_impossible(
    cohort: Cohort,
) -> None:
    a, _ = mentee(cohort), mentee(cohort)
    x, y = mentor(cohort), mentor(cohort)
    a.intake.avoid.set([x.person, y.person])  # a asks to avoid both reverse-mentors

    result = run(cohort)

    assert len(pairs_of(result)) == 1
    assert a.pk not in {m for m, _ in pairs_of(result)}
    reasons = reasons_of(result)
    assert reasons[a.pk] == f"No possible partner among 2: {AVOIDED} with 2."
    assert result.message == ""


def test_an_avoided_pair_is_refused_when_the_manager_changes_partners(cohort: Cohort) -> None:
    a, _ = mentee(cohort), mentee(cohort)
    x, y = mentor(cohort), mentor(cohort)
    y.intake.avoid.set([a.person])
    result = run(cohort)
    proposal = ProposedPair.objects.get(run=result, mentee=a)
    assert proposal.reverse_mentor == x

    check = services.pair_check(run=result, mentee=a, mentor=y)
    with pytest.raises(services.MatchingError) as refused:
        services.proposal_change_partner(proposal=proposal, mentor=y)

    assert check.broken == [AVOIDED]
    assert AVOIDED in str(refused.value)
    assert suggestions.best_partner_for(participant=a).partner == x


def test_the_explanations_never_say_who_asked_or_anything_they_wrote(cohort: Cohort) -> None:
    a = mentee(cohort)
    x = mentor(cohort)
    a.intake.avoid.set([x.person])
    a.intake.boundaries_text = "My former manager: we fell out badly."
    a.intake.save()

    result = run(cohort)
    said = " ".join(
        [result.message, *result.waiting.values_list("reason", flat=True)]
        + [" ".join(p.reasons) + p.not_best for p in result.proposals.all()]
    )

    assert AVOIDED in said
    assert "fell out" not in said
    assert a.person.full_name.split()[0] not in said
    assert x.person.full_name.split()[0] not in said


def test_avoiding_someone_outside_the_cohort_or_on_ones_own_side_changes_nothing(
    cohort: Cohort,
) -> None:
    a, b = mentee(cohort), mentee(cohort, hours=[9])
    x = mentor(cohort)
    a.intake.avoid.set([b.person, PersonFactory()])

    result = run(cohort)

    assert pairs_of(result) == {(a.pk, x.pk)}


def test_it_loads_the_avoidances_of_a_whole_cohort_in_one_query(
    cohort: Cohort, django_assert_num_queries
) -> None:
    mentees = [mentee(cohort) for _ in range(4)]
    mentors = [mentor(cohort) for _ in range(4)]
    for i, participant in enumerate(mentees):
        participant.intake.avoid.set([mentors[i].person, mentors[(i + 1) % 4].person])

    with django_assert_num_queries(1):
        rows, cols = _avoided(mentees, mentors)

    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == sorted(
        [(i, i) for i in range(4)] + [(i, (i + 1) % 4) for i in range(4)]
    )


# --- the topic rule --------------------------------------------------------------------------

OFF_LIMITS = engine.RULES["off_limits"]


@pytest.mark.parametrize("whose", [Role.MENTEE, Role.REVERSE_MENTOR])
def test_a_run_never_pairs_someone_with_a_person_who_wants_a_topic_they_ruled_out(
    cohort: Cohort, whose: str
) -> None:
    topic = TopicFactory(programme=cohort.programme)
    a = mentee(cohort)
    x, y = mentor(cohort), mentor(cohort, hours=[9])
    wants, rules_out = (x, a) if whose == Role.MENTEE else (a, x)
    IntakeObjective.objects.create(intake=wants.intake, topic=topic, rank=1)
    rules_out.intake.off_limits.set([topic])
    x.intake.can_share.set([topic])  # x would otherwise be the best match

    result = run(cohort)

    assert pairs_of(result) == {(a.pk, y.pk)}
    assert services.pair_check(run=result, mentee=a, mentor=x).broken == [OFF_LIMITS]


def test_a_topic_ruled_out_that_the_other_only_offers_does_not_rule_the_pair_out(
    cohort: Cohort,
) -> None:
    topic = TopicFactory(programme=cohort.programme)
    a, x = mentee(cohort), mentor(cohort)
    a.intake.off_limits.set([topic])
    x.intake.can_share.set([topic])

    result = run(cohort)

    assert pairs_of(result) == {(a.pk, x.pk)}
    assert MatchingRun.objects.get(pk=result.pk).matched_count == 1

"""Matching runs on real cohorts in the database: each hard rule on its own, capacity, locks,
the waiting list and its reasons, and runs that have nothing to match."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from matching import services, suggestions
from matching.models import MatchingRun, PairRule
from matching.tasks import run_matching
from notifications.models import Notification
from notifications.tasks import send_notification
from pairs.models import Meeting, Pair
from programmes.models import Cohort, IntakeObjective, Participant, Role
from tests.factories import (
    CohortFactory,
    IntakeFactory,
    ParticipantFactory,
    PersonFactory,
    TopicFactory,
)
from tests.pairs.meeting_helpers import meeting_for

pytestmark = pytest.mark.django_db
MONDAY_MORNING = [9, 10, 11]
TUESDAY_MORNING = [33, 34, 35]


@pytest.fixture
def cohort() -> Cohort:
    return CohortFactory(status=Cohort.Status.INTAKE)


def join(cohort: Cohort, role: str, *, person=None, hours=MONDAY_MORNING, capacity=1):
    participant = ParticipantFactory(
        cohort=cohort, role=role, capacity=capacity, **({"person": person} if person else {})
    )
    IntakeFactory(participant=participant, availability=hours)
    return participant


def mentee(cohort: Cohort, **kwargs) -> Participant:
    return join(cohort, Role.MENTEE, **kwargs)


def mentor(cohort: Cohort, **kwargs) -> Participant:
    return join(cohort, Role.REVERSE_MENTOR, **kwargs)


def run(cohort: Cohort, **kwargs) -> MatchingRun:
    made = MatchingRun.objects.create(
        cohort=cohort, weights=services.policy_for(cohort).weights, **kwargs
    )
    return services.matching_run_execute(run=made)


def pairs_of(result: MatchingRun) -> set[tuple[int, int]]:
    return set(result.proposals.values_list("mentee_id", "reverse_mentor_id"))


def reasons_of(result: MatchingRun) -> dict[int, str]:
    return dict(result.waiting.values_list("participant_id", "reason"))


def test_it_pairs_a_simple_cohort_and_explains_each_pair(cohort: Cohort) -> None:
    a, b = mentee(cohort), mentor(cohort)

    result = run(cohort)

    assert result.status == MatchingRun.Status.DONE
    assert pairs_of(result) == {(a.pk, b.pk)}
    proposal = result.proposals.get()
    assert "3 shared hours a week" in proposal.reasons
    assert 0 < proposal.score <= 1
    assert result.total_score == pytest.approx(proposal.score)
    assert result.progress == 100


def test_it_finishes_an_empty_cohort_with_a_clear_report(cohort: Cohort) -> None:
    result = run(cohort)

    assert result.status == MatchingRun.Status.DONE
    assert result.matched_count == 0
    assert "No mentees with a completed intake" in result.message


def test_it_puts_one_side_on_the_waiting_list_when_the_other_is_empty(cohort: Cohort) -> None:
    lonely = mentee(cohort)

    result = run(cohort)

    assert "No reverse-mentors with a completed intake" in result.message
    assert reasons_of(result) == {lonely.pk: "No reverse-mentors with a completed intake."}


def test_it_waits_for_missing_intakes(cohort: Cohort) -> None:
    a, b = mentee(cohort), mentor(cohort)
    late = ParticipantFactory(cohort=cohort, role=Role.MENTEE)

    result = run(cohort)

    assert pairs_of(result) == {(a.pk, b.pk)}
    assert reasons_of(result)[late.pk] == "Intake not completed yet."


def test_it_never_pairs_inside_a_reporting_line_at_any_depth(cohort: Cohort) -> None:
    boss = PersonFactory()
    grand_report = PersonFactory(manager=PersonFactory(manager=boss))
    executive = mentee(cohort, person=boss)
    junior = mentor(cohort, person=grand_report)

    result = run(cohort)

    assert pairs_of(result) == set()
    assert "The rules rule out every possible pair" in result.message
    assert "in one reporting line with 1" in reasons_of(result)[executive.pk]
    assert "in one reporting line with 1" in reasons_of(result)[junior.pk]


def test_it_respects_an_exclusion_and_a_block_from_another_cohort(cohort: Cohort) -> None:
    a, b, c = mentee(cohort), mentor(cohort), mentor(cohort)
    services.pair_rule_add(cohort=cohort, mentee=a, mentor=b, kind=PairRule.Kind.EXCLUDED)
    assert pairs_of(run(cohort)) == {(a.pk, c.pk)}

    PairRule.objects.all().delete()
    elsewhere = CohortFactory(programme=cohort.programme)
    old = ParticipantFactory(cohort=elsewhere, person=a.person)
    old_mentor = ParticipantFactory(cohort=elsewhere, person=c.person, role=Role.REVERSE_MENTOR)
    services.pair_rule_add(cohort=elsewhere, mentee=old, mentor=old_mentor, kind="blocked")
    assert pairs_of(run(cohort)) == {(a.pk, b.pk)}


def test_it_never_pairs_a_wanted_topic_with_someone_for_whom_it_is_off_limits(
    cohort: Cohort,
) -> None:
    topic = TopicFactory(programme=cohort.programme)
    a, b, c = mentee(cohort), mentor(cohort), mentor(cohort)
    IntakeObjective.objects.create(intake=a.intake, topic=topic, rank=1)
    b.intake.can_share.add(topic)  # b would be the better match…
    b.intake.off_limits.add(topic)  # …but will not talk about it

    result = run(cohort)

    assert pairs_of(result) == {(a.pk, c.pk)}


def test_it_needs_a_shared_hour_unless_the_programme_allows_none(cohort: Cohort) -> None:
    a = mentee(cohort, hours=MONDAY_MORNING)
    b = mentor(cohort, hours=TUESDAY_MORNING)
    result = run(cohort)
    assert pairs_of(result) == set()
    assert "no shared hour in the week with 1" in reasons_of(result)[a.pk]

    assert pairs_of(run(cohort, allow_without_shared_time=True)) == {(a.pk, b.pk)}


def test_it_gives_a_reverse_mentor_with_two_places_two_mentees(cohort: Cohort) -> None:
    a, b = mentee(cohort), mentee(cohort)
    busy = mentor(cohort, capacity=2)

    assert pairs_of(run(cohort)) == {(a.pk, busy.pk), (b.pk, busy.pk)}


def test_it_caps_anyone_s_mentoring_load_across_programmes(cohort: Cohort, organisation) -> None:
    organisation.max_mentoring_load = 2
    organisation.save()
    a = mentee(cohort)
    popular = mentor(cohort, capacity=2)
    for _ in range(2):
        other = CohortFactory()
        Pair.objects.create(
            cohort=other,
            mentee=ParticipantFactory(cohort=other),
            reverse_mentor=ParticipantFactory(
                cohort=other, person=popular.person, role=Role.REVERSE_MENTOR
            ),
        )

    result = run(cohort)

    assert pairs_of(result) == set()
    assert reasons_of(result)[popular.pk] == "Already mentoring 2 elsewhere: at the cap of 2."
    assert "no place left with 1" in reasons_of(result)[a.pk]


def test_it_keeps_a_locked_pair_even_when_another_scores_higher(cohort: Cohort) -> None:
    topic = TopicFactory(programme=cohort.programme)
    a, b = mentee(cohort), mentee(cohort)
    strong, weak = mentor(cohort), mentor(cohort)
    IntakeObjective.objects.create(intake=a.intake, topic=topic, rank=1)
    strong.intake.can_share.add(topic)
    services.pair_rule_add(cohort=cohort, mentee=a, mentor=weak, kind=PairRule.Kind.LOCKED)

    result = run(cohort)

    assert pairs_of(result) == {(a.pk, weak.pk), (b.pk, strong.pk)}
    assert result.proposals.get(mentee=a).locked


def test_it_tells_who_was_left_over_and_why(cohort: Cohort) -> None:
    a, b = mentee(cohort), mentee(cohort)
    only = mentor(cohort)

    result = run(cohort)

    assert result.matched_count == 1
    (left,) = {a.pk, b.pk} - {m for m, _ in pairs_of(result)}
    assert reasons_of(result)[left] == (
        "Their only possible partner was matched with someone else, where the cohort gained more."
    )
    assert only.pk in {r for _, r in pairs_of(result)}


def test_it_runs_once_however_often_the_task_is_delivered(
    cohort: Cohort, django_capture_on_commit_callbacks
) -> None:
    mentee(cohort), mentor(cohort)
    with django_capture_on_commit_callbacks(execute=True):
        started = services.matching_run_start(cohort=cohort)
    started.refresh_from_db()
    assert started.status == MatchingRun.Status.DONE
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.MATCHING  # intakes are locked from now on

    run_matching.delay(started.pk)  # redelivered: the run is no longer queued
    assert started.proposals.count() == 1


def test_it_creates_the_pairs_and_introductions_once_however_often_it_is_approved(
    cohort: Cohort, django_capture_on_commit_callbacks
) -> None:
    a, b = mentee(cohort), mentor(cohort)
    result = run(cohort)

    with django_capture_on_commit_callbacks(execute=True):
        (pair,) = services.matching_run_approve(run=result)
    with pytest.raises(services.MatchingError, match="already been approved"):
        services.matching_run_approve(run=result)

    assert (pair.mentee, pair.reverse_mentor, pair.status) == (a, b, Pair.Status.ACTIVE)
    assert Pair.objects.count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([a.person.email, b.person.email])
    assert Participant.objects.filter(status=Participant.Status.MATCHED).count() == 2
    pair.refresh_from_db()
    assert pair.introduced_at is not None
    rows = Notification.objects.filter(kind="match_introduction")
    assert sorted(rows.values_list("status", flat=True)) == ["sent", "sent"]
    for row in rows:
        send_notification.delay(row.pk)  # a second delivery sends nothing
    assert len(mail.outbox) == 2


def test_it_suggests_the_best_free_partner_for_a_re_match(cohort: Cohort) -> None:
    a, b = mentee(cohort), mentee(cohort)
    taken, free = mentor(cohort), mentor(cohort)
    Pair.objects.create(cohort=cohort, mentee=b, reverse_mentor=taken)

    suggestion = suggestions.best_partner_for(participant=a)

    assert suggestion.partner == free
    assert suggestion.score > 0


def test_it_lets_a_manager_choose_a_pair_without_shared_hours_when_the_run_allows_it(
    cohort: Cohort,
) -> None:
    mentee(cohort, hours=MONDAY_MORNING)
    b = mentor(cohort, hours=MONDAY_MORNING)
    c = mentor(cohort, hours=TUESDAY_MORNING)
    result = run(cohort, allow_without_shared_time=True)
    proposal = result.proposals.get()
    assert proposal.reverse_mentor == b

    services.proposal_change_partner(proposal=proposal, mentor=c)

    assert result.proposals.get().reverse_mentor == c


def test_it_refuses_changes_to_an_approved_run(cohort: Cohort) -> None:
    mentee(cohort), mentor(cohort)
    spare = mentor(cohort)
    result = run(cohort)
    proposal = result.proposals.get()
    services.matching_run_approve(run=result)

    with pytest.raises(services.MatchingError, match="not yet approved"):
        services.proposal_change_partner(proposal=proposal, mentor=spare)
    assert result.proposals.get().reverse_mentor != spare


def test_a_later_run_that_pairs_someone_anew_ends_the_old_pair_as_any_end_does(
    cohort: Cohort, django_capture_on_commit_callbacks
) -> None:
    a, b = mentee(cohort), mentor(cohort)
    (first,) = services.matching_run_approve(run=run(cohort))
    coming = meeting_for(first, starts_at=timezone.now() + timedelta(days=5))
    c = mentor(cohort)
    services.pair_rule_add(cohort=cohort, mentee=a, mentor=b, kind=PairRule.Kind.EXCLUDED)

    with django_capture_on_commit_callbacks(execute=True):
        (second,) = services.matching_run_approve(run=run(cohort))

    first.refresh_from_db()
    coming.refresh_from_db()
    assert (second.mentee, second.reverse_mentor, second.replaces) == (a, c, first)
    assert (first.status, first.end_reason) == (Pair.Status.ENDED, "Re-matched")
    assert coming.status == Meeting.Status.WITHDRAWN
    assert set(Notification.objects.filter(kind="pair_ended").values_list("person", flat=True)) == {
        a.person_id,
        b.person_id,
    }
    statuses = dict(Participant.objects.values_list("pk", "status"))
    assert (statuses[a.pk], statuses[b.pk], statuses[c.pk]) == (
        Participant.Status.MATCHED,
        Participant.Status.INTAKE_COMPLETE,  # free for the cohort's next run
        Participant.Status.MATCHED,
    )


# --- one run decides ------------------------------------------------------------------------


def test_only_the_newest_run_of_a_cohort_can_be_approved(cohort: Cohort) -> None:
    mentee(cohort), mentor(cohort)
    older, newer = run(cohort), run(cohort)

    with pytest.raises(services.MatchingError, match="A newer run of this cohort exists"):
        services.matching_run_approve(run=older)

    older.refresh_from_db()
    assert older.status == MatchingRun.Status.DONE
    assert older.superseded_by() == newer
    assert not Pair.objects.exists()
    (pair,) = services.matching_run_approve(run=newer)
    assert Pair.objects.get() == pair


def test_a_run_still_going_supersedes_the_older_one_and_a_failed_one_does_not(
    cohort: Cohort,
) -> None:
    mentee(cohort), mentor(cohort)
    older = run(cohort)
    going = services.matching_run_start(cohort=cohort)  # queued: no commit here

    with pytest.raises(services.MatchingError, match="A newer run"):
        services.matching_run_approve(run=older)

    MatchingRun.objects.filter(pk=going.pk).update(status=MatchingRun.Status.FAILED)
    assert older.superseded_by() is None
    services.matching_run_approve(run=older)
    older.refresh_from_db()
    assert older.status == MatchingRun.Status.APPROVED


def test_a_superseded_run_cannot_be_changed_either(cohort: Cohort) -> None:
    mentee(cohort), mentee(cohort)
    mentor(cohort), mentor(cohort)
    older = run(cohort)
    run(cohort)
    first, second = older.proposals.all()

    with pytest.raises(services.MatchingError, match="A newer run"):
        services.proposal_swap(first=first, second=second)
    with pytest.raises(services.MatchingError, match="A newer run"):
        services.proposal_change_partner(proposal=first, mentor=second.reverse_mentor)

    assert set(older.proposals.values_list("mentee", "reverse_mentor")) == {
        (first.mentee_id, first.reverse_mentor_id),
        (second.mentee_id, second.reverse_mentor_id),
    }


@pytest.mark.parametrize("pairs", [2, 20])
def test_approval_takes_a_fixed_number_of_queries_whatever_the_number_of_pairs(
    cohort: Cohort, pairs: int, django_assert_num_queries
) -> None:
    for _ in range(pairs):
        mentee(cohort), mentor(cohort)
    result = run(cohort)
    assert result.matched_count == pairs
    ContentType.objects.get_for_model(Pair)  # cached once per process
    ContentType.objects.get_for_model(MatchingRun)

    # savepoint; lock the cohort (with its programme); lock the run and read its status; the
    # newest run of the cohort; mark the run approved; its proposals with both people; lock the
    # participants (primary-key order); lock the mentees' current pairs (primary-key order);
    # insert the pairs; mark the participants matched; resolve "left without a partner" flags
    # about them; insert the introductions; the audit entry; release the savepoint.
    with django_assert_num_queries(14) as captured:
        created = services.matching_run_approve(run=result)

    assert len(created) == pairs
    sql = [query["sql"] for query in captured.captured_queries]
    locks = [q for q in sql if "FOR UPDATE" in q]
    if connection.vendor == "postgresql":
        assert len(locks) == 4  # cohort, run, participants, pairs
        assert all("ORDER BY" in q for q in locks[2:])
    assert Notification.objects.filter(kind="match_introduction").count() == 2 * pairs


def test_a_block_between_two_people_is_recorded_once(cohort: Cohort) -> None:
    a, b = mentee(cohort), mentor(cohort)
    PairRule.objects.create(kind=PairRule.Kind.BLOCKED, mentee=a.person, reverse_mentor=b.person)

    with pytest.raises(IntegrityError), transaction.atomic():
        PairRule.objects.create(
            kind=PairRule.Kind.BLOCKED, mentee=a.person, reverse_mentor=b.person
        )
    services.pair_rule_add(cohort=cohort, mentee=a, mentor=b, kind=PairRule.Kind.BLOCKED)
    services.pair_rule_add(cohort=cohort, mentee=a, mentor=b, kind=PairRule.Kind.EXCLUDED)
    services.pair_rule_add(cohort=cohort, mentee=a, mentor=b, kind=PairRule.Kind.EXCLUDED)

    assert sorted(PairRule.objects.values_list("kind", "cohort")) == [
        ("blocked", None),
        ("excluded", cohort.pk),
    ]

"""The re-match services (risks/remediation.py) and the candidates behind them
(matching/suggestions.py): the best three partners by score with the matching review's
reasons, fewer when fewer fit; the manager's pick is the one paired; the partner being left
goes back to the waiting list with a flag that offers them a re-match too; a stale, tampered
or repeated pick is refused with its reason and changes nothing."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from matching.late import participant_match_now
from matching.models import PairRule
from matching.suggestions import LOWER, PAIRED
from notifications.models import Notification
from pairs.models import Pair
from programmes.models import Participant, Role
from risks import remediation
from risks.models import PairAction, RiskFlag
from risks.receivers import PAIRED_AGAIN
from tests.factories import ParticipantFactory
from tests.risks.remediation_helpers import join, open_flag, rematchable_pair, spare

pytestmark = pytest.mark.django_db

MENTOR = Role.REVERSE_MENTOR
MENTEE = Role.MENTEE


def everything(pair: Pair) -> dict[str, int]:
    return {
        "pairs": Pair.objects.count(),
        "actions": PairAction.objects.count(),
        "rules": PairRule.objects.count(),
        "flags": RiskFlag.objects.count(),
        "mail": Notification.objects.count(),
    }


# --- The candidates -----------------------------------------------------------------------


def test_it_offers_the_best_three_by_score_with_reasons_without_changing_anything(programme):
    pair = rematchable_pair(programme=programme)
    one = spare(pair, "Ola One", [9])
    three = spare(pair, "Thea Three", [9, 10, 11])
    spare(pair, "Una Also-one", [11])
    two = spare(pair, "Tove Two", [9, 10])
    before = everything(pair)

    preview = remediation.pair_rematch_preview(pair=pair)

    assert [c.partner for c in preview.suggestions.candidates] == [three, two, one]
    scores = [c.score for c in preview.suggestions.candidates]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[1] > scores[2]
    assert "3 shared hours a week" in preview.suggestions.candidates[0].reasons
    assert "2 shared hours a week" in preview.suggestions.candidates[1].reasons
    # Equal scores: the earlier participant first, so Una is the one left out.
    assert (LOWER, 1) in preview.suggestions.ruled_out
    assert preview.suggestion.partner == three
    assert (preview.keeps, preview.leaves) == (pair.mentee, pair.reverse_mentor)
    assert preview.ends_pair
    assert preview.leaves_waiting
    assert everything(pair) == before
    pair.refresh_from_db()
    assert pair.status == Pair.Status.ACTIVE


def test_it_offers_fewer_when_fewer_fit_and_counts_why_the_others_are_not(programme):
    pair = rematchable_pair(programme=programme)
    fits = spare(pair, "Sofia Lind", [10])
    spare(pair, "Nina Night", [22])  # no shared hour
    busy = spare(pair, "Bo Busy", [9])
    Pair.objects.create(
        cohort=pair.cohort, mentee=spare(pair, "Tom Baker", [9], MENTEE), reverse_mentor=busy
    )
    ParticipantFactory(cohort=pair.cohort, role=MENTOR, person__full_name="No Intake")

    preview = remediation.pair_rematch_preview(pair=pair)

    assert [c.partner for c in preview.suggestions.candidates] == [fits]
    # The partner being left is not counted: the page says where they go.
    assert preview.suggestions.ruled_out == [
        ("no shared hour in the week", 1),
        (PAIRED, 1),
        ("intake not completed", 1),
    ]


def test_it_never_offers_the_partner_being_left(programme, manager):
    pair = rematchable_pair(programme=programme)
    Participant.objects.filter(pk=pair.reverse_mentor_id).update(capacity=2)  # a place to spare

    assert remediation.pair_rematch_preview(pair=pair).suggestions.candidates == []
    with pytest.raises(ValidationError, match="No partner is available for Margaret Hale"):
        remediation.pair_rematch(pair=pair, by=manager)

    sofia = join(pair, MENTOR, "Sofia Lind")
    assert remediation.pair_rematch(pair=pair, by=manager).reverse_mentor == sofia


def test_it_offers_the_reverse_mentor_new_executives_too(programme, manager):
    pair = rematchable_pair(programme=programme)
    tom = spare(pair, "Tom Baker", [9, 10, 11], MENTEE)
    ann = spare(pair, "Ann Lee", [9], MENTEE)

    preview = remediation.pair_rematch_preview(pair=pair, side=Role.REVERSE_MENTOR)
    new = remediation.pair_rematch(pair=pair, by=manager, side=Role.REVERSE_MENTOR, partner=ann.pk)

    assert [c.partner for c in preview.suggestions.candidates] == [tom, ann]
    assert (new.mentee, new.reverse_mentor) == (ann, pair.reverse_mentor)


# --- The manager's pick -------------------------------------------------------------------


def test_the_managers_pick_is_the_one_paired(
    programme, manager, django_capture_on_commit_callbacks
):
    pair = rematchable_pair(programme=programme)
    spare(pair, "Thea Three", [9, 10, 11])
    spare(pair, "Tove Two", [9, 10])
    one = spare(pair, "Ola One", [9])
    flag = open_flag(pair, RiskFlag.Rule.NOT_A_GOOD_FIT)
    other = open_flag(pair, RiskFlag.Rule.NO_PULSE)
    third = remediation.pair_rematch_preview(pair=pair).suggestions.candidates[2]
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        new = remediation.pair_rematch(
            pair=pair, by=manager, flag=flag, note="Asked for a new start.", partner=one.pk, now=now
        )

    pair.refresh_from_db()
    new.refresh_from_db()
    assert (pair.status, pair.end_reason) == (Pair.Status.ENDED, "Re-matched")
    assert (new.mentee, new.reverse_mentor, new.status) == (pair.mentee, one, Pair.Status.ACTIVE)
    assert (new.replaces, new.started_on, new.introduced_at) == (pair, timezone.localdate(now), now)
    assert new.score == round(third.score, 4)
    introduced = sorted(m.to[0] for m in mail.outbox if "Ola One" in m.body)
    assert introduced == sorted([pair.mentee.person.email, one.person.email])
    for resolved in (flag, other):
        resolved.refresh_from_db()
        assert (resolved.resolved_at, resolved.resolved_by) == (now, manager)
        assert resolved.resolution_note == "Asked for a new start."
    action = PairAction.objects.get(pair=pair)
    assert (action.kind, action.by, action.flag, action.new_pair, action.note) == (
        PairAction.Kind.REMATCH,
        manager,
        flag,
        new,
        "Asked for a new start.",
    )
    one.refresh_from_db()
    assert one.status == Participant.Status.MATCHED
    # The cohort's later matching runs keep the two apart too.
    assert PairRule.objects.filter(
        kind=PairRule.Kind.EXCLUDED,
        cohort=pair.cohort,
        mentee=pair.mentee.person,
        reverse_mentor=pair.reverse_mentor.person,
    ).exists()


# --- The partner being left ---------------------------------------------------------------


def test_the_partner_left_is_back_on_the_waiting_list_and_offered_a_rematch_too(programme, manager):
    pair = rematchable_pair(programme=programme)
    sofia = spare(pair, "Sofia Lind", [9, 10, 11])
    tom = spare(pair, "Tom Baker", [9, 10], MENTEE)
    ravi = pair.reverse_mentor
    now = timezone.now()

    remediation.pair_rematch(pair=pair, by=manager, partner=sofia.pk, now=now)

    ravi.refresh_from_db()
    assert ravi.status == Participant.Status.INTAKE_COMPLETE  # the next run takes them
    left = RiskFlag.objects.get(pair=pair, resolved_at__isnull=True)
    assert (left.rule, left.evidence) == (
        RiskFlag.Rule.NEEDS_PARTNER,
        {"date": timezone.localdate(now).isoformat(), "side": Role.REVERSE_MENTOR},
    )
    assert left.reason.startswith("The reverse-mentor was left without a partner by the re-match")
    assert "waiting list" in left.recommended_action

    preview = remediation.pair_rematch_preview(pair=pair, flag=left)
    assert (preview.keeps, preview.leaves, preview.ends_pair) == (ravi, pair.mentee, False)
    assert [c.partner for c in preview.suggestions.candidates] == [tom]

    new = remediation.pair_rematch(pair=pair, by=manager, flag=left, partner=tom.pk)

    assert (new.mentee, new.reverse_mentor, new.replaces) == (tom, ravi, None)
    left.refresh_from_db()
    assert (left.resolved_by, left.resolution_note) == (
        manager,
        "Re-matched: Ravi Patel is now paired with Tom Baker.",
    )
    assert PairAction.objects.filter(pair=pair, flag=left, new_pair=new).exists()
    with pytest.raises(ValidationError, match="This flag was resolved already"):
        remediation.pair_rematch(pair=pair, by=manager, flag=left, partner=tom.pk)


def test_no_waiting_list_flag_for_a_partner_with_another_pair_or_who_withdrew(programme, manager):
    pair = rematchable_pair(programme=programme)
    Participant.objects.filter(pk=pair.reverse_mentor_id).update(capacity=2)
    Pair.objects.create(
        cohort=pair.cohort,
        mentee=spare(pair, "Tom Baker", [9], MENTEE),
        reverse_mentor=pair.reverse_mentor,
        status=Pair.Status.ACTIVE,
    )
    sofia = spare(pair, "Sofia Lind", [9])

    assert not remediation.pair_rematch_preview(pair=pair).leaves_waiting
    remediation.pair_rematch(pair=pair, by=manager, partner=sofia.pk)

    assert not RiskFlag.objects.filter(rule=RiskFlag.Rule.NEEDS_PARTNER).exists()

    # The executive's side: Sofia's new partner withdraws, and is not put on the list.
    second = Pair.objects.get(reverse_mentor=sofia)
    Participant.objects.filter(pk=sofia.pk).update(status=Participant.Status.WITHDRAWN)
    spare(pair, "Ada Byron", [9, 10])
    remediation.pair_rematch(pair=second, by=manager)
    assert not RiskFlag.objects.filter(rule=RiskFlag.Rule.NEEDS_PARTNER).exists()


def test_a_left_partner_paired_again_meanwhile_is_not_rematched(programme, manager):
    pair = rematchable_pair(programme=programme)
    remediation.pair_rematch(pair=pair, by=manager, partner=spare(pair, "Sofia Lind", [9]).pk)
    left = RiskFlag.objects.get(rule=RiskFlag.Rule.NEEDS_PARTNER)
    Pair.objects.create(
        cohort=pair.cohort,
        mentee=spare(pair, "Tom Baker", [9], MENTEE),
        reverse_mentor=pair.reverse_mentor,
        status=Pair.Status.ACTIVE,
    )
    before = everything(pair)

    for attempt in (
        lambda: remediation.pair_rematch_preview(pair=pair, flag=left),
        lambda: remediation.pair_rematch(pair=pair, by=manager, flag=left),
    ):
        with pytest.raises(ValidationError, match="Ravi Patel has a partner again \\(Tom Baker\\)"):
            attempt()
    assert everything(pair) == before


def test_a_partner_left_who_is_matched_later_leaves_the_queue(programme, manager):
    pair = rematchable_pair(programme=programme)
    remediation.pair_rematch(pair=pair, by=manager, partner=spare(pair, "Sofia Lind", [9]).pk)
    left = RiskFlag.objects.get(rule=RiskFlag.Rule.NEEDS_PARTNER)
    # The executive who kept going was paired too, in the re-match: the flag is not theirs.
    assert left.resolved_at is None
    tom = spare(pair, "Tom Baker", [9, 10], MENTEE)
    now = timezone.now()

    participant_match_now(
        participant=pair.reverse_mentor, by=manager, expected_partner=tom, now=now
    )

    left.refresh_from_db()
    assert (left.resolved_at, left.resolved_by, left.resolution_note) == (now, None, PAIRED_AGAIN)


# --- Stale, tampered and repeated picks ---------------------------------------------------


def test_a_pick_paired_meanwhile_is_refused_and_nothing_changes(programme, manager):
    pair = rematchable_pair(programme=programme)
    flag = open_flag(pair)
    seen = spare(pair, "Sofia Lind", [9, 10, 11])
    spare(pair, "Ada Byron", [9])
    assert remediation.pair_rematch_preview(pair=pair).suggestion.partner == seen
    Pair.objects.create(
        cohort=pair.cohort, mentee=spare(pair, "Tom Baker", [9], MENTEE), reverse_mentor=seen
    )
    before = everything(pair)

    with pytest.raises(ValidationError, match="Sofia Lind has been paired meanwhile") as refused:
        remediation.pair_rematch(pair=pair, by=manager, flag=flag, partner=seen.pk)

    assert refused.value.code == "taken"
    assert everything(pair) == before
    pair.refresh_from_db()
    flag.refresh_from_db()
    assert (pair.status, pair.end_reason, flag.is_open) == (Pair.Status.ACTIVE, "", True)


@pytest.mark.parametrize(
    "who", ["the partner being left", "an executive", "another cohort", "nobody"]
)
def test_a_pick_never_offered_is_refused_and_nothing_changes(programme, manager, who):
    pair = rematchable_pair(programme=programme)
    spare(pair, "Sofia Lind", [9])
    elsewhere = join(rematchable_pair(programme=programme).cohort, MENTOR, "Ola Elsewhere")
    partner = {
        "the partner being left": pair.reverse_mentor_id,
        "an executive": spare(pair, "Tom Baker", [9], MENTEE).pk,
        "another cohort": elsewhere.pk,
        "nobody": 10**12,
    }[who]
    before = everything(pair)

    with pytest.raises(ValidationError, match="not among those offered") as refused:
        remediation.pair_rematch(pair=pair, by=manager, partner=partner)

    assert refused.value.code == "not_offered"
    assert everything(pair) == before


def test_a_free_pick_the_rules_do_not_offer_is_refused(programme, manager):
    pair = rematchable_pair(programme=programme)
    spare(pair, "Sofia Lind", [9])
    night = spare(pair, "Nina Night", [22])  # no shared hour: never a candidate

    with pytest.raises(ValidationError, match="Nina Night is not among the best partners"):
        remediation.pair_rematch(pair=pair, by=manager, partner=night.pk)

    pair.refresh_from_db()
    assert pair.status == Pair.Status.ACTIVE


def test_a_second_confirmation_says_the_pair_was_rematched_already(programme, manager):
    pair = rematchable_pair(programme=programme)
    flag = open_flag(pair)
    sofia = spare(pair, "Sofia Lind", [9])
    spare(pair, "Ada Byron", [9])
    remediation.pair_rematch(pair=pair, by=manager, flag=flag, partner=sofia.pk)
    before = everything(pair)

    with pytest.raises(ValidationError, match="re-matched already") as again:
        remediation.pair_rematch(pair=pair, by=manager, flag=flag, partner=sofia.pk)

    assert again.value.code == "rematched"
    assert "Margaret Hale & Sofia Lind are the new pair" in again.value.messages[0]
    assert everything(pair) == before


def test_it_changes_nothing_when_no_partner_is_available(programme, manager):
    pair = rematchable_pair(programme=programme)
    flag = open_flag(pair)
    busy = join(pair, MENTOR, "Sofia Lind")
    Pair.objects.create(
        cohort=pair.cohort, mentee=join(pair, MENTEE, "Tom Baker"), reverse_mentor=busy
    )

    with pytest.raises(ValidationError, match="No partner is available for Margaret Hale") as no:
        remediation.pair_rematch(pair=pair, by=manager, flag=flag, partner=busy.pk)

    assert no.value.code == "no_partner"
    pair.refresh_from_db()
    flag.refresh_from_db()
    assert (pair.status, pair.ended_on, pair.end_reason) == (Pair.Status.ACTIVE, None, "")
    assert flag.is_open
    assert Pair.objects.count() == 2
    assert not PairAction.objects.exists()
    assert not PairRule.objects.exists()
    assert not Notification.objects.exists()


def test_it_says_so_when_the_intake_the_matching_needs_is_missing(programme, manager):
    pair = rematchable_pair(programme=programme)
    pair.mentee.intake.delete()

    with pytest.raises(ValidationError, match="Margaret Hale has not completed the intake"):
        remediation.pair_rematch_preview(pair=pair)
    with pytest.raises(ValidationError, match="has not completed the intake"):
        remediation.pair_rematch(pair=pair, by=manager)

    pair.refresh_from_db()
    assert pair.status == Pair.Status.ACTIVE


def test_it_refuses_to_rematch_an_ended_pair_or_a_withdrawn_participant(programme, manager):
    pair = rematchable_pair(programme=programme)
    join(pair, MENTOR, "Sofia Lind")
    Participant.objects.filter(pk=pair.mentee_id).update(status=Participant.Status.WITHDRAWN)
    pair.mentee.refresh_from_db()

    with pytest.raises(ValidationError, match="has withdrawn"):
        remediation.pair_rematch_preview(pair=pair)
    remediation.pair_end(pair=pair, by=manager, note="The executive left the company.")
    with pytest.raises(ValidationError, match="This pair ended"):
        remediation.pair_rematch(pair=pair, by=manager)

    assert Pair.objects.count() == 1

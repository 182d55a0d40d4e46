"""The re-match page of the at-risk queue (risks/admin_rematch.py): the best three
candidates with their scores and reasons, what happens to the partner being left, the
manager's pick; a stale, tampered or repeated pick comes back into the page with its reason
and the note kept, and nothing saved; a fixed number of queries however big the cohort."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from matching.models import MatchingPolicy, PairRule
from notifications.models import Notification
from pairs.models import Pair
from programmes.models import Participant, Role
from risks.models import PairAction, RiskFlag
from tests.risks.remediation_helpers import (
    MONDAY_MORNING,
    assert_no_private_text,
    open_flag,
    private_history,
    spare,
)

MENTEE = Role.MENTEE

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.pair(intakes=True, intakes__availability=MONDAY_MORNING),
]

QUEUE = "/admin/risks/riskflag/"


def detail(flag: RiskFlag) -> str:
    return f"/admin/risks/riskflag/{flag.pk}/change/"


def rematch(flag: RiskFlag, side: str = "") -> str:
    return f"/admin/risks/riskflag/{flag.pk}/rematch/" + (f"?side={side}" if side else "")


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def saved() -> dict[str, int]:
    return {
        "pairs": Pair.objects.count(),
        "actions": PairAction.objects.count(),
        "rules": PairRule.objects.count(),
        "open flags": RiskFlag.objects.filter(resolved_at__isnull=True).count(),
        "mail": Notification.objects.count(),
    }


@pytest.fixture
def alice(client: Client, manager) -> Client:
    client.force_login(manager)
    return client


@pytest.fixture
def flag(pair) -> RiskFlag:
    return open_flag(pair, RiskFlag.Rule.NOT_A_GOOD_FIT)


@pytest.fixture
def three(pair) -> list[Participant]:
    """Four free reverse-mentors; the best three, best first."""
    best = [
        spare(pair, "Thea Three", [9, 10, 11]),
        spare(pair, "Tove Two", [9, 10]),
        spare(pair, "Ola One", [9]),
    ]
    spare(pair, "Una Also-one", [11])
    return best


# --- The preview --------------------------------------------------------------------------


def test_it_shows_the_best_three_best_first_with_scores_and_reasons(
    alice: Client, pair, flag, three
):
    private_history(pair)

    page = alice.get(rematch(flag)).content.decode()

    assert "Proposal: nothing has changed yet" in page
    where = [page.index(f'name="partner" value="{p.pk}"') for p in three]
    assert where == sorted(where)
    assert page.count('name="partner"') == 3
    assert "Una Also-one" not in page
    assert "3 shared hours a week" in page
    assert "The 3 best of those with a place free" in page
    assert "Not offered: a lower score than those shown (1)." in page
    assert "Re-match with the chosen reverse-mentor" in page
    assert f"Find a new executive for {pair.reverse_mentor.person.full_name}" in page
    # Never what a participant wrote: not even the intake's note for the programme team.
    assert_no_private_text(page)
    assert Pair.objects.count() == 1


def test_it_says_what_happens_to_the_partner_being_left(alice: Client, pair, flag, three):
    page = alice.get(rematch(flag)).content.decode()

    assert "The partner being left: Ravi Patel" in page
    assert "goes back to the waiting list" in page
    assert "offers them a re-match too" in page


def test_it_shows_fewer_when_fewer_fit(alice: Client, pair, flag):
    only = spare(pair, "Sofia Lind", [10])
    spare(pair, "Nina Night", [22])

    page = alice.get(rematch(flag)).content.decode()

    assert page.count('name="partner"') == 1
    assert f'name="partner" value="{only.pk}"' in page
    assert "Only one reverse-mentor with a place free fits the matching rules." in page
    assert "no shared hour in the week (1)" in page


def test_it_says_when_nobody_is_available_and_offers_no_confirmation(alice: Client, flag):
    page = alice.get(rematch(flag)).content.decode()

    assert "No partner available" in page
    assert 'name="partner"' not in page
    assert "Re-match with the chosen" not in page


def test_it_can_look_for_a_new_executive_instead(alice: Client, pair, flag):
    spare(pair, "Tom Baker", [9], MENTEE)

    page = alice.get(rematch(flag, Role.REVERSE_MENTOR)).content.decode()

    assert "Choose the new executive" in page
    assert "Tom Baker" in page
    assert f"Find a new reverse-mentor for {pair.mentee.person.full_name}" in page


@pytest.mark.parametrize("others", [1, 8])
def test_the_preview_costs_the_same_queries_however_big_the_cohort(
    alice: Client, pair, flag, others: int, django_assert_num_queries
):
    for n in range(others):
        spare(pair, f"Mentor {n}", [9, 10])
        spare(pair, f"Mentee {n}", [9], MENTEE)
    MatchingPolicy.objects.get_or_create(programme=pair.cohort.programme)

    # 1-2 the session and its user; 3 the flag with its pair, people, cohort and programme;
    # 4-5 the user's permissions, direct and through the managers group; 6 the intake of the
    # one keeping their place; then the matching code's cohort: 7 the participants with
    # their people and intakes, 8-10 the intakes' objectives, topics shared and topics off
    # limits, 11 the road map's topics, 12 the reporting lines, 13 the load in other
    # programmes, 14 the organisation's load cap, 15 the avoid answers, 16 the matching
    # rules, 17 the current pairs, 18 the latest run, 19 the matching policy, 20 the
    # reverse-mentors' load in the cohort; 21 whether the partner being left has another
    # current pair.
    with django_assert_num_queries(21):
        response = alice.get(rematch(flag))

    assert response.content.decode().count('name="partner"') == min(others, 3)


# --- The manager's pick -------------------------------------------------------------------


def test_the_managers_pick_is_the_one_paired(alice: Client, pair, flag, three, manager):
    response = alice.post(
        rematch(flag),
        {"side": Role.MENTEE, "partner": three[2].pk, "note": "Margaret asked for a change."},
    )

    assert response.status_code == 302
    assert response["Location"] == QUEUE
    [said] = flash(response)
    assert said.startswith("Re-matched: Margaret Hale & Ola One are a new pair")
    assert "back on the waiting list" in said
    new = Pair.objects.get(replaces=pair)
    assert (new.reverse_mentor, new.status) == (three[2], Pair.Status.ACTIVE)
    action = PairAction.objects.get(pair=pair, flag=flag)
    assert (action.kind, action.new_pair, action.by, action.note) == (
        PairAction.Kind.REMATCH,
        new,
        manager,
        "Margaret asked for a change.",
    )


def test_the_partner_left_shows_in_the_queue_and_gets_a_rematch_of_their_own(
    alice: Client, pair, flag, three
):
    tom = spare(pair, "Tom Baker", [9, 10, 11], MENTEE)
    alice.post(rematch(flag), {"side": Role.MENTEE, "partner": three[0].pk})
    left = RiskFlag.objects.get(rule=RiskFlag.Rule.NEEDS_PARTNER, resolved_at__isnull=True)

    queue = alice.get(QUEUE).content.decode()
    page = alice.get(detail(left)).content.decode()
    preview = alice.get(rematch(left)).content.decode()
    response = alice.post(rematch(left), {"side": Role.MENTEE, "partner": tom.pk})

    assert "was left without a partner by the re-match" in queue
    assert "New partner for Ravi Patel" in page
    assert "Left without a partner, gets a new one" in preview
    assert f'name="partner" value="{tom.pk}"' in preview
    assert "Find a new" not in preview  # the side is the flag's
    assert response.status_code == 302
    assert flash(response)[-1] == (
        "Re-matched: Tom Baker & Ravi Patel are a new pair, introduced by e-mail. The flag is "
        "resolved."
    )
    assert Pair.objects.get(mentee=tom).reverse_mentor == pair.reverse_mentor


# --- Bad input ----------------------------------------------------------------------------


def test_a_pick_paired_meanwhile_comes_back_with_the_new_candidates_and_the_note(
    alice: Client, pair, flag, three
):
    Pair.objects.create(
        cohort=pair.cohort, mentee=spare(pair, "Tom Baker", [9], MENTEE), reverse_mentor=three[0]
    )
    before = saved()

    response = alice.post(
        rematch(flag), {"side": Role.MENTEE, "partner": three[0].pk, "note": "Fresh start"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Thea Three has been paired meanwhile and has no place left" in page
    assert f'name="partner" value="{three[0].pk}"' not in page
    assert "Una Also-one" in page  # moved up into the three
    assert "Fresh start</textarea>" in page
    assert saved() == before
    pair.refresh_from_db()
    assert pair.status == Pair.Status.ACTIVE


@pytest.mark.parametrize(
    ("partner", "said"),
    [
        ("", "Choose one of the candidates, or cancel to change nothing."),
        ("abc", "That partner was not among those offered"),
        ("0", "That partner was not among those offered"),
        ("99999999999999999999999", "That partner was not among those offered"),
        ("being left", "That partner was not among those offered"),
        ("4th", "Una Also-one is not among the best partners"),
    ],
)
def test_a_tampered_pick_is_refused_in_the_page(
    alice: Client, pair, flag, three, partner: str, said: str
):
    partner = {
        "being left": str(pair.reverse_mentor_id),
        "4th": str(Participant.objects.get(person__full_name="Una Also-one").pk),
    }.get(partner, partner)
    before = saved()

    response = alice.post(rematch(flag), {"side": Role.MENTEE, "partner": partner, "note": "Kept"})

    assert response.status_code == 400
    page = response.content.decode()
    assert said in page
    assert "Kept</textarea>" in page
    assert page.count('name="partner"') == 3
    assert saved() == before


def test_a_double_submit_pairs_once_and_says_so(alice: Client, pair, flag, three):
    first = alice.post(rematch(flag), {"side": Role.MENTEE, "partner": three[0].pk})
    after = saved()
    second = alice.post(rematch(flag), {"side": Role.MENTEE, "partner": three[0].pk})

    assert first.status_code == 302
    assert second.status_code == 400
    assert "This pair was re-matched already" in second.content.decode()
    assert "Margaret Hale &amp; Thea Three are the new pair" in second.content.decode()
    assert saved() == after


def test_the_rematch_of_an_ended_pair_says_so(alice: Client, pair, flag):
    Pair.objects.filter(pk=pair.pk).update(status=Pair.Status.ENDED)

    page = alice.get(rematch(flag)).content.decode()
    posted = alice.post(rematch(flag), {"side": Role.MENTEE, "partner": pair.reverse_mentor_id})

    assert "This pair ended" in page
    assert posted.status_code == 400
    assert Pair.objects.count() == 1

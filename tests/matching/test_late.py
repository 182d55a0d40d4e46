"""A late intake can be matched: by a new run of the cohort, which includes everyone with a
finished intake and keeps the pairs already made, or on its own with "Match this participant
now" (matching/late.py), which proposes the best partner among those waiting and pairs them
once the manager confirms."""

from collections.abc import Callable

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from matching import services
from matching.models import MatchingRun
from pairs.models import Pair
from programmes.models import Cohort, Participant, Programme, Role
from programmes.services import cohort_intake_close, cohort_intake_reopen
from tests.factories import IntakeFactory, ParticipantFactory, PersonFactory
from tests.matching.test_admin_review import Wave, _participant, _wave

START = "/admin/matching/matchingrun/start/"
PARTICIPANTS = "/admin/programmes/participant/"


@pytest.fixture
def matched(
    programme: Programme, manager: User, django_capture_on_commit_callbacks: Callable
) -> Wave:
    """Ada & Xia and Ben & Yusuf are pairs; Zoe, a reverse-mentor, waits. Then intake
    reopens, and Cleo, a mentee who missed it, finishes hers."""
    wave = _wave(programme)
    with django_capture_on_commit_callbacks(execute=True):
        cohort_intake_close(cohort=wave.cohort, by=manager)
        run = services.matching_run_start(cohort=wave.cohort, user=manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.matching_run_approve(run=MatchingRun.objects.get(pk=run.pk), user=manager)
    cohort_intake_reopen(cohort=wave.cohort, by=manager, invite_again=False)
    wave.cohort.refresh_from_db()
    wave.cleo = _participant(wave.cohort, "Cleo Late", Role.MENTEE)
    mail.outbox.clear()
    return wave


def _pairs() -> set[tuple[str, str]]:
    return set(
        Pair.objects.filter(status=Pair.Status.ACTIVE).values_list(
            "mentee__person__full_name", "reverse_mentor__person__full_name"
        )
    )


def test_a_new_run_matches_the_late_intake_and_keeps_the_pairs_made(
    managed: Client, matched: Wave, django_capture_on_commit_callbacks: Callable
) -> None:
    before = _pairs()
    seen = managed.post(START, {"cohort": matched.cohort.pk}).context["seen"]
    with django_capture_on_commit_callbacks(execute=True):
        managed.post(
            START, {"cohort": matched.cohort.pk, "close_intake": "yes", "unfinished": seen}
        )
    run = MatchingRun.objects.latest("created_at")
    assert run.status == MatchingRun.Status.DONE

    with django_capture_on_commit_callbacks(execute=True):
        response = managed.post(f"/admin/matching/matchingrun/{run.pk}/approve/")

    assert response.status_code == 302
    assert _pairs() == before | {("Cleo Late", matched.zoe.person.full_name)}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [matched.cleo.person.email, matched.zoe.person.email]
    )


def test_the_participant_action_leads_to_a_preview_and_confirming_makes_the_pair(
    managed: Client, matched: Wave, django_capture_on_commit_callbacks: Callable
) -> None:
    before = _pairs()
    action = managed.post(
        PARTICIPANTS,
        {"action": "match_now", "index": "0", ACTION_CHECKBOX_NAME: [matched.cleo.pk]},
    )
    assert action.status_code == 302
    preview = managed.get(action.url)
    assert preview.status_code == 200
    html = preview.content.decode()
    assert f"Match with {matched.zoe.person.full_name}" in html
    assert "Proposal: nothing has changed yet" in html
    assert _pairs() == before

    with django_capture_on_commit_callbacks(execute=True):
        done = managed.post(action.url, {"partner": matched.zoe.pk})

    assert done.status_code == 302
    assert _pairs() == before | {("Cleo Late", matched.zoe.person.full_name)}
    pair = Pair.objects.get(mentee=matched.cleo)
    assert pair.introduced_at is not None
    assert pair.score is not None
    assert set(
        Participant.objects.filter(pk__in=[matched.cleo.pk, matched.zoe.pk]).values_list(
            "status", flat=True
        )
    ) == {Participant.Status.MATCHED}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [matched.cleo.person.email, matched.zoe.person.email]
    )


def test_a_late_reverse_mentor_is_offered_a_mentee_still_waiting(
    managed: Client, matched: Wave, django_capture_on_commit_callbacks: Callable
) -> None:
    late_mentor = _participant(matched.cohort, "Vera Late", Role.REVERSE_MENTOR)
    url = f"/admin/matching/matchingrun/match/{late_mentor.pk}/"

    assert managed.get(url).context["suggestion"].partner == matched.cleo
    with django_capture_on_commit_callbacks(execute=True):
        managed.post(url, {"partner": matched.cleo.pk})

    assert Pair.objects.get(mentee=matched.cleo).reverse_mentor == late_mentor


def test_a_proposal_that_changed_since_the_preview_is_refused_and_nothing_changes(
    managed: Client, matched: Wave
) -> None:
    before = _pairs()

    response = managed.post(
        f"/admin/matching/matchingrun/match/{matched.cleo.pk}/", {"partner": matched.xia.pk}
    )

    assert response.status_code == 400
    assert "The proposal has changed since you looked" in response.content.decode()
    assert _pairs() == before


@pytest.mark.parametrize("partner", ["", "garbage", "999999999", "-3"])
def test_a_bad_partner_is_refused_with_a_message(
    managed: Client, matched: Wave, partner: str
) -> None:
    response = managed.post(
        f"/admin/matching/matchingrun/match/{matched.cleo.pk}/", {"partner": partner}
    )

    assert response.status_code == 400
    assert 'class="errornote"' in response.content.decode()
    assert not Pair.objects.filter(mentee=matched.cleo).exists()


def test_it_says_why_someone_cannot_be_matched_now(managed: Client, matched: Wave) -> None:
    unfinished = ParticipantFactory(
        cohort=matched.cohort, person=PersonFactory(full_name="Una Unfinished")
    )
    withdrawn = ParticipantFactory(
        cohort=matched.cohort,
        status=Participant.Status.WITHDRAWN,
        person=PersonFactory(full_name="Wes Gone"),
    )
    IntakeFactory(participant=withdrawn)
    cases = {
        unfinished: "Una Unfinished has not finished their intake",
        matched.ada: "already has a partner",
        matched.xia: "has no place left",
        withdrawn: "Wes Gone has withdrawn",
    }
    for participant, words in cases.items():
        url = f"/admin/matching/matchingrun/match/{participant.pk}/"
        assert words in managed.get(url).content.decode()
        assert managed.post(url, {"partner": matched.zoe.pk}).status_code == 400
    assert not Pair.objects.filter(reverse_mentor=matched.zoe).exists()


def test_nobody_waiting_fits(managed: Client, matched: Wave) -> None:
    Participant.objects.filter(pk=matched.zoe.pk).update(status=Participant.Status.WITHDRAWN)

    html = managed.get(f"/admin/matching/matchingrun/match/{matched.cleo.pk}/").content.decode()

    assert "Nobody waiting fits" in html


def test_the_action_takes_one_participant(managed: Client, matched: Wave) -> None:
    response = managed.post(
        PARTICIPANTS,
        {
            "action": "match_now",
            "index": "0",
            ACTION_CHECKBOX_NAME: [matched.cleo.pk, matched.zoe.pk],
        },
        follow=True,
    )

    assert "Choose one participant" in response.content.decode()


def test_an_unknown_participant_is_not_found(managed: Client, matched: Wave) -> None:
    assert managed.get("/admin/matching/matchingrun/match/999999/").status_code == 404
    assert Cohort.objects.get(pk=matched.cohort.pk).status == Cohort.Status.INTAKE

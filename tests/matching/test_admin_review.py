"""Programme managers start, watch, adjust and approve a matching run in the admin."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from kombu.exceptions import OperationalError

from matching import services
from matching.engine import DEFAULT_WEIGHTS
from matching.models import MatchingRun, PairRule, ProposedPair
from matching.tasks import run_matching
from pairs.models import Pair
from programmes.models import Cohort, IntakeObjective, Participant, Person, Programme, Role
from tests.factories import (
    CohortFactory,
    IntakeFactory,
    ParticipantFactory,
    PersonFactory,
    TopicFactory,
    UserFactory,
)

RUNS = "/admin/matching/matchingrun/"
START = RUNS + "start/"
MON_TUE_9_TO_12 = [9, 10, 11, 33, 34, 35]
PRIVATE = [
    "I want to understand how new joiners experience our culture.",  # objectives_text
    "Use our collaboration tools the way my team does",  # goal_1
]
FOR_THE_MANAGER = "Please no questions about my family."  # boundaries_text


@dataclass
class Wave:
    cohort: Cohort
    ada: Participant  # mentee, wants "Digital habits"
    ben: Participant  # mentee, wants "Our culture"
    xia: Participant  # reverse-mentor, shares "Digital habits"
    yusuf: Participant  # reverse-mentor, shares "Our culture"
    zoe: Participant  # reverse-mentor, shares nothing: left waiting


def _participant(
    cohort: Cohort, name: str, role: str, *, wants=(), shares=(), manager: Person | None = None
) -> Participant:
    person = PersonFactory(
        full_name=name,
        job_title="Chief Operating Officer" if role == Role.MENTEE else "Analyst",
        department="Operations" if role == Role.MENTEE else "Technology",
        manager=manager,
    )
    participant = ParticipantFactory(cohort=cohort, person=person, role=role)
    intake = IntakeFactory(participant=participant, availability=MON_TUE_9_TO_12)
    for rank, topic in enumerate(wants, start=1):
        IntakeObjective.objects.create(intake=intake, topic=topic, rank=rank)
    intake.can_share.set(shares)
    return participant


def _wave(programme: Programme, *, yusuf_reports_to_ada: bool = False, name: str = "Wave 1"):
    cohort = CohortFactory(programme=programme, name=name, status=Cohort.Status.INTAKE)
    digital = TopicFactory(programme=programme, title=f"Digital habits ({name})")
    culture = TopicFactory(programme=programme, title=f"Our culture ({name})")
    mentee, mentor = Role.MENTEE, Role.REVERSE_MENTOR
    ada = _participant(cohort, f"Ada Lovelace {name}", mentee, wants=[digital])
    ben = _participant(cohort, f"Ben Okri {name}", mentee, wants=[culture])
    xia = _participant(cohort, f"Xia Chen {name}", mentor, shares=[digital])
    yusuf = _participant(
        cohort,
        f"Yusuf Idris {name}",
        mentor,
        shares=[culture],
        manager=ada.person if yusuf_reports_to_ada else None,
    )
    zoe = _participant(cohort, f"Zoe Park {name}", mentor)
    return Wave(cohort, ada, ben, xia, yusuf, zoe)


@pytest.fixture
def wave(programme: Programme) -> Wave:
    return _wave(programme)


@pytest.fixture
def finished_run(
    wave: Wave, manager: User, django_capture_on_commit_callbacks: Callable
) -> MatchingRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = services.matching_run_start(cohort=wave.cohort, user=manager)
    run.refresh_from_db()
    assert run.status == MatchingRun.Status.DONE
    return run


def _proposal(run: MatchingRun, mentee: Participant) -> ProposedPair:
    return run.proposals.select_related("reverse_mentor").get(mentee=mentee)


def _review(run: MatchingRun) -> str:
    return f"{RUNS}{run.pk}/review/"


def _text(response) -> str:
    return response.content.decode()


# --- start and watch ------------------------------------------------------------------------


def test_it_starts_a_run_and_shows_the_proposal_with_its_reasons(
    managed: Client, wave: Wave, django_capture_on_commit_callbacks: Callable
) -> None:
    form = managed.get(START)
    assert str(wave.cohort) in _text(form)

    with django_capture_on_commit_callbacks(execute=True):
        # Everyone has finished, and the manager confirms closing the intake
        # (tests/matching/test_start_confirm.py).
        response = managed.post(START, {"cohort": wave.cohort.pk, "close_intake": "yes"})

    run = MatchingRun.objects.get(cohort=wave.cohort)
    assert response.status_code == 302
    assert response.url == _review(run)
    html = _text(managed.get(response.url))
    assert run.status == MatchingRun.Status.DONE
    assert run.matched_count == 2
    assert _proposal(run, wave.ada).reverse_mentor == wave.xia
    assert _proposal(run, wave.ben).reverse_mentor == wave.yusuf
    assert "wants to learn about “Digital habits (Wave 1)”, which Xia can share" in html
    assert "6 shared hours a week" in html
    assert "Chief Operating Officer" in html
    assert wave.zoe.person.full_name in html  # on the waiting list
    assert f"{run.lowest_score:.2f}" in html
    assert "Approve" in html
    assert "<progress" not in html


def test_it_takes_the_worst_off_default_from_the_policy_and_lets_the_manager_change_it(
    managed: Client, wave: Wave, django_capture_on_commit_callbacks: Callable
) -> None:
    policy = services.policy_for(wave.cohort)
    policy.protect_worst_off = True
    policy.save()

    form = managed.get(START, {"cohort": wave.cohort.pk})
    with django_capture_on_commit_callbacks(execute=True):
        managed.post(START, {"cohort": wave.cohort.pk, "close_intake": "yes"})  # box unticked

    assert form.context["form"].initial["protect_worst_off"] is True
    assert MatchingRun.objects.get(cohort=wave.cohort).protect_worst_off is False


def test_it_refuses_a_finished_or_unknown_cohort_on_the_start_page(
    managed: Client, programme: Programme
) -> None:
    finished = CohortFactory(programme=programme, status=Cohort.Status.FINISHED)
    CohortFactory(programme=programme, status=Cohort.Status.INTAKE)

    for value in (finished.pk, "999999", "garbage", ""):
        response = managed.post(START, {"cohort": value})
        assert response.status_code == 200
        assert "Please correct the error" in _text(response)
    assert not MatchingRun.objects.exists()


def test_it_shows_a_progress_bar_while_the_run_is_going(
    managed: Client, wave: Wave, manager: User
) -> None:
    # No on-commit callbacks run here: the run stays queued.
    run = services.matching_run_start(cohort=wave.cohort, user=manager)
    MatchingRun.objects.filter(pk=run.pk).update(
        status=MatchingRun.Status.RUNNING, progress=30, stage="Scoring every possible pair"
    )

    html = _text(managed.get(_review(run)))
    progress = managed.get(f"{RUNS}{run.pk}/progress/")

    assert '<progress id="run-progress" max="100" value="30"' in html
    assert "Scoring every possible pair" in html
    assert '<meta http-equiv="refresh" content="3">' in html  # without JavaScript
    assert "Approve" not in html
    assert progress["Content-Type"] == "application/json"
    assert progress.json() == {
        "status": "running",
        "status_display": "Running",
        "progress": 30,
        "stage": "Scoring every possible pair",
        "situation": "Scoring every possible pair.",
        "stages": [
            {"label": "Loading intakes", "state": "done"},
            {"label": "Scoring every possible pair", "state": "current"},
            {"label": "Checking feasibility and finding the best matching", "state": "to do"},
            {"label": "Explaining each pair", "state": "to do"},
            {"label": "Saving the proposal", "state": "to do"},
        ],
        "message": "",
        "finished": False,
    }


def test_the_progress_endpoint_says_when_the_run_is_finished(
    managed: Client, finished_run: MatchingRun
) -> None:
    data = managed.get(f"{RUNS}{finished_run.pk}/progress/").json()

    assert data["status"] == "done"
    assert data["progress"] == 100
    assert data["finished"] is True


def test_the_run_change_page_leads_to_the_review(
    managed: Client, finished_run: MatchingRun
) -> None:
    response = managed.get(f"{RUNS}{finished_run.pk}/change/")

    assert response.status_code == 302
    assert response.url == _review(finished_run)


# --- adjust ---------------------------------------------------------------------------------


def test_it_swaps_two_partners_and_shows_the_new_scores(
    managed: Client, wave: Wave, finished_run: MatchingRun
) -> None:
    ada, ben = _proposal(finished_run, wave.ada), _proposal(finished_run, wave.ben)
    check = managed.post(
        f"{RUNS}{finished_run.pk}/swap/", {"proposal": ada.pk, "other": ben.pk, "action": "check"}
    )
    assert _proposal(finished_run, wave.ada).reverse_mentor == wave.xia  # nothing saved yet
    assert "Checked only: nothing has been saved." in _text(check)

    response = managed.post(
        f"{RUNS}{finished_run.pk}/swap/",
        {"proposal": ada.pk, "other": ben.pk, "action": "save"},
        follow=True,
    )

    ada, ben = _proposal(finished_run, wave.ada), _proposal(finished_run, wave.ben)
    finished_run.refresh_from_db()
    assert ada.reverse_mentor == wave.yusuf
    assert ben.reverse_mentor == wave.xia
    assert ada.changed_by_manager
    assert ben.changed_by_manager
    assert ada.score < 0.9  # no longer learns what she asked for
    assert finished_run.total_score == pytest.approx(ada.score + ben.score)
    html = _text(response)
    assert f"Swapped: {wave.ada.person} with {wave.yusuf.person} ({ada.score:.2f})" in html
    assert "Changed by a manager" in html


def test_it_refuses_a_swap_that_breaks_a_rule(
    managed: Client, programme: Programme, manager: User, django_capture_on_commit_callbacks
) -> None:
    wave = _wave(programme, yusuf_reports_to_ada=True)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.matching_run_start(cohort=wave.cohort, user=manager)
    ada, ben = _proposal(run, wave.ada), _proposal(run, wave.ben)
    before = list(run.proposals.values_list("mentee", "reverse_mentor", "score"))

    check = managed.post(
        f"{RUNS}{run.pk}/swap/", {"proposal": ada.pk, "other": ben.pk, "action": "check"}
    )
    response = managed.post(
        f"{RUNS}{run.pk}/swap/",
        {"proposal": ada.pk, "other": ben.pk, "action": "save"},
        follow=True,
    )

    assert "would break: in one reporting line" in _text(check)
    assert "This swap cannot be made." in _text(check)
    assert "This swap would break a rule" in _text(response)
    assert "in one reporting line" in _text(response)
    assert list(run.proposals.values_list("mentee", "reverse_mentor", "score")) == before


def test_it_checks_another_partner_without_saving_then_saves_it(
    managed: Client, wave: Wave, finished_run: MatchingRun
) -> None:
    ben = _proposal(finished_run, wave.ben)
    url = f"{RUNS}{finished_run.pk}/partner/"

    check = managed.post(url, {"proposal": ben.pk, "mentor": wave.zoe.pk, "action": "check"})
    assert _proposal(finished_run, wave.ben).reverse_mentor == wave.yusuf
    new_score = services.pair_check(run=finished_run, mentee=wave.ben, mentor=wave.zoe).score
    assert f"score {new_score:.2f}" in _text(check)
    assert "Checked only: nothing has been saved." in _text(check)

    response = managed.post(
        url, {"proposal": ben.pk, "mentor": wave.zoe.pk, "action": "save"}, follow=True
    )

    ben = _proposal(finished_run, wave.ben)
    assert ben.reverse_mentor == wave.zoe
    assert ben.score == pytest.approx(new_score, abs=1e-4)
    assert f"{wave.ben.person} is now proposed with {wave.zoe.person}" in _text(response)


def test_it_refuses_a_partner_in_the_mentees_reporting_line(
    managed: Client, programme: Programme, manager: User, django_capture_on_commit_callbacks
) -> None:
    wave = _wave(programme, yusuf_reports_to_ada=True)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.matching_run_start(cohort=wave.cohort, user=manager)
    ada = _proposal(run, wave.ada)
    url = f"{RUNS}{run.pk}/partner/"

    check = managed.post(url, {"proposal": ada.pk, "mentor": wave.yusuf.pk, "action": "check"})
    response = managed.post(
        url, {"proposal": ada.pk, "mentor": wave.yusuf.pk, "action": "save"}, follow=True
    )

    assert "Would break: in one reporting line" in _text(check)
    assert "cannot be paired: in one reporting line" in _text(response)
    ada.refresh_from_db()
    assert ada.reverse_mentor == wave.xia
    assert not ada.changed_by_manager


def test_it_refuses_a_reverse_mentor_with_no_place_left(
    managed: Client, wave: Wave, finished_run: MatchingRun
) -> None:
    ben = _proposal(finished_run, wave.ben)

    response = managed.post(
        f"{RUNS}{finished_run.pk}/partner/",
        {"proposal": ben.pk, "mentor": wave.xia.pk, "action": "save"},
        follow=True,
    )

    assert "has no place left in this proposal: swap instead" in _text(response)
    assert _proposal(finished_run, wave.ben).reverse_mentor == wave.yusuf


@pytest.mark.parametrize(
    ("kind", "said"), [(PairRule.Kind.LOCKED, "Locked"), (PairRule.Kind.EXCLUDED, "Excluded")]
)
def test_it_records_a_lock_or_an_exclusion_for_the_next_run(
    managed: Client, wave: Wave, finished_run: MatchingRun, manager: User, kind: str, said: str
) -> None:
    ada = _proposal(finished_run, wave.ada)

    response = managed.post(
        f"{RUNS}{finished_run.pk}/rule/", {"proposal": ada.pk, "kind": kind}, follow=True
    )

    rule = PairRule.objects.get()
    assert (rule.kind, rule.cohort, rule.mentee, rule.reverse_mentor, rule.created_by) == (
        kind,
        wave.cohort,
        wave.ada.person,
        wave.xia.person,
        manager,
    )
    assert f"{said}: {wave.ada.person} and {wave.xia.person}." in _text(response)
    assert "Recorded; it applies to the next run." in _text(response)
    assert ("Locked for the next run" if kind == "locked" else "Excluded from the next run") in (
        _text(response)
    )


def test_a_rerun_respects_an_exclusion(
    managed: Client, wave: Wave, finished_run: MatchingRun, django_capture_on_commit_callbacks
) -> None:
    ada = _proposal(finished_run, wave.ada)
    managed.post(f"{RUNS}{finished_run.pk}/rule/", {"proposal": ada.pk, "kind": "excluded"})

    with django_capture_on_commit_callbacks(execute=True):
        response = managed.post(f"{RUNS}{finished_run.pk}/rerun/")

    new = MatchingRun.objects.exclude(pk=finished_run.pk).get()
    assert response.url == _review(new)
    assert new.status == MatchingRun.Status.DONE
    assert _proposal(new, wave.ada).reverse_mentor != wave.xia
    old = _text(managed.get(_review(finished_run)))
    assert "Superseded: a newer run of this cohort decides now" in old
    assert f'href="{_review(new)}"' in old


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"proposal": "garbage", "other": "1", "action": "save"},
        {"proposal": "999999", "other": "999998", "action": "save"},
        {"proposal": "-1", "other": "1e3", "action": "nonsense"},
    ],
)
def test_it_answers_bad_input_with_a_message_not_an_error(
    managed: Client, wave: Wave, finished_run: MatchingRun, data: dict
) -> None:
    before = list(finished_run.proposals.values_list("mentee", "reverse_mentor"))

    for action in ("swap", "partner", "rule"):
        response = managed.post(f"{RUNS}{finished_run.pk}/{action}/", data, follow=True)
        assert response.status_code == 200
        assert 'class="error"' in _text(response)
    assert list(finished_run.proposals.values_list("mentee", "reverse_mentor")) == before
    assert not PairRule.objects.exists()


def test_it_refuses_a_proposal_of_another_run_and_a_reverse_mentor_of_another_cohort(
    managed: Client,
    programme: Programme,
    wave: Wave,
    finished_run: MatchingRun,
    manager: User,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    other = _wave(programme, name="Wave 2")
    with django_capture_on_commit_callbacks(execute=True):
        other_run = services.matching_run_start(cohort=other.cohort, user=manager)
    mine = _proposal(finished_run, wave.ada)
    theirs = _proposal(other_run, other.ada)

    swap = managed.post(
        f"{RUNS}{finished_run.pk}/swap/",
        {"proposal": mine.pk, "other": theirs.pk, "action": "save"},
        follow=True,
    )
    partner = managed.post(
        f"{RUNS}{finished_run.pk}/partner/",
        {"proposal": mine.pk, "mentor": other.zoe.pk, "action": "save"},
        follow=True,
    )
    lock = managed.post(
        f"{RUNS}{finished_run.pk}/rule/", {"proposal": theirs.pk, "kind": "locked"}, follow=True
    )

    assert "Swap with: Select a valid choice" in _text(swap)
    assert "New reverse-mentor: Select a valid choice" in _text(partner)
    assert "Proposal: Select a valid choice" in _text(lock)
    assert _proposal(finished_run, wave.ada).reverse_mentor == wave.xia
    assert not PairRule.objects.exists()


def test_it_answers_unknown_runs_and_wrong_methods_without_an_error(
    managed: Client, finished_run: MatchingRun
) -> None:
    assert managed.get(f"{RUNS}999999/review/").status_code == 404
    assert managed.get(f"{RUNS}999999/progress/").status_code == 404
    assert managed.post(f"{RUNS}999999/approve/").status_code == 404
    assert managed.get(f"{RUNS}{finished_run.pk}/approve/").status_code == 405
    assert managed.get(_review(finished_run), {"edit": "garbage"}).status_code == 200


def test_every_review_form_is_csrf_protected(manager: User, finished_run: MatchingRun) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    for action in ("approve", "rerun", "rule", "swap", "partner"):
        assert client.post(f"{RUNS}{finished_run.pk}/{action}/").status_code == 403
    assert client.post(START).status_code == 403
    finished_run.refresh_from_db()
    assert finished_run.status == MatchingRun.Status.DONE


# --- approve --------------------------------------------------------------------------------


def test_approving_creates_the_pairs_and_sends_the_introductions(
    managed: Client, wave: Wave, finished_run: MatchingRun, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = managed.post(f"{RUNS}{finished_run.pk}/approve/", follow=True)

    pairs = Pair.objects.filter(cohort=wave.cohort)
    assert {(p.mentee, p.reverse_mentor) for p in pairs} == {
        (wave.ada, wave.xia),
        (wave.ben, wave.yusuf),
    }
    assert len(mail.outbox) == 4  # both partners of each pair
    assert {m.to[0] for m in mail.outbox} == {
        p.person.email for p in (wave.ada, wave.ben, wave.xia, wave.yusuf)
    }
    html = _text(response)
    assert "2 pairs created; introductions are being sent." in html
    assert "This run is approved" in html
    assert 'value="Approve"' not in html
    assert "Change partner or swap" not in html  # read-only now


def test_approving_twice_creates_the_pairs_once(
    managed: Client, finished_run: MatchingRun, django_capture_on_commit_callbacks
) -> None:
    url = f"{RUNS}{finished_run.pk}/approve/"
    with django_capture_on_commit_callbacks(execute=True):
        managed.post(url)
        second = managed.post(url, follow=True)

    assert Pair.objects.count() == 2
    assert len(mail.outbox) == 4
    assert "This run has already been approved" in _text(second)


def test_an_approved_run_cannot_be_changed(
    managed: Client, wave: Wave, finished_run: MatchingRun, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        managed.post(f"{RUNS}{finished_run.pk}/approve/")
    ada, ben = _proposal(finished_run, wave.ada), _proposal(finished_run, wave.ben)

    swap = managed.post(
        f"{RUNS}{finished_run.pk}/swap/",
        {"proposal": ada.pk, "other": ben.pk, "action": "save"},
        follow=True,
    )
    lock = managed.post(
        f"{RUNS}{finished_run.pk}/rule/", {"proposal": ada.pk, "kind": "locked"}, follow=True
    )
    rerun = managed.post(f"{RUNS}{finished_run.pk}/rerun/", follow=True)

    assert "Only a finished run that is not yet approved can be changed." in _text(swap)
    assert "Only a finished run that is not yet approved can be changed." in _text(lock)
    assert "can be rerun" in _text(rerun)
    assert _proposal(finished_run, wave.ada).reverse_mentor == wave.xia
    assert not PairRule.objects.exists()
    assert MatchingRun.objects.count() == 1


def test_an_older_run_says_it_was_superseded_links_to_the_newest_and_cannot_be_approved(
    managed: Client, wave: Wave, finished_run: MatchingRun, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        managed.post(f"{RUNS}{finished_run.pk}/rerun/")
    newest = MatchingRun.objects.exclude(pk=finished_run.pk).get()
    ada = _proposal(finished_run, wave.ada)

    page = _text(managed.get(_review(finished_run)))
    approve = managed.post(f"{RUNS}{finished_run.pk}/approve/", follow=True)
    lock = managed.post(
        f"{RUNS}{finished_run.pk}/rule/", {"proposal": ada.pk, "kind": "locked"}, follow=True
    )
    rerun = managed.post(f"{RUNS}{finished_run.pk}/rerun/", follow=True)

    assert "Superseded: a newer run of this cohort decides now" in page
    assert f'<a href="{_review(newest)}">See the newest run' in page
    assert 'value="Approve"' not in page
    assert 'value="Rerun"' not in page
    assert "A newer run of this cohort exists: only the newest run" in _text(approve)
    assert "A newer run of this cohort exists: only the newest run" in _text(lock)
    assert rerun.redirect_chain[-1][0] == _review(newest)
    assert not Pair.objects.exists()
    assert not PairRule.objects.exists()
    assert MatchingRun.objects.count() == 2
    assert 'value="Approve"' in _text(managed.get(_review(newest)))


def test_a_rerun_with_the_broker_down_answers_at_once_and_the_page_says_the_run_waits(
    managed: Client, finished_run: MatchingRun, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(run_matching, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = managed.post(f"{RUNS}{finished_run.pk}/rerun/")

    new = MatchingRun.objects.exclude(pk=finished_run.pk).get()
    assert response.status_code == 302
    assert response.url == _review(new)
    assert new.status == MatchingRun.Status.QUEUED
    page = _text(managed.get(_review(new)))
    assert "Queued: waiting for a worker. The task queue could not be reached" in page
    assert (
        managed.get(f"{RUNS}{new.pk}/progress/")
        .json()["situation"]
        .startswith("Queued: waiting for a worker. The task queue could not be reached")
    )


def test_the_progress_page_says_a_run_was_restarted_after_a_worker_stopped(
    managed: Client, wave: Wave, manager: User
) -> None:
    run = services.matching_run_start(cohort=wave.cohort, user=manager)
    MatchingRun.objects.filter(pk=run.pk).update(
        status=MatchingRun.Status.RUNNING, attempts=2, stage="Explaining each pair", progress=80
    )

    page = _text(managed.get(_review(run)))
    data = managed.get(f"{RUNS}{run.pk}/progress/").json()

    said = "Explaining each pair (restarted after a worker stopped: attempt 2 of 3)."
    assert said in page
    assert data["situation"] == said
    assert [stage["state"] for stage in data["stages"]] == ["done"] * 3 + ["current", "to do"]
    assert page.count('data-state="done"') == 3


def test_a_failed_run_says_why_on_its_page(managed: Client, finished_run: MatchingRun) -> None:
    MatchingRun.objects.filter(pk=finished_run.pk).update(
        status=MatchingRun.Status.FAILED, message="A worker stopped in the middle of this run."
    )

    page = _text(managed.get(_review(finished_run)))

    assert "Failed: A worker stopped in the middle of this run." in page
    assert 'value="Rerun"' in page


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["sponsor", "outsider"])
def test_sponsors_and_outsiders_are_sent_to_the_login(
    client: Client, persona: str, finished_run: MatchingRun, request: pytest.FixtureRequest
) -> None:
    client.force_login(request.getfixturevalue(persona))

    for url in (
        RUNS,
        START,
        _review(finished_run),
        f"{RUNS}{finished_run.pk}/progress/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/")
    response = client.post(f"{RUNS}{finished_run.pk}/approve/")
    assert response.url.startswith("/admin/login/")
    assert not Pair.objects.exists()


def test_staff_without_the_matching_permissions_are_refused(
    client: Client, finished_run: MatchingRun
) -> None:
    client.force_login(UserFactory(username="dora", is_staff=True))

    assert client.get(START).status_code == 403
    assert client.get(_review(finished_run)).status_code == 403
    assert client.get(f"{RUNS}{finished_run.pk}/progress/").status_code == 403
    assert client.post(f"{RUNS}{finished_run.pk}/approve/").status_code == 403
    assert not Pair.objects.exists()


# --- confidentiality -----------------------------------------------------------------------


def test_the_review_shows_no_intake_text_but_the_note_for_the_programme_team(
    managed: Client, wave: Wave, finished_run: MatchingRun
) -> None:
    ada, ben = _proposal(finished_run, wave.ada), _proposal(finished_run, wave.ben)
    pages = [
        managed.get(_review(finished_run)),
        managed.get(_review(finished_run), {"edit": ada.pk}),
        managed.post(
            f"{RUNS}{finished_run.pk}/partner/",
            {"proposal": ben.pk, "mentor": wave.zoe.pk, "action": "check"},
        ),
        managed.post(
            f"{RUNS}{finished_run.pk}/swap/",
            {"proposal": ada.pk, "other": ben.pk, "action": "check"},
        ),
        managed.get(RUNS),
    ]

    for page in pages:
        assert page.status_code == 200
        for text in PRIVATE:
            assert text not in _text(page)
    assert "wants to learn about" in _text(pages[0])
    # The note for the programme team is the one exception, on the run's own review only.
    for page in pages[:4]:
        assert FOR_THE_MANAGER in _text(page)
    assert FOR_THE_MANAGER not in _text(pages[4])


# --- weights -------------------------------------------------------------------------------


def test_managers_see_and_edit_a_programmes_weights_with_the_defaults_named(
    managed: Client, programme: Programme
) -> None:
    form = managed.get("/admin/matching/matchingpolicy/add/")
    html = _text(form)

    for default in DEFAULT_WEIGHTS.values():
        assert f"Default {default:.2f}." in html
    response = managed.post(
        "/admin/matching/matchingpolicy/add/",
        {
            "programme": programme.pk,
            **{f"weight_{name}": value for name, value in DEFAULT_WEIGHTS.items()},
            "weight_objectives": "0.8",
            "protect_worst_off": "on",
        },
    )
    assert response.status_code == 302
    policy = programme.matching_policy
    assert policy.weight_objectives == 0.8
    assert policy.protect_worst_off is True


# --- query counts ---------------------------------------------------------------------------


def test_the_runs_list_takes_a_fixed_number_of_queries(
    managed: Client,
    programme: Programme,
    manager: User,
    django_assert_num_queries: Callable,
) -> None:
    for index in range(4):
        cohort = CohortFactory(programme=programme, name=f"Wave {index}")
        services.matching_run_start(cohort=cohort, user=manager)  # stays queued: no commit

    # session, user, the user's own permissions, their group's permissions, the programmes
    # for the filter, count of filtered runs, count of all runs, the page of runs with
    # cohort, programme and creator.
    with django_assert_num_queries(8):
        response = managed.get(RUNS)

    assert response.status_code == 200
    assert _text(response).count("<progress") == 4


@pytest.mark.parametrize("pairs", [2, 6])
def test_the_review_page_takes_a_fixed_number_of_queries(
    managed: Client,
    programme: Programme,
    manager: User,
    pairs: int,
    django_assert_num_queries: Callable,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    cohort = CohortFactory(programme=programme, name="Big wave", status=Cohort.Status.INTAKE)
    topic = TopicFactory(programme=programme)
    for index in range(pairs):
        _participant(cohort, f"Mentee {index}", Role.MENTEE, wants=[topic])
        _participant(cohort, f"Mentor {index}", Role.REVERSE_MENTOR, shares=[topic])
    with django_capture_on_commit_callbacks(execute=True):
        run = services.matching_run_start(cohort=cohort, user=manager)
    first = run.proposals.first()

    # session, user, the user's own permissions, their group's permissions, the run with
    # cohort, programme and users, its proposals with both people, its waiting list with
    # people, the cohort's locks and exclusions, the notes for the programme team (joined to
    # the programme's managers), a newer run of the cohort.
    with django_assert_num_queries(10):
        response = managed.get(_review(run))
    # The same and the cohort's reverse-mentors for the change-partner list.
    with django_assert_num_queries(11):
        managed.get(_review(run), {"edit": first.pk})

    assert _text(response).count('class="reasons"') == pairs

"""Before a matching run closes a cohort's intake, the start page shows who has not finished
(counts and names by role, never an answer) and nothing closes until the manager confirms
"Close intake and start matching"; the cohort list's "Close intake" and "Reopen intake"
actions ask the same way."""

from collections.abc import Callable

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from matching.models import MatchingRun
from notifications.models import Notification
from programmes.models import Cohort, Programme, Role
from programmes.services import participants_send_intake_invitations
from tests.factories import IntakeFactory, ParticipantFactory, PersonFactory, UserFactory
from tests.matching.test_admin_review import Wave, _wave

START = "/admin/matching/matchingrun/start/"
COHORTS = "/admin/programmes/cohort/"
DRAFT_WORDS = "My half-typed worry about the board"


@pytest.fixture
def wave(programme: Programme, django_capture_on_commit_callbacks: Callable) -> Wave:
    """The review's wave (five finished intakes) and three who have not finished, invited a
    minute ago: their invitations are still in the outbox."""
    wave = _wave(programme)
    cohort = wave.cohort
    late = [
        ParticipantFactory(
            cohort=cohort, role=role, person=PersonFactory(full_name=name, job_title="Analyst")
        )
        for name, role in (
            ("Quinn Late", Role.MENTEE),
            ("Rae Halfway", Role.REVERSE_MENTOR),
            ("Sol Silent", Role.REVERSE_MENTOR),
        )
    ]
    IntakeFactory(
        participant=late[1],
        submitted_at=None,
        draft={"goal_1": DRAFT_WORDS},
        draft_saved_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=False):
        participants_send_intake_invitations(participants=late)
    wave.late = late
    return wave


def _text(response) -> str:
    return response.content.decode()


def test_starting_shows_exactly_who_has_not_finished_and_closes_nothing(
    managed: Client, wave: Wave
) -> None:
    response = managed.post(START, {"cohort": wave.cohort.pk, "protect_worst_off": "on"})

    assert response.status_code == 200
    assert response.templates[0].name == "admin/matching/matchingrun/start_confirm.html"
    gaps = response.context["gaps"]
    assert [p.person.full_name for p in gaps.mentees] == ["Quinn Late"]
    assert [p.person.full_name for p in gaps.reverse_mentors] == ["Rae Halfway", "Sol Silent"]
    html = _text(response)
    assert "3 people have not finished their intake" in html
    assert "5 of 8 finished." in html
    assert "Mentees (executives): 1" in html
    assert "Reverse-mentors: 2" in html
    assert 'Rae Halfway <span class="quiet">(started, not submitted)' in html
    assert wave.ada.person.full_name not in html  # finished: not on the list
    assert DRAFT_WORDS not in html  # never an answer, not even a draft
    assert "Close intake and start matching" in html
    assert 'name="protect_worst_off" value="on"' in html  # the choice carries through
    assert not MatchingRun.objects.exists()
    assert Cohort.objects.get(pk=wave.cohort.pk).status == Cohort.Status.INTAKE
    assert Notification.objects.filter(status="pending").count() == 3


def test_confirming_closes_intake_withdraws_invitations_and_starts_the_run(
    managed: Client, wave: Wave, manager: User, django_capture_on_commit_callbacks: Callable
) -> None:
    seen = managed.post(START, {"cohort": wave.cohort.pk}).context["seen"]

    with django_capture_on_commit_callbacks(execute=True):
        response = managed.post(
            START,
            {"cohort": wave.cohort.pk, "close_intake": "yes", "unfinished": seen},
            follow=True,
        )

    run = MatchingRun.objects.get()
    assert run.status == MatchingRun.Status.DONE
    assert run.waiting.filter(participant__in=wave.late).count() == 3
    cohort = Cohort.objects.get(pk=wave.cohort.pk)
    assert (cohort.status, cohort.intake_closed_by) == (Cohort.Status.MATCHING, manager)
    assert set(Notification.objects.values_list("status", flat=True)) == {"cancelled"}
    assert "3 queued e-mails asking for an intake withdrawn" in _text(response)


def test_someone_joining_the_unfinished_since_the_page_asks_again(
    managed: Client, wave: Wave
) -> None:
    seen = managed.post(START, {"cohort": wave.cohort.pk}).context["seen"]
    ParticipantFactory(cohort=wave.cohort, person=PersonFactory(full_name="Tess Newcomer"))

    response = managed.post(
        START, {"cohort": wave.cohort.pk, "close_intake": "yes", "unfinished": seen}
    )

    assert response.status_code == 200
    assert "The list has changed since you looked: nothing was closed." in _text(response)
    assert "Tess Newcomer" in _text(response)
    assert not MatchingRun.objects.exists()
    assert Cohort.objects.get(pk=wave.cohort.pk).status == Cohort.Status.INTAKE


@pytest.mark.parametrize("seen", ["", "abc", "1,,x", "²", "9" * 40, "-1"])
def test_a_confirmation_without_the_list_seen_closes_nothing(
    managed: Client, wave: Wave, seen: str
) -> None:
    response = managed.post(
        START, {"cohort": wave.cohort.pk, "close_intake": "yes", "unfinished": seen}
    )

    assert response.status_code == 200
    assert not MatchingRun.objects.exists()
    assert Cohort.objects.get(pk=wave.cohort.pk).status == Cohort.Status.INTAKE


def test_a_cohort_whose_intake_is_closed_starts_at_once(
    managed: Client, wave: Wave, django_capture_on_commit_callbacks: Callable
) -> None:
    Cohort.objects.filter(pk=wave.cohort.pk).update(status=Cohort.Status.MATCHING)

    with django_capture_on_commit_callbacks(execute=True):
        response = managed.post(START, {"cohort": wave.cohort.pk})

    run = MatchingRun.objects.get()
    assert response.status_code == 302
    assert response.url == f"/admin/matching/matchingrun/{run.pk}/review/"


def test_staff_who_may_start_runs_but_not_change_cohorts_cannot_close_intake(
    client: Client, wave: Wave
) -> None:
    user = UserFactory(username="runner", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["add_matchingrun", "change_matchingrun"])
    )
    wave.cohort.programme.managers.add(user)
    client.force_login(user)

    page = client.post(START, {"cohort": wave.cohort.pk})
    forced = client.post(
        START, {"cohort": wave.cohort.pk, "close_intake": "yes", "unfinished": page.context["seen"]}
    )

    assert "needs the permission to change cohorts" in _text(page)
    assert forced.status_code == 403
    assert Cohort.objects.get(pk=wave.cohort.pk).status == Cohort.Status.INTAKE


def test_a_rerun_after_intake_reopened_goes_through_the_confirmation(
    managed: Client, wave: Wave, manager: User, django_capture_on_commit_callbacks: Callable
) -> None:
    seen = managed.post(START, {"cohort": wave.cohort.pk}).context["seen"]
    with django_capture_on_commit_callbacks(execute=True):
        managed.post(START, {"cohort": wave.cohort.pk, "close_intake": "yes", "unfinished": seen})
    run = MatchingRun.objects.get()
    Cohort.objects.filter(pk=wave.cohort.pk).update(status=Cohort.Status.INTAKE)

    response = managed.post(f"/admin/matching/matchingrun/{run.pk}/rerun/")

    assert response.status_code == 302
    assert response.url == f"{START}?cohort={wave.cohort.pk}"
    assert MatchingRun.objects.count() == 1


# --- The cohort list's actions ------------------------------------------------------------------


def _action(client: Client, action: str, cohort: Cohort, **data: str):
    return client.post(COHORTS, {"action": action, ACTION_CHECKBOX_NAME: [cohort.pk], **data})


def test_the_close_intake_action_confirms_first_then_closes(
    managed: Client, wave: Wave, manager: User
) -> None:
    page = _action(managed, "close_intake", wave.cohort, index="0")
    assert page.status_code == 200
    assert [p.person.full_name for p in page.context["gaps"].people] == [
        "Quinn Late",
        "Rae Halfway",
        "Sol Silent",
    ]
    assert Cohort.objects.get(pk=wave.cohort.pk).status == Cohort.Status.INTAKE

    done = _action(
        managed, "close_intake", wave.cohort, confirm="yes", unfinished=page.context["seen"]
    )

    assert done.status_code == 302
    assert Cohort.objects.get(pk=wave.cohort.pk).status == Cohort.Status.MATCHING
    assert set(Notification.objects.values_list("status", flat=True)) == {"cancelled"}


def test_the_reopen_intake_action_confirms_first_then_reopens_with_fresh_invitations(
    managed: Client, wave: Wave, manager: User, django_capture_on_commit_callbacks: Callable
) -> None:
    seen = _action(managed, "close_intake", wave.cohort, index="0").context["seen"]
    _action(managed, "close_intake", wave.cohort, confirm="yes", unfinished=seen)

    page = _action(managed, "reopen_intake", wave.cohort, index="0")
    assert page.status_code == 200
    assert "Send a fresh invitation to the 3 invited before" in _text(page)
    assert Cohort.objects.get(pk=wave.cohort.pk).status == Cohort.Status.MATCHING

    with django_capture_on_commit_callbacks(execute=True):
        done = _action(managed, "reopen_intake", wave.cohort, confirm="yes", invite_again="on")

    assert done.status_code == 302
    assert Cohort.objects.get(pk=wave.cohort.pk).status == Cohort.Status.INTAKE
    assert Notification.objects.filter(status="sent", key__endswith=":r1").count() == 3


def test_the_intake_actions_take_one_cohort_at_a_time(
    managed: Client, wave: Wave, programme: Programme
) -> None:
    other = _wave(programme, name="Wave 2").cohort

    response = managed.post(
        COHORTS,
        {"action": "close_intake", "index": "0", ACTION_CHECKBOX_NAME: [wave.cohort.pk, other.pk]},
        follow=True,
    )

    assert "Choose one cohort at a time" in _text(response)
    assert set(Cohort.objects.values_list("status", flat=True)) == {Cohort.Status.INTAKE}

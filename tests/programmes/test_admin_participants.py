"""Managers follow intake progress in the admin without reading a word anyone wrote."""

import pytest
from django.test import Client

from programmes.models import Cohort, Role
from tests.factories import CohortFactory, IntakeFactory, ParticipantFactory, PersonFactory

PRIVATE = [
    "I want to understand how new joiners experience our culture.",  # objectives_text
    "Please no questions about my family.",  # boundaries_text
    "Use our collaboration tools the way my team does",  # goal_1
]


@pytest.fixture
def cohort(programme) -> Cohort:
    return CohortFactory(programme=programme, name="Wave 3", status=Cohort.Status.INTAKE)


def _fill(cohort: Cohort, n: int) -> None:
    for i in range(n):
        participant = ParticipantFactory(
            cohort=cohort,
            role=Role.MENTEE if i % 2 else Role.REVERSE_MENTOR,
        )
        if i % 3 == 0:
            IntakeFactory(participant=participant)


def test_it_shows_intake_status_and_never_the_intake_text(
    client: Client, manager, cohort: Cohort
) -> None:
    done = IntakeFactory(participant__cohort=cohort).participant
    waiting = ParticipantFactory(cohort=cohort)
    client.force_login(manager)

    changelist = client.get("/admin/programmes/participant/").content.decode()
    change = client.get(f"/admin/programmes/participant/{done.pk}/change/").content.decode()
    cohorts = client.get("/admin/programmes/cohort/").content.decode()

    assert done.person.full_name in changelist
    assert waiting.person.full_name in changelist
    assert "Complete" in changelist
    assert "Not started" in changelist
    assert "1 of 2" in cohorts  # intakes complete in the cohort list
    for page in (changelist, change, cohorts):
        for text in PRIVATE:
            assert text not in page


def test_it_filters_participants_by_intake_state(client: Client, manager, cohort: Cohort) -> None:
    done = IntakeFactory(participant__cohort=cohort).participant
    waiting = ParticipantFactory(cohort=cohort)
    client.force_login(manager)

    html = client.get("/admin/programmes/participant/?intake=not_started").content.decode()

    assert waiting.person.full_name in html
    assert done.person.full_name not in html


@pytest.mark.parametrize("rows", [3, 30])
def test_it_lists_participants_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    _fill(cohort, rows)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 programme filter
    # choices, 6 cohort filter choices (with programmes), 7 the filtered count (not of all
    # participants: show_full_result_count), 8 the page of participants with person, cohort,
    # programme and intake state joined
    with django_assert_num_queries(8):
        response = client.get("/admin/programmes/participant/")
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_it_lists_people_in_a_fixed_number_of_queries(
    client: Client, manager, cohort: Cohort, rows: int, django_assert_num_queries
) -> None:
    boss = PersonFactory(department="Operations")
    for i in range(rows):
        PersonFactory(manager=boss, department=f"Department {i % 4}")
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 the count of the people
    # (no count of the whole directory beside it: show_full_result_count), 6 the page of
    # people with their managers, 7 the departments to filter by
    with django_assert_num_queries(7):
        response = client.get("/admin/programmes/person/")
    assert response.status_code == 200
    assert response.content.decode().count(boss.full_name) >= rows


@pytest.mark.parametrize("cohorts", [1, 12])
def test_it_lists_cohorts_with_their_counts_in_a_fixed_number_of_queries(
    client: Client, manager, programme, cohorts: int, django_assert_num_queries
) -> None:
    for i in range(cohorts):
        _fill(CohortFactory(programme=programme, name=f"Wave {i}"), 4)
    client.force_login(manager)
    # 1 session, 2 user, 3-4 the user's own and group permissions, 5 programme filter
    # choices, 6 the filtered count (no count of all cohorts: show_full_result_count), 7 the
    # page of cohorts with their programme and participant counts
    with django_assert_num_queries(7):
        response = client.get("/admin/programmes/cohort/")
    assert response.status_code == 200


def test_it_keeps_sponsors_out_of_the_admin(client: Client, sponsor, cohort: Cohort) -> None:
    client.force_login(sponsor)
    response = client.get("/admin/programmes/participant/")
    assert response.status_code == 302


def test_it_links_each_cohort_to_its_participants(client: Client, manager, cohort: Cohort) -> None:
    ours = ParticipantFactory(cohort=cohort)
    theirs = ParticipantFactory(cohort=CohortFactory(programme=cohort.programme))
    client.force_login(manager)

    cohorts = client.get("/admin/programmes/cohort/").content.decode()
    link = f"/admin/programmes/participant/?cohort__id__exact={cohort.pk}"
    assert f'href="{link}"' in cohorts
    html = client.get(link).content.decode()

    assert ours.person.full_name in html
    assert theirs.person.full_name not in html

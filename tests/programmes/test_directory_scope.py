"""The directory of people is shared by every programme, their participations are not: a
manager deletes a person only if they take part in none of the programmes the manager does
not manage, and the page that would list those participations is refused, naming none."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from programmes.models import Person, Programme
from programmes.roles import MANAGERS_GROUP
from tests.factories import (
    CohortFactory,
    ParticipantFactory,
    PersonFactory,
    ProgrammeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _delete(person: Person) -> str:
    return reverse("admin:programmes_person_delete", args=[person.pk])


@pytest.fixture
def omar(db: None) -> User:
    """B's manager."""
    other = ProgrammeFactory(name="Programme B", slug="programme-b")
    user = UserFactory(username="omar", is_staff=True)
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    other.managers.add(user)
    return user


def test_a_person_taking_part_in_another_programme_cannot_be_deleted_by_its_outsider(
    programme: Programme, omar: User
) -> None:
    in_a = ParticipantFactory(cohort=CohortFactory(programme=programme)).person
    client = Client()
    client.force_login(omar)

    page = client.get(_delete(in_a))
    assert page.status_code == 403
    assert programme.name not in page.content.decode()
    assert client.post(_delete(in_a), {"post": "yes"}).status_code == 403
    assert Person.objects.filter(pk=in_a.pk).exists()
    # The directory itself stays shared: the person's own page is there, read and changed.
    assert client.get(reverse("admin:programmes_person_change", args=[in_a.pk])).status_code == 200


def test_a_manager_deletes_a_person_of_their_own_programme_or_of_none(
    programme: Programme, omar: User
) -> None:
    b = Programme.objects.get(slug="programme-b")
    in_b = ParticipantFactory(cohort=CohortFactory(programme=b)).person
    nowhere = PersonFactory()
    client = Client()
    client.force_login(omar)

    assert client.get(_delete(nowhere)).status_code == 200
    assert client.post(_delete(nowhere), {"post": "yes"}).status_code == 302
    assert not Person.objects.filter(pk=nowhere.pk).exists()
    # B's own participant: the page shows what stops it (a participation in B), as for anyone.
    assert client.get(_delete(in_b)).status_code == 200


def test_an_organisation_administrator_sees_every_delete_page(programme: Programme) -> None:
    in_a = ParticipantFactory(cohort=CohortFactory(programme=programme)).person
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    assert client.get(_delete(in_a)).status_code == 200

"""Personas shared by the whole suite: who is asking decides what they may see."""

import pytest
from django.contrib.auth.models import Group, User

from programmes.models import Programme
from programmes.roles import MANAGERS_GROUP
from tests.factories import ProgrammeFactory, UserFactory


@pytest.fixture
def programme(db: None) -> Programme:
    return ProgrammeFactory(name="Inclusive Leadership", slug="inclusive-leadership")


@pytest.fixture
def manager(programme: Programme) -> User:
    """Alice runs the programme through the admin."""
    user = UserFactory(username="alice", first_name="Alice", is_staff=True)
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    programme.managers.add(user)
    return user


@pytest.fixture
def sponsor(programme: Programme) -> User:
    """Bob backs the programme and reads its monthly status."""
    user = UserFactory(username="bob", first_name="Bob")
    programme.sponsors.add(user)
    return user


@pytest.fixture
def outsider(db: None) -> User:
    """Charlie has an account but no part in any programme."""
    return UserFactory(username="charlie", first_name="Charlie")

"""Personas shared by the whole suite: who is asking decides what they may see."""

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, User

from notifications.sending import PUBLISH_BREAKER
from programmes.models import Programme
from programmes.roles import MANAGERS_GROUP
from tests.factories import ProgrammeFactory, UserFactory


@pytest.fixture(autouse=True)
def _publish_breaker_closed() -> Iterator[None]:
    """The outbox's publish breaker is process-wide: a test whose broker failed must not
    leave the next test's publishes skipped."""
    PUBLISH_BREAKER.reset()
    yield
    PUBLISH_BREAKER.reset()


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

"""Personas shared by the whole suite (who is asking decides what they may see), and the pair
most tests are about."""

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache

from notifications.sending import PUBLISH_BREAKER
from pairs.models import Pair
from programmes.models import OrganisationSettings, Programme
from programmes.roles import MANAGERS_GROUP
from tests.factories import PairFactory, ProgrammeFactory, UserFactory


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pair(**fields): what the `pair` fixture passes to PairFactory for these tests"
    )


@pytest.fixture(autouse=True)
def _publish_breaker_closed() -> Iterator[None]:
    """The outbox's publish breaker is process-wide: a test whose broker failed must not
    leave the next test's publishes skipped."""
    PUBLISH_BREAKER.reset()
    yield
    PUBLISH_BREAKER.reset()


@pytest.fixture(autouse=True)
def _cache_empty() -> Iterator[None]:
    """The cache is process-wide and outlives a test's database: keys read from the database
    (the sponsor page's) could match rows a rolled-back test had with the same ids."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def organisation(db: None) -> OrganisationSettings:
    """The organisation's settings (load cap, minimum group): change a field and save()."""
    return OrganisationSettings.load()


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


@pytest.fixture
def pair(request: pytest.FixtureRequest, programme: Programme) -> Pair:
    """An active pair in the programme whose kickoff agreement both accepted: Margaret Hale,
    the executive, and Ravi Patel, the reverse-mentor, both in London (PairFactory). A module
    or a test asks for another with ``pytest.mark.pair(**fields)``, e.g. other zones, or
    ``intakes=True`` for one the matching can re-match."""
    marker = request.node.get_closest_marker("pair")
    fields = marker.kwargs if marker else {}
    return PairFactory(cohort__programme=programme, agreement=True, **fields)

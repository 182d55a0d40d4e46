"""Every admin list and every autocomplete pages an ordered queryset: an unordered one
(Django's UnorderedObjectListWarning) can show a row twice, or never, across pages. Opened as
an organisation administrator on the demo organisation, with the warning turned into an
error, over every registered admin, so a new one is covered."""

import pytest
from django.contrib.admin.sites import site
from django.test import Client
from django.urls import reverse

from programmes.models import Programme
from tests.security.world import World, build_world

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("error::django.core.paginator.UnorderedObjectListWarning"),
]


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def client(world: World) -> Client:
    client = Client()
    client.force_login(world.users["superuser"])
    return client


def _changelists() -> list[str]:
    return [
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        for model in site._registry
    ]


def _autocompletes() -> list[tuple[str, str, str]]:
    """(app, model, field) of every autocomplete field of every admin."""
    return [
        (model._meta.app_label, model._meta.model_name, field)
        for model, model_admin in site._registry.items()
        for field in model_admin.get_autocomplete_fields(None)
    ]


@pytest.mark.parametrize("name", _changelists())
def test_every_admin_list_is_ordered(client: Client, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response.context["cl"].queryset.ordered


@pytest.mark.parametrize(("app", "model", "field"), _autocompletes())
def test_every_autocomplete_is_ordered(client: Client, app: str, model: str, field: str) -> None:
    query = {"app_label": app, "model_name": model, "field_name": field, "term": ""}
    response = client.get(reverse("admin:autocomplete"), query)
    assert response.status_code == 200


def test_it_covers_the_programmes_autocomplete() -> None:
    """The one that warned: programmes, annotated with their cohorts' count, lose their
    model's ordering (Django drops Meta.ordering from a GROUP BY query)."""
    targets = set()
    for app, model, field in _autocompletes():
        source = next(m for m in site._registry if m._meta.label_lower == f"{app}.{model}")
        targets.add(source._meta.get_field(field).related_model)
    assert Programme in targets

"""Every programme starts with role cards, a first-meeting guide and agendas, seeded by a
migration and edited by managers in the admin."""

from importlib import import_module

from django.db import connection
from django.db.migrations.loader import MigrationLoader

from demo.organisation import ROAD_MAP
from pairs.models import Guide
from programmes.models import Role

defaults = import_module("programmes.migrations.0005_default_guides")


def models_as_the_migration_saw_them():
    """The app registry at the migration (Guide was a programmes model then)."""
    return MigrationLoader(connection).project_state(("programmes", "0005_default_guides")).apps


def test_it_seeds_default_guides_for_every_programme(db: None) -> None:
    guides = Guide.objects.filter(programme=None)

    role_cards = guides.filter(kind=Guide.Kind.ROLE_CARD)
    assert set(role_cards.values_list("role", flat=True)) == {Role.MENTEE, Role.REVERSE_MENTOR}
    first = guides.get(kind=Guide.Kind.FIRST_MEETING)
    assert "kickoff agreement" in first.body
    agendas = guides.filter(kind=Guide.Kind.AGENDA)
    assert agendas.filter(topic_title="").count() == 1  # the generic one
    titles = set(agendas.values_list("topic_title", flat=True)) - {""}
    assert titles <= {title for title, _ in ROAD_MAP}
    assert len(titles) == 6
    for guide in guides:
        assert "\n- " in guide.body  # bullets, as the pair page renders them


def test_it_removes_only_the_defaults_when_reversed(db: None, programme) -> None:
    own = Guide.objects.create(
        programme=programme, kind=Guide.Kind.AGENDA, title="Our own agenda", body="- Talk."
    )

    apps = models_as_the_migration_saw_them()
    defaults.remove_defaults(apps, None)

    assert list(Guide.objects.all()) == [own]
    defaults.add_defaults(apps, None)
    assert Guide.objects.filter(programme=None).count() == len(defaults.DEFAULTS)

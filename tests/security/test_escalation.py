"""Escalation through the admin's forms (issue #18): a programme manager posts to every form
field that grants a role or access, for themselves and for a stranger, and nothing changes;
an organisation administrator's same post takes effect.

The fields are read from the models: every editable foreign key or many-to-many to a user,
a group or a permission, every ``is_*`` flag of a user, and the organisation's settings. Each
is either attacked below (``ATTEMPTS``) or named in ``GRANTS_NOTHING`` with the reason, so a
new role-granting field fails ``test_every_field_that_can_grant_access_is_attacked`` until it
is covered.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group, Permission, User
from django.db import models
from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse

from programmes.models import OrganisationSettings, Programme
from programmes.roles import MANAGERS_GROUP
from programmes.scoping import ORG_ADMINS_GROUP
from tests.factories import UserFactory
from tests.security.world import World, build_world

pytestmark = pytest.mark.django_db

ROLE_MODELS = (User, Group, Permission)

# Fields that point at a user but grant nothing: they say who did something, or whom an
# e-mail went to.
GRANTS_NOTHING = {
    "admin.logentry.user": "who made an admin change (the admin's own history, not editable)",
    "notifications.notification.user": "whom an e-mail goes to (the outbox is read-only)",
    "matching.pairrule.created_by": "who added the rule",
    "matching.matchingrun.created_by": "who started the run",
    "matching.matchingrun.approved_by": "who approved the run",
    "risks.riskflag.resolved_by": "who resolved the flag",
    "risks.pairaction.by": "who acted on the pair",
    "reporting.successstory.written_by": "who wrote the story",
    "reporting.sponsorask.written_by": "who wrote the ask",
    "audit.auditentry.actor": "who acted (the trail is read-only, append-only)",
    "auditlog.logentry.actor": "django-auditlog's own entries: nothing writes them, no admin",
}


def _role_fields() -> set[str]:
    found = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, models.Field) or not field.editable or field.primary_key:
                continue
            points_at_a_role = field.is_relation and field.related_model in ROLE_MODELS
            a_user_flag = model is User and field.name.startswith("is_")
            if points_at_a_role or a_user_flag or model is OrganisationSettings:
                found.add(f"{model._meta.label_lower}.{field.name}")
    return found


@dataclass(frozen=True)
class Attempt:
    """A post that would grant: on ``target``'s change page, ``field`` set to ``value``."""

    target: Callable[[World, User], models.Model]
    value: Callable[[World, User], Any]
    prepare: Callable[[World, User], None] | None = None  # makes the grant a change

    def granted(self, world: World, manager: User, field: str) -> bool:
        obj = self.target(world, manager)
        obj.refresh_from_db()
        wanted = self.value(world, manager)
        current = getattr(obj, field)
        if isinstance(wanted, list):  # many-to-many: the ids asked for are all there
            return {int(pk) for pk in wanted} <= set(current.values_list("pk", flat=True))
        if isinstance(wanted, bool) or wanted == "on":
            return current is True
        return str(current) == str(wanted)


def _stranger(world: World, manager: User) -> User:
    user, _ = User.objects.get_or_create(username="stranger")
    return user


def _deactivate_stranger(world: World, manager: User) -> None:
    User.objects.filter(pk=_stranger(world, manager).pk).update(is_active=False)


def _themselves(world: World, manager: User) -> User:
    return manager


def _ids(*getters: Callable[[World, User], models.Model]):
    def value(world: World, manager: User) -> list[str]:
        return [str(get(world, manager).pk) for get in getters]

    return value


def _org_admins(world: World, manager: User) -> Group:
    return Group.objects.get(name=ORG_ADMINS_GROUP)


def _add_programme(world: World, manager: User) -> Permission:
    return Permission.objects.get(codename="add_programme")


def _change_user(world: World, manager: User) -> Permission:
    return Permission.objects.get(codename="change_user")


def _managers_group(world: World, manager: User) -> Group:
    return Group.objects.get(name=MANAGERS_GROUP)


def _own_programme(world: World, manager: User) -> Programme:
    return world.other_programme  # the one the attacking manager runs


def _another_programme(world: World, manager: User) -> Programme:
    return world.programme


def _settings_row(world: World, manager: User) -> OrganisationSettings:
    return OrganisationSettings.load()


def _on(world: World, manager: User) -> str:
    return "on"


# Each role-granting field, each way it could be used: for oneself and for a stranger.
ATTEMPTS: dict[str, dict[str, Attempt]] = {
    "auth.user.is_superuser": {
        "themselves": Attempt(_themselves, _on),
        "a stranger": Attempt(_stranger, _on),
    },
    "auth.user.is_staff": {"a stranger": Attempt(_stranger, _on)},
    "auth.user.is_active": {"a stranger": Attempt(_stranger, _on, _deactivate_stranger)},
    "auth.user.groups": {
        "themselves": Attempt(_themselves, _ids(_managers_group, _org_admins)),
        "a stranger": Attempt(_stranger, _ids(_managers_group)),
    },
    "auth.user.user_permissions": {
        "themselves": Attempt(_themselves, _ids(_add_programme, _change_user)),
        "a stranger": Attempt(_stranger, _ids(_change_user)),
    },
    "auth.group.permissions": {
        "their own group": Attempt(_managers_group, _ids(_add_programme, _change_user)),
    },
    "programmes.programme.managers": {
        "themselves": Attempt(_another_programme, _ids(_themselves)),
        "a stranger": Attempt(_own_programme, _ids(_themselves, _stranger)),
    },
    "programmes.programme.sponsors": {
        "themselves": Attempt(_another_programme, _ids(_themselves)),
        "a stranger": Attempt(_own_programme, _ids(_stranger)),
    },
    # Lowering the smallest group lets a sponsor's figure narrow down to people one knows;
    # raising the cap puts more on the same few reverse-mentors.
    "programmes.organisationsettings.min_group_size": {
        "everyone": Attempt(_settings_row, lambda world, manager: 2),
    },
    "programmes.organisationsettings.max_mentoring_load": {
        "everyone": Attempt(_settings_row, lambda world, manager: 10),
    },
}
CASES = [(field, whom) for field, ways in ATTEMPTS.items() for whom in ways]


def test_every_field_that_can_grant_access_is_attacked() -> None:
    found = _role_fields()
    assert found - ATTEMPTS.keys() - GRANTS_NOTHING.keys() == set(), (
        "a field that can grant a role or access: add it to ATTEMPTS (or GRANTS_NOTHING)"
    )
    assert (ATTEMPTS.keys() | GRANTS_NOTHING.keys()) - found == set(), "no longer a field"


def _snapshot() -> dict[str, Any]:
    """Every role-granting field's value on every row, as the database holds it."""
    state: dict[str, Any] = {}
    for label in ATTEMPTS:
        app_model, name = label.rsplit(".", 1)
        model = apps.get_model(app_model)
        field = model._meta.get_field(name)
        rows = model._default_manager.order_by("pk")
        if field.many_to_many:
            state[label] = sorted(rows.filter(**{f"{name}__isnull": False}).values_list("pk", name))
        else:
            state[label] = list(rows.values_list("pk", name))
    return state


def _change_url(obj: models.Model) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def _form_data(response) -> dict[str, Any]:
    """What the change page's form (and its inlines) would post as shown."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict[str, Any] = {}
    for form in forms:
        for name, field in form.fields.items():
            bound = form[name]
            value = bound.value()
            if field.disabled or value is None or value is False:
                continue
            if isinstance(field.widget, MultiWidget):  # date and time, posted apart
                parts = field.widget.decompress(value)
                for i, part in enumerate(parts):
                    data[f"{bound.html_name}_{i}"] = "" if part is None else str(part)
                continue
            if value is True:
                value = "on"
            elif isinstance(value, list | tuple):
                value = [str(v) for v in value]
            data[bound.html_name] = value
    return data


def _post(world: World, attacker: User, label: str, attempt: Attempt, *, manager: User):
    """``attacker`` posts the change page's form as an organisation administrator sees it,
    with the field set to the granting value (added to what a many-to-many holds)."""
    name = label.rsplit(".", 1)[1]
    target = attempt.target(world, manager)
    url = _change_url(target)
    viewer = Client()
    viewer.force_login(_superuser())
    data = _form_data(viewer.get(url))
    value = attempt.value(world, manager)
    if isinstance(value, list):
        value = sorted(set(data.get(name, [])) | set(value))
    data[name] = value
    client = Client()
    client.force_login(attacker)
    return client.post(url, data)


def _superuser() -> User:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def _org_admin_for(label: str) -> User:
    """An organisation administrator: a member of their group for the programmes' and the
    settings' fields. User accounts and groups are a superuser's (the group holds no
    auth permission but viewing users)."""
    if label.startswith("auth."):
        return _superuser()
    user = UserFactory(username="olga", is_staff=True)
    user.groups.add(Group.objects.get(name=ORG_ADMINS_GROUP))
    return user


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.mark.parametrize(("label", "whom"), CASES)
def test_a_manager_cannot_grant_it_and_an_organisation_administrator_can(
    world: World, label: str, whom: str
) -> None:
    manager = world.users["other_manager"]
    attempt = ATTEMPTS[label][whom]
    name = label.rsplit(".", 1)[1]
    if attempt.prepare:
        attempt.prepare(world, manager)
    assert not attempt.granted(world, manager, name), "the world grants it already"
    before = _snapshot()

    response = _post(world, manager, label, attempt, manager=manager)

    # Refused (403, or 404 for another programme's page) or saved with the field ignored.
    assert response.status_code in (302, 403, 404), response.status_code
    if response.status_code == 302:
        fields = _form_fields(manager, _change_url(attempt.target(world, manager)))
        assert name not in fields, "saved: the field must be one the manager cannot change"
    assert _snapshot() == before
    assert not attempt.granted(world, manager, name)

    response = _post(world, _org_admin_for(label), label, attempt, manager=manager)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert attempt.granted(world, manager, name)


def _form_fields(user: User, url: str) -> set[str]:
    client = Client()
    client.force_login(user)
    return set(client.get(url).context["adminform"].form.fields)


def test_a_manager_reads_user_accounts_but_changes_none(world: World) -> None:
    """Managers hold auth.view_user only: the user admin shows them accounts read-only."""
    client = Client()
    manager = world.users["other_manager"]
    client.force_login(manager)
    page = client.get(_change_url(manager))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert page.context["adminform"].form.fields.keys() <= set(
        page.context["adminform"].readonly_fields
    ) | {"password"}


def _add_urls() -> list[str]:
    """The add page of every admin model holding a role-granting field."""
    labels = {label.rsplit(".", 1)[0] for label in ATTEMPTS}
    return [
        f"admin:{model._meta.app_label}_{model._meta.model_name}_add"
        for model in site._registry
        if model._meta.label_lower in labels
    ]


@pytest.mark.parametrize("name", _add_urls())
def test_a_manager_cannot_add_a_record_that_grants(world: World, name: str) -> None:
    manager = world.users["other_manager"]
    client = Client()
    client.force_login(manager)
    before = _snapshot()
    data = {
        "username": "newroot",
        "password1": "an unguessable pass 42",
        "password2": "an unguessable pass 42",
        "is_superuser": "on",
        "is_staff": "on",
        "name": "Escalators",
        "permissions": [str(Permission.objects.get(codename="change_user").pk)],
        "managers": [str(manager.pk)],
        "slug": "new-programme",
        "purpose": "Taken",
        "max_mentoring_load": "10",
        "min_group_size": "2",
    }

    response = client.post(reverse(name), data)

    assert response.status_code == 403
    assert _snapshot() == before
    assert not User.objects.filter(username="newroot").exists()

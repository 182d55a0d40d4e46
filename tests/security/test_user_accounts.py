"""Organisation administrators manage user accounts (issue #18): they give someone admin
access and a role group, or take them away, each an entry of the organisation's audit trail;
they never make a superuser, give a permission of its own, nor touch a superuser's account or
password. Managers only read accounts."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from programmes.roles import MANAGERS_GROUP
from programmes.scoping import ORG_ADMINS_GROUP
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def olga(db: None) -> User:
    user = UserFactory(username="olga", is_staff=True)
    user.groups.add(Group.objects.get(name=ORG_ADMINS_GROUP))
    return user


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _change(user: User) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def _form(user: User, **changes) -> dict:
    """What the account's change page posts as it shows ``user``, with ``changes``."""
    joined = timezone.localtime(user.date_joined)
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": joined.date().isoformat(),
        "date_joined_1": joined.time().isoformat(timespec="seconds"),
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "groups": [str(pk) for pk in user.groups.values_list("pk", flat=True)],
    }
    data |= changes
    return {key: value for key, value in data.items() if value not in ("", [])}


def test_an_administrator_makes_someone_a_manager_and_the_trail_says_so(olga: User) -> None:
    client = _client(olga)
    newcomer = UserFactory(username="nia")
    managers = Group.objects.get(name=MANAGERS_GROUP)
    data = _form(newcomer, is_staff="on", groups=[str(managers.pk)])

    response = client.post(_change(newcomer), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    newcomer.refresh_from_db()
    assert newcomer.is_staff
    assert newcomer.groups.filter(pk=managers.pk).exists()
    entries = AuditEntry.objects.filter(object_id=newcomer.pk).order_by("pk")
    assert [(e.event, e.changes, e.actor, e.programme_id) for e in entries] == [
        (AuditEntry.Event.ROLE_GRANTED, {"role": ["", "admin access"]}, olga, None),
        (AuditEntry.Event.ROLE_GRANTED, {"role": ["", MANAGERS_GROUP]}, olga, None),
    ]

    # And takes it away: deactivated and out of the group, two entries more.
    newcomer.refresh_from_db()
    data = _form(newcomer, is_active="", groups=[])
    assert client.post(_change(newcomer), data).status_code == 302
    assert [(e.event, e.changes) for e in entries.all()[2:]] == [
        (AuditEntry.Event.ROLE_REVOKED, {"role": ["active account", ""]}),
        (AuditEntry.Event.ROLE_REVOKED, {"role": [MANAGERS_GROUP, ""]}),
    ]


def test_an_administrator_cannot_make_a_superuser_nor_give_a_permission(olga: User) -> None:
    client = _client(olga)
    newcomer = UserFactory(username="nia")
    page = client.get(_change(newcomer))
    assert page.status_code == 200
    assert "is_superuser" not in page.context["adminform"].form.fields
    assert "user_permissions" not in page.context["adminform"].form.fields
    everything = Permission.objects.values_list("pk", flat=True)
    grab = {"is_superuser": "on", "user_permissions": [str(pk) for pk in everything]}
    assert client.post(_change(newcomer), _form(newcomer, **grab)).status_code == 302
    newcomer.refresh_from_db()
    assert not newcomer.is_superuser
    assert not newcomer.user_permissions.exists()
    # Nor make themselves one.
    assert client.post(_change(olga), _form(olga, **grab)).status_code == 302
    olga.refresh_from_db()
    assert not olga.is_superuser


def test_an_administrator_cannot_change_a_superuser_s_account_nor_password(olga: User) -> None:
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = _client(olga)
    password = reverse("admin:auth_user_password_change", args=[root.pk])
    assert (
        client.post(
            password, {"password1": "x-Long-enough-1", "password2": "x-Long-enough-1"}
        ).status_code
        == 403
    )
    page = client.get(_change(root))
    assert page.status_code == 200  # read only
    assert not page.context["has_change_permission"]
    assert client.post(_change(root), _form(root, username="taken")).status_code == 403
    delete = reverse("admin:auth_user_delete", args=[root.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    root.refresh_from_db()
    assert (root.username, root.is_superuser) == ("root", True)
    assert not root.check_password("x-Long-enough-1")


def test_a_superuser_still_does_all_of_it() -> None:
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    newcomer = UserFactory(username="nia")
    client = _client(root)
    data = _form(newcomer, is_staff="on", is_superuser="on")
    assert client.post(_change(newcomer), data).status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.is_superuser
    assert AuditEntry.objects.filter(
        object_id=newcomer.pk, changes={"role": ["", "superuser"]}
    ).exists()


def test_a_manager_only_reads_accounts(manager: User) -> None:
    client = _client(manager)
    someone = UserFactory(username="nia")
    assert client.get(_change(someone)).status_code == 200
    assert client.post(_change(someone), _form(someone, is_staff="on")).status_code == 403
    assert client.get(reverse("admin:auth_user_add")).status_code == 403
    someone.refresh_from_db()
    assert not someone.is_staff

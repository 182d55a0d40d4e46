from django.contrib.auth.models import Group
from django.test import Client

from programmes.roles import MANAGERS_GROUP


def test_it_lets_managers_run_programmes_but_not_user_accounts(manager) -> None:
    perms = manager.get_all_permissions()

    assert {"programmes.change_programme", "programmes.add_person"} <= perms
    assert "auth.view_user" in perms
    assert "auth.add_user" not in perms
    assert "auth.change_user" not in perms


def test_it_keeps_the_managers_group_complete_after_migrations(db: None) -> None:
    group = Group.objects.get(name=MANAGERS_GROUP)
    labels = set(group.permissions.values_list("content_type__app_label", flat=True))
    assert {"programmes", "auth"} <= labels


def test_it_opens_the_admin_to_managers_and_not_to_sponsors(
    client: Client, manager, sponsor
) -> None:
    client.force_login(manager)
    assert client.get("/admin/programmes/programme/").status_code == 200

    client.force_login(sponsor)
    response = client.get("/admin/programmes/programme/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")

"""The roles people hold, in Django's auth terms.

- Organisation administrators are superusers, or staff users in the "Organisation
  administrators" group: everything the managers' group may do, in every programme, and they
  alone add and delete programmes, grant the manager and sponsor roles
  (programmes/scoping.py), change the organisation's settings (load cap, minimum group) and
  manage user accounts, short of what only a superuser does (programmes/admin_users.py).
- Programme managers are staff users in the "Programme managers" group, which can do
  everything in the programme apps' admin, for the programmes they manage, but cannot manage
  user accounts, nor add or delete a programme.
- Sponsors are ordinary (non-staff) users named as sponsors of a programme.
- Mentees and reverse-mentors have no account at all: signed links identify them.
"""

from typing import Any

from django.contrib.auth.models import Group, Permission

from programmes.scoping import ORG_ADMINS_GROUP

MANAGERS_GROUP = "Programme managers"
MANAGED_APPS = ("programmes", "pairs", "matching", "surveys", "risks", "reporting")
NOTIFICATION_PERMISSIONS = (
    "view_messagetemplate",
    "add_messagetemplate",
    "change_messagetemplate",
    "delete_messagetemplate",
    "view_notification",
)
ACCOUNTS = ("add_user", "change_user", "delete_user", "view_user")
# Creating and removing a programme, and the organisation's settings, are the organisation
# administrators' alone. The settings' one row is never added nor deleted by anyone
# (programmes/admin_organisation.py), so no group holds those two.
ORG_ADMIN_ONLY = (
    "add_programme",
    "delete_programme",
    "view_organisationsettings",
    "change_organisationsettings",
)
NOBODY = ("add_organisationsettings", "delete_organisationsettings")


def sync_manager_group() -> Group:
    group, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
    permissions = Permission.objects.filter(content_type__app_label__in=MANAGED_APPS)
    extra = (
        Permission.objects.filter(content_type__app_label="auth", codename="view_user")
        | Permission.objects.filter(content_type__app_label="health", codename="view_heartbeat")
        # The audit trail of their programmes (programmes/admin_audit.py), read-only.
        | Permission.objects.filter(content_type__app_label="audit", codename="view_auditentry")
        # Managers word the messages (a deleted wording falls back to the default); the
        # outbox is read-only for them.
        | Permission.objects.filter(
            content_type__app_label="notifications", codename__in=NOTIFICATION_PERMISSIONS
        )
    )
    group.permissions.set(
        (permissions | extra).exclude(
            content_type__app_label="programmes", codename__in=ORG_ADMIN_ONLY + NOBODY
        )
    )
    return group


def sync_org_admin_group() -> Group:
    group, _ = Group.objects.get_or_create(name=ORG_ADMINS_GROUP)
    managers = Group.objects.get(name=MANAGERS_GROUP).permissions.all()
    org_only = Permission.objects.filter(
        content_type__app_label="programmes", codename__in=ORG_ADMIN_ONLY
    )
    # User accounts, within what only a superuser may do (programmes/admin_users.py).
    accounts = Permission.objects.filter(content_type__app_label="auth", codename__in=ACCOUNTS)
    group.permissions.set(managers | org_only | accounts)
    return group


def sync_roles_after_migrate(**kwargs: Any) -> None:
    # post_migrate fires once per app, and each app's permissions exist only after its own
    # signal; resyncing on every one is cheap and leaves the group complete at the end.
    sync_manager_group()
    sync_org_admin_group()

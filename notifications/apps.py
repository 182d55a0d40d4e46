from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import router
from django.db.models.signals import post_migrate


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Every kind has a default wording managers can edit, including kinds added since the
        # last deploy (see notifications/defaults.py).
        post_migrate.connect(seed_after_migrate, sender=self, dispatch_uid="notifications.seed")


def seed_after_migrate(
    *, using: str, apps: Any = global_apps, verbosity: int = 1, **kwargs: Any
) -> None:
    """``apps`` is the migrations' state after migrate; flush sends none (the models are
    current then)."""
    from notifications.defaults import message_templates_seed

    try:
        model = apps.get_model("notifications", "MessageTemplate")
    except LookupError:  # migrated back before the table exists
        return
    if not router.allow_migrate_model(using, model):
        return
    added = message_templates_seed(model=model, using=using)
    if added and verbosity >= 2:
        print(f"Seeded the default wording of {len(added)} messages: {', '.join(added)}")

from django.apps import AppConfig
from django.db.models.signals import post_migrate

from notifications.kinds import register
from programmes import kinds


class ProgrammesConfig(AppConfig):
    name = "programmes"
    verbose_name = "Programmes"

    def ready(self) -> None:
        register(*kinds.KINDS)
        from programmes import admin_outbox  # noqa: F401  (the outbox's admin, scoped)
        from programmes.roles import sync_roles_after_migrate

        # Keeps the programme managers' group in step with the models every migration adds.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="programmes.sync_roles")

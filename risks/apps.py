from django.apps import AppConfig

from notifications.kinds import register
from risks import kinds


class RisksConfig(AppConfig):
    name = "risks"
    verbose_name = "Risks"

    def ready(self) -> None:
        register(*kinds.KINDS)

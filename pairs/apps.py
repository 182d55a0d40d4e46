from django.apps import AppConfig

from notifications.kinds import register
from pairs import kinds


class PairsConfig(AppConfig):
    name = "pairs"
    verbose_name = "Pairs"

    def ready(self) -> None:
        register(*kinds.KINDS)

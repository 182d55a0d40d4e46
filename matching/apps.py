from django.apps import AppConfig

from matching import kinds
from notifications.kinds import register


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = "Matching"

    def ready(self) -> None:
        register(*kinds.KINDS)
        from matching.suggestions import CohortMatchmaker
        from pairs import matchmaking

        # The at-risk queue's re-match asks for partners through this registry: programmes
        # sits below matching and never imports it.
        matchmaking.register(CohortMatchmaker())

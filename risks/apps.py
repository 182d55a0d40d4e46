from django.apps import AppConfig

from notifications.kinds import register
from pairs.signals import pair_activity, partners_found
from risks import kinds


class RisksConfig(AppConfig):
    name = "risks"
    verbose_name = "Risks"

    def ready(self) -> None:
        register(*kinds.KINDS)
        from risks import receivers

        pair_activity.connect(receivers.detect_after_activity, dispatch_uid="risks.detect")
        partners_found.connect(receivers.resolve_needs_partner, dispatch_uid="risks.partners")

from django.apps import AppConfig

from notifications.kinds import register
from reporting import kinds


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Reporting"

    def ready(self) -> None:
        register(*kinds.KINDS)

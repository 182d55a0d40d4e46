from django.apps import AppConfig

from notifications.kinds import register
from pairs import sections
from reporting import kinds


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = "Reporting"

    def ready(self) -> None:
        register(*kinds.KINDS)
        from reporting import pair_page

        sections.register(pair_page.PART)

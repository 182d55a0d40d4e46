from django.apps import AppConfig

from notifications.kinds import register
from surveys import kinds


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        register(*kinds.KINDS)

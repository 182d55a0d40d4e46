from django.apps import AppConfig

from notifications.kinds import register
from pairs import sections
from pairs.signals import pair_closing
from programmes.signals import intake_submitted
from surveys import kinds


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        register(*kinds.KINDS)
        from surveys import pair_page, receivers

        sections.register(pair_page.PART)
        pair_closing.connect(receivers.unsent_pulse_requests, dispatch_uid="surveys.pair_closing")
        intake_submitted.connect(receivers.record_baseline, dispatch_uid="surveys.baseline")

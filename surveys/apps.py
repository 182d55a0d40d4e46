from django.apps import AppConfig

from notifications.kinds import register
from pairs.signals import pair_closing
from programmes.signals import intake_submitted
from surveys import kinds


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = "Surveys"

    def ready(self) -> None:
        register(*kinds.KINDS)
        from surveys import receivers

        pair_closing.connect(receivers.unsent_pulse_requests, dispatch_uid="surveys.pair_closing")
        intake_submitted.connect(receivers.record_baseline, dispatch_uid="surveys.baseline")

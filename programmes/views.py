from django.http import HttpRequest, HttpResponse

from programmes.models import Participant
from surveys.links import Purpose, participant_link_required


@participant_link_required(Purpose.INTAKE)
def intake(request: HttpRequest, participant: Participant, token: str) -> HttpResponse:
    raise NotImplementedError("the intake form is being built")

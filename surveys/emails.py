"""The e-mail that answers the "send me my links again" page: one message listing a fresh
link for each of the person's current places."""

from django.conf import settings

from programmes.emails import send_templated
from programmes.models import Participant, Person
from surveys.services import links_for


def send_participant_links(person: Person, participations: list[Participant]) -> None:
    places = [{"participant": p, "links": links_for(p)} for p in participations]
    send_templated(
        to=person.email,
        name="participant_links",
        context={"person": person, "places": places, "site_url": settings.SITE_URL},
        language=person.language,
    )

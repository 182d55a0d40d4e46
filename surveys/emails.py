"""The surveys' e-mails: fresh links on request (one message listing a link for each of the
person's current places), the pulse request after a session, and the managers' alert when
someone answers "not a good fit"."""

from django.conf import settings
from django.urls import reverse

from programmes.emails import send_templated
from programmes.models import Meeting, Participant, Person
from surveys.models import Pulse
from surveys.services import links_for


def send_participant_links(person: Person, participations: list[Participant]) -> None:
    places = [{"participant": p, "links": links_for(p)} for p in participations]
    send_templated(
        to=person.email,
        name="participant_links",
        context={"person": person, "places": places, "site_url": settings.SITE_URL},
        language=person.language,
    )


def send_pulse_request(participant: Participant, meeting: Meeting) -> None:
    """The e-mail after a session: one tap on "yes" or "no" opens the pulse with that answer
    already chosen."""
    from surveys.pulses import pulse_url

    pair = meeting.pair
    partner = pair.reverse_mentor if participant.pk == pair.mentee_id else pair.mentee
    url = pulse_url(participant=participant, meeting=meeting)
    zone = participant.person.time_zone
    send_templated(
        to=participant.person.email,
        name="pulse_request",
        context={
            "person": participant.person,
            "partner": partner.person,
            "programme": pair.cohort.programme,
            "meeting": meeting,
            "starts": meeting.starts_at,
            "zone": zone,
            "held_url": f"{url}?held=yes",
            "not_held_url": f"{url}?held=no",
        },
        language=participant.person.language,
    )


def send_rematch_alert(pulse: Pulse, managers: list[str]) -> None:
    """Tell the programme's managers that someone answered "not a good fit" after their first
    session. Names and the pair only: never what anyone wrote."""
    pair = pulse.meeting.pair
    send_templated(
        to=managers,
        name="rematch_alert",
        context={
            "person": pulse.participant.person,
            "pair": pair,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "pair_admin_url": settings.SITE_URL
            + reverse("admin:programmes_pair_change", args=[pair.pk]),
        },
        language=settings.LANGUAGE_CODE,
    )

"""The surveys' messages, built when the outbox sends them: links sent again on request, the
pulse after a session, the managers' alert on a "not a good fit", and the programme questions
at a cohort's mid-point and end."""

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import notify
from pairs.models import Meeting, Pair
from programmes.links import PAIR_LINK_GRACE, Purpose, pair_link_expiry, participant_url
from programmes.models import Cohort, Participant
from surveys.feedback import (
    MOMENT_LABELS,
    MOMENTS,
    feedback_answer,
    feedback_url,
    feedback_window,
)
from surveys.models import LinkRequest, Pulse, PulseRequest

# --- Links sent again -----------------------------------------------------------------------


def ask_participant_links(link_request: LinkRequest) -> None:
    """Asked for every accepted request, known address or not (see surveys.services): only
    the send finds out whether there is anything to send."""
    notify(
        kind="participant_links",
        key=f"participant_links:{link_request.pk}",
        to=link_request.email,
        about=link_request,
    )


def current_participations(person_id: int) -> list[Participant]:
    """The places someone holds now: not withdrawn, in a cohort that has not finished or
    ended within PAIR_LINK_GRACE (the pair page, its last pulses and the end-of-programme
    questions stay open that long)."""
    recently = timezone.localdate() - PAIR_LINK_GRACE
    return list(
        Participant.objects.filter(person_id=person_id)
        .exclude(status=Participant.Status.WITHDRAWN)
        .exclude(cohort__status=Cohort.Status.FINISHED, cohort__ends_on__lt=recently)
        .select_related("person", "cohort__programme")
        .order_by("cohort__starts_on", "pk")
    )


def links_for(participant: Participant) -> list[tuple[str, str]]:
    """Fresh (label, url) links for one place in a programme: the intake link while intake is
    open, and once the participant has pairs (current or ended) one link to each pair's page,
    valid for the cohort's length: a reverse-mentor with two partners gets both."""
    links = []
    if not participant.intake_locked:
        links.append(
            (
                "Your intake form",
                participant_url(participant_id=participant.pk, purpose=Purpose.INTAKE),
            )
        )
    pairs = list(
        Pair.objects.filter(Q(mentee=participant) | Q(reverse_mentor=participant))
        .select_related("mentee__person", "reverse_mentor__person")
        .order_by("-created_at", "-pk")
    )
    expires_at = pair_link_expiry(participant.cohort.ends_on)
    for pair in pairs:
        label = "Your pair page"
        if len(pairs) > 1:
            partner = pair.reverse_mentor if pair.mentee_id == participant.pk else pair.mentee
            ended = " (ended)" if pair.status == Pair.Status.ENDED else ""
            label = f"Your pair page with {partner.person.full_name}{ended}"
        url = participant_url(
            participant_id=participant.pk,
            purpose=Purpose.PAIR,
            expires_at=expires_at,
            pair_id=pair.pk,
        )
        links.append((label, url))
    return links


def participant_links(notification: Notification) -> Message | None:
    link_request = (
        LinkRequest.objects.select_related("person")  # type: ignore[misc]  # pk=None is a valid lookup
        .filter(pk=notification.object_id, rate_limited=False)
        .first()
    )
    if link_request is None or link_request.person is None:
        return None
    LinkRequest.objects.filter(pk=link_request.pk, sent_at=None).update(sent_at=timezone.now())
    participations = current_participations(link_request.person.pk)
    if not participations:
        return None
    person = link_request.person
    if notification.to_email != person.email:
        # The row was asked for with the address as typed (lower-cased, before anyone looked
        # it up); the links go to the address the directory holds.
        notification.to_email = person.email
        Notification.objects.filter(pk=notification.pk).update(to_email=person.email)
    places = [{"participant": p, "links": links_for(p)} for p in participations]
    return Message(
        {"person": person, "places": places, "site_url": settings.SITE_URL},
        language=person.language,
    )


# --- The pulse after a session --------------------------------------------------------------


def ask_pulse_request(request: PulseRequest) -> None:
    notify(
        kind="pulse_request",
        key=f"pulse_request:{request.pk}",
        to=request.participant.person,
        about=request,
    )


def pulse_url(*, participant: Participant, meeting: Meeting) -> str:
    return participant_url(participant_id=participant.pk, purpose=Purpose.PULSE, scope=meeting.pk)


def _pulse_message(notification: Notification, *, first_ask: bool) -> Message | None:
    """The one-tap pulse links of a PulseRequest, for the request and for its nudge. Nothing if
    the pulse was answered meanwhile, the session was cancelled or logged as missed, or the
    pair is no longer active (paused pairs get no pulse mail)."""
    request = (
        PulseRequest.objects.select_related(  # type: ignore[misc]  # pk=None is a valid lookup
            "participant__person",
            "meeting__pair__cohort__programme",
            "meeting__pair__mentee__person",
            "meeting__pair__reverse_mentor__person",
        )
        .filter(pk=notification.object_id)
        .first()
    )
    if request is None:
        return None
    meeting, participant = request.meeting, request.participant
    if (
        meeting.pair.status != Pair.Status.ACTIVE
        or meeting.status not in Meeting.MAYBE_HELD
        or Pulse.objects.filter(meeting=meeting, participant=participant).exists()
    ):
        return None
    if first_ask:
        PulseRequest.objects.filter(pk=request.pk, sent_at=None).update(sent_at=timezone.now())
    pair = meeting.pair
    partner = pair.reverse_mentor if participant.pk == pair.mentee_id else pair.mentee
    url = pulse_url(participant=participant, meeting=meeting)
    return Message(
        {
            "person": participant.person,
            "partner": partner.person,
            "programme": pair.cohort.programme,
            "meeting": meeting,
            "starts": meeting.starts_at,
            "zone": participant.person.time_zone,
            "held_url": f"{url}?held=yes",
            "not_held_url": f"{url}?held=no",
        }
    )


def pulse_request(notification: Notification) -> Message | None:
    return _pulse_message(notification, first_ask=True)


# --- "Not a good fit" -------------------------------------------------------------------------


def ask_rematch_alert(pulse: Pulse) -> None:
    """To each of the programme's managers with an address; never to the partner."""
    programme = pulse.meeting.pair.cohort.programme
    for manager in programme.managers.filter(is_active=True).exclude(email=""):
        notify(
            kind="rematch_alert",
            key=f"rematch_alert:{pulse.pk}:{manager.pk}",
            to=manager,
            about=pulse,
        )


def rematch_alert(notification: Notification) -> Message | None:
    """Names and the pair only: never what anyone wrote. Nothing if the answer was changed
    to "yes" within its edit window."""
    pulse = (
        Pulse.objects.select_related(  # type: ignore[misc]  # pk=None is a valid lookup
            "participant__person",
            "meeting__pair__cohort__programme",
            "meeting__pair__mentee__person",
            "meeting__pair__reverse_mentor__person",
        )
        .filter(pk=notification.object_id, good_fit=False)
        .first()
    )
    if pulse is None:
        return None
    pair = pulse.meeting.pair
    return Message(
        {
            "person": pulse.participant.person,
            "pair": pair,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "pair_admin_url": settings.SITE_URL
            + reverse("admin:pairs_pair_change", args=[pair.pk]),
        },
        language=settings.LANGUAGE_CODE,
    )


# --- The programme questions -----------------------------------------------------------------


def ask_feedback_request(participant: Participant, moment: str) -> None:
    notify(
        kind="feedback_request",
        key=f"feedback_request:{participant.pk}:{moment}",
        to=participant.person,
        about=participant,
        data={"moment": moment},
    )


def feedback_request(notification: Notification) -> Message | None:
    """Nothing if the participant has answered already or the questions have closed."""
    moment = notification.data.get("moment")
    participant = (
        Participant.objects.select_related("person", "cohort__programme")  # type: ignore[misc]  # pk=None is a valid lookup
        .filter(pk=notification.object_id)
        .exclude(status=Participant.Status.WITHDRAWN)
        .first()
    )
    if participant is None or moment not in MOMENTS:
        return None
    window = feedback_window(participant.cohort, moment)
    if timezone.now().date() > window.closes_on or feedback_answer(participant, moment):
        return None
    return Message(
        {
            "participant": participant,
            "person": participant.person,
            "programme": participant.cohort.programme,
            "cohort": participant.cohort,
            "moment": moment,
            "moment_label": MOMENT_LABELS[moment],
            "feedback_url": feedback_url(participant, moment),
            "closes_on": window.closes_on,
            "site_url": settings.SITE_URL,
        }
    )


# --- The nudge for an unanswered pulse (asked by surveys/reminders.py) ----------------------


def pulse_nudge_key(request: PulseRequest) -> str:
    return f"pulse_nudge:{request.pk}"


def ask_pulse_nudge(request: PulseRequest) -> None:
    notify(
        kind="pulse_nudge",
        key=pulse_nudge_key(request),
        to=request.participant.person,
        about=request,
    )


def pulse_nudge(notification: Notification) -> Message | None:
    """The same one-tap links as the pulse request, under the same conditions."""
    return _pulse_message(notification, first_ask=False)

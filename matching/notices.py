"""The match introduction, built when the outbox sends it: each side of a new pair hears who
their partner is, with their own pair page link."""

from django.conf import settings

from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import notify
from programmes.models import Pair


def ask_match_introduction(pair: Pair) -> None:
    for participant in (pair.mentee, pair.reverse_mentor):
        notify(
            kind="match_introduction",
            key=f"match_introduction:{pair.pk}:{participant.pk}",
            to=participant.person,
            about=pair,
        )


def match_introduction(notification: Notification) -> Message | None:
    from programmes.notices import pair_url

    pair = (
        Pair.objects.select_related(
            "mentee__person",
            "mentee__cohort",
            "reverse_mentor__person",
            "reverse_mentor__cohort",
            "cohort__programme",
            "mentee__intake",
            "reverse_mentor__intake",
        )
        .filter(pk=notification.object_id)
        .exclude(status=Pair.Status.ENDED)
        .first()
    )
    if pair is None:
        return None
    me, partner = (
        (pair.mentee, pair.reverse_mentor)
        if notification.person_id == pair.mentee.person_id
        else (pair.reverse_mentor, pair.mentee)
    )
    return Message(
        {
            "person": me.person,
            "participant": me,
            "partner": partner.person,
            "partner_participant": partner,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "pair": pair,
            "site_url": settings.SITE_URL,
            "pair_url": pair_url(me),
        }
    )

"""The match introduction, built when the outbox sends it: each side of a new pair hears who
their partner is, with their own pair page link."""

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
    from programmes.notices import pair_context, pair_people, sides_for

    pair = (
        Pair.objects.select_related(*pair_people(), "mentee__intake", "reverse_mentor__intake")
        .filter(pk=notification.object_id)
        .exclude(status=Pair.Status.ENDED)
        .first()
    )
    if pair is None:
        return None
    me, partner = sides_for(notification, pair)
    return Message(
        pair_context(pair, me, partner)
        | {"participant": me, "partner_participant": partner, "pair": pair}
    )

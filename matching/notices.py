"""The match introduction, built when the outbox sends it: each side of a new pair hears who
their partner is, with their own pair page link."""

from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import notify_each
from pairs.models import Pair
from pairs.notices import pair_context, pair_people, sides_for


def ask_match_introduction(pair: Pair) -> None:
    ask_match_introductions([pair])


def ask_match_introductions(pairs: list[Pair]) -> None:
    """Both sides of each pair, in one INSERT (participants and their people loaded)."""
    notify_each(
        kind="match_introduction",
        messages=[
            (f"match_introduction:{pair.pk}:{participant.pk}", participant.person, pair)
            for pair in pairs
            for participant in (pair.mentee, pair.reverse_mentor)
        ],
    )


def match_introduction(notification: Notification) -> Message | None:
    pair = (
        Pair.objects.current()  # type: ignore[misc]  # pk=None is a valid lookup
        .select_related(*pair_people(), "mentee__intake", "reverse_mentor__intake")
        .filter(pk=notification.object_id)
        .first()
    )
    if pair is None:
        return None
    me, partner = sides_for(notification, pair)
    return Message(
        pair_context(pair, me, partner)
        | {"participant": me, "partner_participant": partner, "pair": pair}
    )

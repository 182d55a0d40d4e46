"""Which of a participant's pairs a pair link opens.

A pair link is signed for a participant, not a pair, and a reverse-mentor with two places has
two current pairs. So every pair page takes the pair from its path
(``/pair/<token>/<pair_id>/…``) and looks it up only among the participant's own pairs: an id
of anyone else's pair finds nothing. The older paths without an id (in every e-mail sent
before pairs had their own pages) still work: they open the participant's only current pair,
else their latest ended one, and when there are several current pairs ``/pair/<token>/``
shows a chooser.
"""

from dataclasses import dataclass

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from pairs.models import Pair, PairQuerySet
from programmes.links import Purpose, link_problem
from programmes.models import Participant, Person

# Current pairs first (newest first), then ended ones, newest first: the pair a path without an
# id opens is the first of these, and the chooser lists them in this order.
DEFAULT_ORDER = (
    Case(When(status=Pair.Status.ENDED, then=Value(1)), default=Value(0)),
    "-created_at",
    "-pk",
)


def pairs_of(participant: Participant) -> PairQuerySet:
    """Every pair ``participant`` is or was in, and no other."""
    return Pair.objects.filter(Q(mentee=participant) | Q(reverse_mentor=participant))


def pair_scope(participant: Participant, pair_id: int | None) -> QuerySet[Pair]:
    """The pair a request names, as a queryset the view completes with what it needs: the
    participant's pair ``pair_id`` (empty if it is not theirs), or without an id their pairs
    in DEFAULT_ORDER, annotated with ``another_current`` (whether a current pair other than
    the row exists, in which case a current row is not the only one and the request is
    ambiguous)."""
    mine = pairs_of(participant)
    if pair_id is not None:
        return mine.filter(pk=pair_id).annotate(another_current=Value(False))
    others = mine.current().exclude(pk=OuterRef("pk"))
    return mine.annotate(another_current=Exists(others)).order_by(*DEFAULT_ORDER)


def ambiguous(pair: Pair) -> bool:
    """Whether ``pair``, found by a path without an id, is one of several current pairs."""
    return pair.status in Pair.CURRENT_STATUSES and getattr(pair, "another_current", False)


@dataclass(frozen=True)
class PairChoice:
    pair: Pair
    partner: Person
    partner_role: str  # "reverse-mentor" or "executive (mentee)"
    ended: bool


def pair_choices(participant: Participant) -> list[PairChoice]:
    """The participant's pairs with their partners, current ones first (one query)."""
    rows = (
        pairs_of(participant)
        .select_related("mentee__person", "reverse_mentor__person")
        .order_by(*DEFAULT_ORDER)
    )
    choices = []
    for pair in rows:
        mentee = pair.mentee_id == participant.pk
        partner = pair.reverse_mentor if mentee else pair.mentee
        choices.append(
            PairChoice(
                pair=pair,
                partner=partner.person,
                partner_role="reverse-mentor" if mentee else "executive (mentee)",
                ended=pair.status == Pair.Status.ENDED,
            )
        )
    return choices


def render_chooser(
    request: HttpRequest, participant: Participant, token: str, *, status: int = 200
) -> HttpResponse:
    """The list of the participant's pairs, each linking to its own page. Also the answer to
    an action posted to a path without an id while several pairs are current: nothing is
    saved and the page says to choose the pair first."""
    choices = pair_choices(participant)
    context = {
        "participant": participant,
        "person": participant.person,
        "programme": participant.cohort.programme,
        "cohort": participant.cohort,
        "token": token,
        "open_choices": [choice for choice in choices if not choice.ended],
        "ended_choices": [choice for choice in choices if choice.ended],
        "refused": status != 200,
    }
    return render(request, "pairs/pair_chooser.html", context, status=status)


def not_your_pair(request: HttpRequest) -> HttpResponse:
    """A pair id that is not one of the link holder's pairs (changed by hand, or a link mixed
    up with someone else's): 404, with how to get a link of one's own."""
    return link_problem(request, reason="not_yours", purpose=Purpose.PAIR)


def pair_page_url(token: str, pair_id: int) -> str:
    return reverse("pairs:pair", args=[token, pair_id])

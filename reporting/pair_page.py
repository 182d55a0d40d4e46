"""The pair page's success stories: each side's consent to the anonymised stories about their
pairs, shown and given on the pair page (registered in apps.py, pairs/sections.py)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, Q, QuerySet
from django.db.models.expressions import BaseExpression
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from pairs.access import not_your_pair, pair_page_url, pairs_of
from pairs.models import Pair
from pairs.queries import partner_of
from pairs.sections import PairPagePart
from programmes.links import Purpose, participant_link_required
from programmes.models import Participant
from reporting.consent import story_version
from reporting.models import SuccessStory
from reporting.stories import story_consent as story_consent_give


def _stories_of(participant: Participant) -> QuerySet[SuccessStory]:
    """Stories about any pair ``participant`` has been in: someone re-matched since must still
    be able to agree to, or withdraw from, a story about their earlier pair."""
    return SuccessStory.objects.filter(
        Q(pair__mentee=participant) | Q(pair__reverse_mentor=participant)
    )


@dataclass(frozen=True)
class StoryRow:
    story: SuccessStory
    version: str  # what the consent form sends back (reporting.consent.story_version)
    my_consent_at: datetime | None
    partner_consent_at: datetime | None
    partner_name: str  # the partner in the story's pair
    earlier_pair: bool  # about another of the viewer's pairs than the one the page shows


def _story_rows(pair: Pair, participant: Participant) -> list[StoryRow]:
    """The anonymised stories about the participant's pairs, with each side's consent: the
    only ones they are asked about (a draft is the manager's until it is marked
    anonymised)."""
    if not getattr(pair, "has_stories", False):
        return []
    rows = (
        _stories_of(participant)
        .filter(anonymised=True)
        .select_related("pair__mentee__person", "pair__reverse_mentor__person")
        .order_by("created_at", "pk")
    )
    found = []
    for story in rows:
        mentee = story.pair.mentee_id == participant.pk
        mine, theirs = (
            (story.mentee_consent_at, story.reverse_mentor_consent_at)
            if mentee
            else (story.reverse_mentor_consent_at, story.mentee_consent_at)
        )
        partner = story.pair.reverse_mentor if mentee else story.pair.mentee
        found.append(
            StoryRow(
                story=story,
                version=story_version(story),
                my_consent_at=mine,
                partner_consent_at=theirs,
                partner_name=partner.person.full_name,
                earlier_pair=story.pair_id != pair.pk,
            )
        )
    return found


def _annotate(participant: Participant) -> dict[str, BaseExpression]:
    return {"has_stories": Exists(_stories_of(participant).filter(anonymised=True))}


def _context(pair: Pair, participant: Participant, now: datetime) -> dict[str, Any]:
    return {"stories": _story_rows(pair, participant)}


@require_POST
@participant_link_required(Purpose.PAIR)
def story_consent(
    request: HttpRequest,
    participant: Participant,
    story_id: int,
    *,
    token: str,
    pair_id: int | None = None,
) -> HttpResponse:
    """Give or withdraw the viewer's consent to a success story about one of their pairs.
    Ended pairs too: stories are usually written as a pair ends, and withdrawing must stay
    possible for as long as the page can be reached."""
    # Only a story about one of the viewer's pairs: any other id is a 404, whichever pair it
    # is about.
    story = (
        _stories_of(participant)
        .filter(pk=story_id)
        .select_related("pair__mentee__person", "pair__reverse_mentor__person")
        .first()
    )
    if story is None:
        if pair_id is not None and not pairs_of(participant).filter(pk=pair_id).exists():
            return not_your_pair(request)
        raise Http404("No such story about your pair.")
    if pair_id is not None and not pairs_of(participant).filter(pk=pair_id).exists():
        return not_your_pair(request)
    pair = story.pair
    # Back to the page the form was on: each of the viewer's pair pages lists the stories.
    page = pair_page_url(token, pair_id if pair_id is not None else pair.pk)
    answer = request.POST.get("consent")
    if answer not in ("yes", "no"):
        messages.error(request, "Choose whether you agree or withdraw, then try again.")
        return redirect(f"{page}#stories")
    try:
        story = story_consent_give(
            story=story,
            by=participant,
            consent=answer == "yes",
            seen_version=request.POST.get("version", "") if answer == "yes" else None,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        partner = partner_of(pair=pair, participant=participant)
        if answer == "no":
            message = "You withdrew your consent: the programme's sponsors cannot see this story."
        elif story.publishable:
            message = "Thank you. You have both agreed: the programme's sponsors can now read it."
        else:
            message = (
                f"Thank you. The story will be shown to the programme's sponsors once "
                f"{partner.person.full_name} agrees too."
            )
        messages.success(request, message)
    return redirect(f"{page}#stories")


PART = PairPagePart(
    annotate=_annotate,
    context=_context,
    routes=(("stories/<int:story_id>/consent/", story_consent, "pair_story_consent"),),
)

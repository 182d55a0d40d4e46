"""Success stories: a manager writes one about a pair, with names and identifying details taken
out; both participants consent on their pair page; only then may sponsor pages show it.

Consent is to a text. Changing the title, the body or the pair clears both consents, and so
does unticking "anonymised": the participants are asked again. Each participant whose consent
a text lacks is asked by e-mail, once per text, as soon as it is saved marked anonymised.
Either participant can withdraw at any time, which takes the story off sponsor pages at once,
since ``stories_for_sponsors`` reads the consents on every request. Errors are
ValidationErrors in the words of whoever acts (the manager in the admin, the participant on
their pair page), so callers show them as they are.
"""

from datetime import datetime
from typing import TypedDict

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from pairs import queries as pair_queries
from pairs.models import Pair
from programmes.models import Participant, Programme
from reporting import notices
from reporting.consent import (
    CONSENT_FIELDS,
    consent_field,
    consent_waits_for,
    normalised,
    story_version,
)
from reporting.models import SuccessStory


def story_check_pair(*, pair: Pair) -> None:
    """A story is about a pair that has met: never one still only proposed by matching."""
    if pair.status == Pair.Status.PROPOSED:
        raise ValidationError(
            {"pair": "This pair is only proposed: write a story once they have started meeting."},
            code="proposed",
        )


def story_save(*, story: SuccessStory, by: User) -> SuccessStory:
    """Create or update a story for a manager (``by``, recorded as its writer on creation).

    Consents are never taken from ``story`` itself: a new story has none, and an existing one
    keeps what is stored (read under a row lock, so a consent given or withdrawn while the
    manager had the form open is neither lost nor brought back), cleared when the pair, title
    or body changed or the story is not marked anonymised."""
    story.title = normalised(story.title)
    story.body = normalised(story.body)
    story.full_clean()
    story_check_pair(pair=story.pair)
    with transaction.atomic():
        if story._state.adding:
            if story.written_by_id is None:
                story.written_by = by
            consents = dict.fromkeys(CONSENT_FIELDS)
        else:
            stored = SuccessStory.objects.select_for_update().get(pk=story.pk)
            consents = {field: getattr(stored, field) for field in CONSENT_FIELDS}
            if story_version(stored) != story_version(story):
                consents = dict.fromkeys(CONSENT_FIELDS)
        if not story.anonymised:
            consents = dict.fromkeys(CONSENT_FIELDS)
        for field, value in consents.items():
            setattr(story, field, value)
        story.save()
        if story.anonymised:
            _ask_consent(story)
    return story


def _ask_consent(story: SuccessStory) -> None:
    version = story_version(story)
    for participant in consent_waits_for(story):
        notices.ask_story_consent(story, participant, version)


def story_consent(
    *,
    story: SuccessStory,
    by: Participant,
    consent: bool,
    now: datetime | None = None,
    seen_version: str | None = None,
) -> SuccessStory:
    """Give (``consent=True``) or withdraw ``by``'s own consent to ``story``; the partner's is
    never touched. Giving it again keeps the first time. Giving it is refused until the
    manager has marked the story anonymised and, when ``seen_version`` (``story_version`` of
    the text the participant read) is given, when the text has changed since. Withdrawing is
    always possible, also for an ended pair, where stories are usually written."""
    side = pair_queries.side_of(pair=story.pair, participant=by)
    field = consent_field(side)
    with transaction.atomic():
        locked = SuccessStory.objects.select_for_update().get(pk=story.pk)
        if consent:
            if not locked.anonymised:
                raise ValidationError(
                    "This story is still being prepared: you can agree to it once the programme "
                    "manager has taken out names and identifying details.",
                    code="not_anonymised",
                )
            if seen_version is not None and seen_version != story_version(locked):
                raise ValidationError(
                    "This story has changed since you opened the page. Please read it again "
                    "below before you agree.",
                    code="changed",
                )
            if getattr(locked, field) is None:
                setattr(locked, field, now or timezone.now())
                # Not updated_at: that says when the manager last edited the text.
                locked.save(update_fields=[field])
        elif getattr(locked, field) is not None:
            setattr(locked, field, None)
            locked.save(update_fields=[field])
    locked.pair = story.pair
    return locked


class StoryText(TypedDict):
    title: str
    body: str


def stories_for_sponsors(*, programme: Programme) -> QuerySet[SuccessStory, StoryText]:
    """The programme's stories that sponsors may read, newest first: anonymised and agreed by
    both participants, read afresh each time, so a withdrawn consent takes effect at once.

    Rows are dicts with only ``title`` and ``body``: nothing that leads back to the pair or
    its people (no instance whose ``pair`` could be followed to a name)."""
    return (
        SuccessStory.objects.filter(
            pair__cohort__programme=programme,
            anonymised=True,
            mentee_consent_at__isnull=False,
            reverse_mentor_consent_at__isnull=False,
        )
        .order_by("-created_at", "-pk")
        .values("title", "body")
    )

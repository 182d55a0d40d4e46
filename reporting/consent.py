"""What a participant consents to when they agree to a success story: a text, fingerprinted
by ``story_version``, and whose consent the text still lacks."""

import hashlib

from programmes.models import Participant, Role
from reporting.models import SuccessStory

CONSENT_FIELDS = ("mentee_consent_at", "reverse_mentor_consent_at")


def consent_field(side: Role) -> str:
    return "mentee_consent_at" if side == Role.MENTEE else "reverse_mentor_consent_at"


def normalised(text: str) -> str:
    # Browsers send a textarea's line breaks as CRLF: the same story typed again, or saved
    # unchanged from the admin, must not count as a new text and clear the consents.
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def story_version(story: SuccessStory) -> str:
    """A short fingerprint of what participants consent to (pair, title and body). The pair
    page sends it back with a consent, so a participant never agrees to a text that changed
    after they read it."""
    text = f"{story.pair_id}\n{normalised(story.title)}\n{normalised(story.body)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def consent_waits_for(story: SuccessStory) -> list[Participant]:
    """The participants of the story's pair whose consent it still lacks, leaving out anyone
    who has withdrawn from the programme."""
    pair = story.pair
    sides = ((Role.MENTEE, pair.mentee), (Role.REVERSE_MENTOR, pair.reverse_mentor))
    return [
        participant
        for side, participant in sides
        if getattr(story, consent_field(side)) is None
        and participant.status != Participant.Status.WITHDRAWN
    ]

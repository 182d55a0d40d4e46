"""A running pair with a past session, for the pulse tests."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from pairs.models import Meeting, Pair
from programmes.links import Purpose, make_token
from programmes.models import Participant
from tests.pairs.meeting_helpers import agreed_pair, meeting_for


def pulse_token(participant: Participant, meeting: Meeting) -> str:
    return make_token(participant_id=participant.pk, purpose=Purpose.PULSE, scope=meeting.pk)


def pulse_url(participant: Participant, meeting: Meeting, name: str = "surveys:pulse") -> str:
    return reverse(name, args=[pulse_token(participant, meeting)])


def past_session(pair: Pair, *, hours_ago: float = 2, **fields) -> Meeting:
    return meeting_for(pair, starts_at=timezone.now() - timedelta(hours=hours_ago), **fields)


def running_pair(**fields) -> Pair:
    return agreed_pair(**fields)


def held_answers(**overrides) -> dict[str, str]:
    data = {"held": "yes", "learning": "Graduates share drafts early", "action": ""}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}

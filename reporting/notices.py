"""The message of a success story's consent question (the sponsors' monthly status e-mail is
reporting/digests.py's)."""

from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import notify
from pairs.notices import pair_context, pair_people, sides_for
from programmes.models import Participant
from reporting.consent import consent_waits_for, story_version
from reporting.models import SuccessStory

# --- Success stories (reporting/stories.py) ---------------------------------------------


def ask_story_consent(story: SuccessStory, participant: Participant, version: str) -> None:
    """Once per participant and text: a changed text is a new question."""
    notify(
        kind="story_consent",
        key=f"story_consent:{story.pk}:{version}:{participant.pk}",
        to=participant.person,
        about=story,
        data={"version": version},
    )


def story_consent(notification: Notification) -> Message | None:
    """Nothing once the question is moot: the story gone, changed since (its new text asks
    again), no longer marked anonymised, or already agreed to by the recipient."""

    story = (
        SuccessStory.objects.select_related(*pair_people("pair__"))  # type: ignore[misc]  # pk=None is a valid lookup
        .filter(pk=notification.object_id, anonymised=True)
        .first()
    )
    if story is None or story_version(story) != notification.data.get("version"):
        return None
    me, partner = sides_for(notification, story.pair)
    if me not in consent_waits_for(story):
        return None
    context = pair_context(story.pair, me, partner)
    context["pair_url"] += f"#story-{story.pk}"
    return Message(context | {"story": story})

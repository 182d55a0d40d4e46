"""The messages of reporting: a success story's consent question and the sponsors' monthly
status e-mail.
"""

from datetime import date

from django.conf import settings
from django.urls import reverse

from lib.users import user_name
from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import notify
from pairs.notices import pair_context, pair_people, sides_for
from programmes.models import Participant
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
    from reporting.stories import consent_waits_for, story_version

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


def sponsor_status_key(user, programme, today: date) -> str:
    return f"sponsor_status:{user.pk}:{programme.pk}:{today:%Y-%m}"


def ask_sponsor_status(user, programme, today: date, reported: date) -> None:
    notify(
        kind="sponsor_status",
        key=sponsor_status_key(user, programme, today),
        to=user,
        about=programme,
        data={"month": reported.isoformat()},
    )


def sponsor_status(notification: Notification) -> Message | None:
    """The month's headline figures against their targets, the managers' ask and a link to
    the status page, all from the page's own selector (reporting.sponsor), so the e-mail
    says what the page says, small groups suppressed alike: aggregates only, never a name or
    what a participant wrote. A month with no figures yet (its KPIs not computed) lists none
    and links to the programme's latest month instead. Nothing if the programme is no longer
    running or the recipient no longer sponsors it."""
    from programmes.models import Programme
    from reporting.sponsor import sponsor_status as status_of
    from reporting.sponsor import sponsor_status_path

    user = notification.user
    programme = (
        Programme.objects.filter(  # type: ignore[misc]  # pk=None is a valid lookup
            pk=notification.object_id, status=Programme.Status.RUNNING, sponsors=user
        ).first()
        if user is not None and user.is_active
        else None
    )
    if programme is None or user is None:
        return None
    month = date.fromisoformat(notification.data["month"])
    status = status_of(programme=programme, month=month)
    if status.has_figures:
        status_url = settings.SITE_URL + sponsor_status_path(programme, month)
    else:
        status_url = settings.SITE_URL + reverse(
            "reporting:sponsor_programme", args=[programme.slug]
        )
    return Message(
        {
            "recipient_name": user_name(user),
            "programme": programme,
            "month": month,
            # Plain strings, so a manager's wording can show the figures and nothing else.
            "figures": [
                {
                    "label": figure.label,
                    "text": figure.text,
                    "mark": figure.mark_label,
                    "target": figure.target_text,
                    "suppressed": figure.suppressed,
                }
                for figure in status.headline
                if status.has_figures
            ],
            "ask": status.ask,
            "min_group": status.min_group,
            "status_url": status_url,
            # For wording saved before the status page existed (it linked to the sign-in).
            "sign_in_url": status_url,
        },
        language=settings.LANGUAGE_CODE,
    )

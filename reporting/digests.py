"""The sponsors' monthly status e-mail, found by beat's "what is due" scan
(``reporting.tasks.send_due_sponsor_statuses``, every ten minutes), as the reminders are
(programmes/reminders.py).

To each active sponsor with an address of each running programme, once per programme and
month, due from 08:00 on the month's first working day (Monday to Friday; no holiday
calendar) until the end of the 7th, in settings.TIME_ZONE (sponsors are users, with no time
zone of their own). It reports the month before, as the status page does
(reporting/sponsor.py); what it says is decided when it is sent (``sponsor_status``).
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from lib.users import user_name
from lib.zones import site_local
from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import ask_unasked, notify
from programmes.models import Programme
from reporting import sponsor
from risks.digests import SEND_AT

SPONSOR_STATUS_LAST_DAY = 7


def first_working_day(year: int, month: int) -> date:
    day = date(year, month, 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def previous_month(day: date) -> date:
    """The first day of the month before ``day``'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def sponsor_statuses_due(*, now: datetime | None = None) -> int:
    """Ask this month's status of each running programme for each of its sponsors not asked
    yet. Returns how many were asked."""
    local = site_local(now or timezone.now())
    today = local.date()
    starts = first_working_day(today.year, today.month)
    if today > date(today.year, today.month, SPONSOR_STATUS_LAST_DAY) or (today, local.time()) < (
        starts,
        SEND_AT,
    ):
        return 0
    reported = previous_month(today)
    programmes = list(
        Programme.objects.filter(status=Programme.Status.RUNNING)
        .prefetch_related("sponsors")
        .order_by("pk")
    )
    wanted = [
        (programme, user)
        for programme in programmes
        for user in programme.sponsors.all()
        if user.is_active and user.email
    ]
    return ask_unasked(
        wanted,
        key=lambda item: sponsor_status_key(item[1], item[0], today),
        ask=lambda item: ask_sponsor_status(item[1], item[0], today, reported),
    )


# --- The message -----------------------------------------------------------------------


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
    status = sponsor.sponsor_status(programme=programme, month=month)
    if status.has_figures:
        status_url = settings.SITE_URL + sponsor.sponsor_status_path(programme, month)
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

"""The sponsors' monthly status e-mail, found by beat's "what is due" scan
(``reporting.tasks.send_due_sponsor_statuses``, every ten minutes), as the reminders are
(programmes/reminders.py).

To each active sponsor with an address of each running programme, once per programme and
month, due from 08:00 on the month's first working day (Monday to Friday; no holiday
calendar) until the end of the 7th, in settings.TIME_ZONE (sponsors are users, with no time
zone of their own). It reports the month before, as the status page does
(reporting/sponsor.py); what it says is decided when it is sent (reporting/notices.py).
"""

from datetime import date, datetime, timedelta

from django.utils import timezone

from lib.zones import site_local
from notifications.services import ask_unasked
from programmes.models import Programme
from reporting import notices
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
        key=lambda item: notices.sponsor_status_key(item[1], item[0], today),
        ask=lambda item: notices.ask_sponsor_status(item[1], item[0], today, reported),
    )

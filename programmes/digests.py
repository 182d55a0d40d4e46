"""The managers' weekly digest of open at-risk flags and the sponsors' monthly status e-mail,
found by beat's "what is due" scan (``programmes.tasks.send_due_digests``, every ten minutes),
as the reminders are (programmes/reminders.py).

Both go to users, who have no time zone of their own: the scans pick the hour, in
settings.TIME_ZONE, and the outbox sends at once (their kinds keep no quiet hours).

- **Risk digest**: to each active manager with an address of a running programme, once per
  ISO week, due from Monday 08:00 until the end of Sunday, so a beat outage delays the week's
  digest rather than losing it. It lists the open flags of the programme's pairs
  (programmes/risks.py opens them) and is not sent when none is open.
- **Sponsor status**: to each active sponsor with an address of each running programme, once
  per programme and month, due from 08:00 on the month's first working day (Monday to Friday;
  no holiday calendar) until the end of the 7th. It reports the month before, as the status
  page does (programmes/sponsor.py).

What the messages say is decided when they are sent (programmes/notices.py).
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from notifications.services import ask_unasked
from programmes import notices
from programmes.models import Programme

SEND_AT = time(8, 0)
SPONSOR_STATUS_LAST_DAY = 7


def _local(now: datetime) -> datetime:
    return now.astimezone(ZoneInfo(settings.TIME_ZONE))


def first_working_day(year: int, month: int) -> date:
    day = date(year, month, 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def previous_month(day: date) -> date:
    """The first day of the month before ``day``'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def risk_digests_due(*, now: datetime | None = None) -> int:
    """Ask this week's digest of each manager of a running programme not asked yet. Returns
    how many were asked; whether a digest has anything to say is decided when it is sent."""
    local = _local(now or timezone.now())
    monday = local.date() - timedelta(days=local.weekday())
    if local.time() < SEND_AT and local.date() == monday:
        return 0
    year, week, _ = monday.isocalendar()
    managers = list(
        get_user_model()
        .objects.filter(managed_programmes__status=Programme.Status.RUNNING, is_active=True)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    return ask_unasked(
        managers,
        key=lambda user: notices.risk_digest_key(user, year, week),
        ask=lambda user: notices.ask_risk_digest(user, year, week, monday),
    )


def sponsor_statuses_due(*, now: datetime | None = None) -> int:
    """Ask this month's status of each running programme for each of its sponsors not asked
    yet. Returns how many were asked."""
    local = _local(now or timezone.now())
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

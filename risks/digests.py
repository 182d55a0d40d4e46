"""The managers' weekly digest of open at-risk flags, found by beat's "what is due" scan
(``risks.tasks.send_due_digests``, every ten minutes), as the reminders are
(programmes/reminders.py).

It goes to users, who have no time zone of their own: the scan picks the hour, in
settings.TIME_ZONE, and the outbox sends at once (the kind keeps no quiet hours). To each
active manager with an address of a running programme, once per ISO week, due from Monday
08:00 until the end of Sunday, so a beat outage delays the week's digest rather than losing
it. It lists the open flags of the programme's pairs (risks/detection.py opens them) and is
not sent when none is open; what it says is decided when it is sent (risks/notices.py).
"""

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from lib.zones import site_local
from notifications.services import ask_unasked
from programmes.models import Programme
from risks import notices

SEND_AT = time(8, 0)


def risk_digests_due(*, now: datetime | None = None) -> int:
    """Ask this week's digest of each manager of a running programme not asked yet. Returns
    how many were asked; whether a digest has anything to say is decided when it is sent."""
    local = site_local(now or timezone.now())
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

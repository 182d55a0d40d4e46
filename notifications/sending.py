"""Sending the outbox's rows: ``notification_send`` claims a row and sends it at most once;
``notifications_due`` is what beat's sweep hands to the send task again (the broker was down,
a worker died mid-send, a send failed and waits to be retried); ``publish`` queues a task
without ever failing the caller.

Delivery is exactly once except in one window no outbox can close: the mail server accepted a
message and the row could not be marked sent, because the worker was killed in between or
because the database stayed out of reach for every retry of the mark (``_record``: the
connection is closed, reopened and the same conditional UPDATE tried again, six times over
about 15 s, well inside the lease). Its lease then runs out and the sweep sends it again; the
second case is logged as an error naming the row. Everything before that point (claim, render,
connect) is retried without a duplicate, and a database connection lost during the SMTP
conversation (a failover, a restart, an idle-connection reaper) costs a reconnect, not a second
message. Each message carries a Message-ID derived from its key (``message_id``), the same on
every attempt, so a receiving system that drops duplicates drops the one that slips through.
"""

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import Error, InterfaceError, OperationalError, connection
from django.db.models import F, Q
from django.utils import timezone

from notifications.kinds import KINDS
from notifications.models import Notification
from notifications.rendering import render_message

logger = logging.getLogger(__name__)


def lease() -> timedelta:
    """How long a send owns its row (NOTIFICATIONS_LEASE_SECONDS, five minutes by default);
    a worker that dies mid-send leaves the row to the sweep after that."""
    return timedelta(seconds=settings.NOTIFICATIONS_LEASE_SECONDS)


MAX_ATTEMPTS = 8
SWEEP_BATCH = 500
# Pauses between tries of an outbox UPDATE whose database connection was lost: about 15 s in
# all, inside the task's 60 s time limit and far inside the five-minute lease.
RECORD_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failed attempt, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


class PublishBreaker:
    """Skips publishing for ``pause`` seconds after a publish failed.

    Process-local state, on purpose and only for this: it skips a fast path, nothing more.
    The database row is the truth (a message, a matching run stays pending or queued) and
    beat's sweep hands it to a worker once the broker is back, so a breaker that is open in
    one process and closed in another, or forgotten by a restart, costs at most a sweep's
    delay, never a message. Without it each after-commit publish with the broker down waits
    for its own failed connection, and a request that asks for 200 messages times out."""

    def __init__(self, *, pause: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.pause = pause
        self.clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None

    def is_open(self) -> bool:
        with self._lock:
            if self._open_until is not None and self.clock() >= self._open_until:
                self._open_until = None
            return self._open_until is not None

    def trip(self) -> None:
        with self._lock:
            self._open_until = self.clock() + self.pause

    def reset(self) -> None:
        with self._lock:
            self._open_until = None


# 30 s: half the sweep's minute, so a broker that is back is tried again before the sweep.
PUBLISH_BREAKER = PublishBreaker(pause=30.0)


def publish(send: Callable[[], object], *, sweep: bool = False) -> bool:
    """Hand a task to the broker unless a publish failed in this process in the last
    ``PUBLISH_BREAKER.pause`` seconds. A failure is logged and never raised; False means not
    published, and the caller leaves its row to the sweep. Every after-commit publish (the
    outbox's, a matching run's, a pair's risk scan) goes through here. A ``sweep`` is the
    path that tries again: it tries the broker whatever the breaker says, and a success
    closes the breaker."""
    if not sweep and PUBLISH_BREAKER.is_open():
        return False
    try:
        send()
        if sweep:
            PUBLISH_BREAKER.reset()
    except Exception:
        PUBLISH_BREAKER.trip()
        logger.warning(
            "Publishing to the broker failed; skipping publishes for %.0f s, the sweep will "
            "send what waits",
            PUBLISH_BREAKER.pause,
            exc_info=True,
        )
        return False
    return True


def _claimable(now: datetime) -> Q:
    due = Q(status=Notification.Status.PENDING, not_before__lte=now)
    stale = Q(status=Notification.Status.SENDING, lease_until__lt=now)
    return due | stale


def notification_send(notification_id: int) -> str:
    """Send one notification if it is due and nobody else is sending it; returns its status
    afterwards. Safe to call any number of times."""
    now = timezone.now()
    claimed = (
        Notification.objects.filter(_claimable(now), pk=notification_id)
        .filter(attempts__lt=MAX_ATTEMPTS)
        .update(
            status=Notification.Status.SENDING,
            lease_until=now + lease(),
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return "not claimed"
    notification = Notification.objects.select_related("person", "user").get(pk=notification_id)
    kind = KINDS.get(notification.kind)
    try:
        message = kind.build(notification) if kind else None
        if message is None:
            _finish(notification, Notification.Status.CANCELLED)
            return Notification.Status.CANCELLED
        rendered = render_message(
            notification.kind,
            message.context,
            message.language or (notification.person.language if notification.person else ""),
            notification.programme_id,
        )
        email = EmailMultiAlternatives(
            rendered.subject,
            rendered.text,
            settings.DEFAULT_FROM_EMAIL,
            [notification.to_email],
            headers={"Message-ID": message_id(notification.key)},
        )
        if rendered.html:
            email.attach_alternative(rendered.html, "text/html")
        for filename, content, mimetype in message.attachments:
            email.attach(filename, content, mimetype)
        email.send()
    except Exception as error:
        _failed(notification, error)
        raise
    _mark_sent(notification)
    return Notification.Status.SENT


def message_id(key: str) -> str:
    """The Message-ID of the outbox row with ``key``: the same on every attempt, different for
    every key (and every site), at the domain mail is sent from, so a receiving system that
    drops a repeated Message-ID drops a duplicate."""
    digest = hashlib.sha256(f"{settings.SITE_URL}\n{key}".encode()).hexdigest()[:32]
    _, at, domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")
    if not (at and domain):
        domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<{digest}@{domain}>"


def _mine(notification: Notification) -> Q:
    """The row as this send claimed it: still sending, and not claimed again since by another
    send after this one's lease ran out (each claim counts an attempt)."""
    return Q(
        pk=notification.pk,
        status=Notification.Status.SENDING,
        attempts=notification.attempts,
    )


def _record(notification: Notification, **fields) -> int:
    """UPDATE the row as this send claimed it; returns how many rows changed (0: not ours any
    more). A lost database connection (OperationalError, InterfaceError) is closed and the same
    conditional UPDATE tried again on a new one after a pause (RECORD_RETRY_DELAYS): harmless
    if the first try was committed before the answer was lost, since ``_mine`` then matches
    nothing. Inside a caller's transaction there is nothing to retry: the transaction is gone
    with its connection."""
    for delay in (*RECORD_RETRY_DELAYS, None):
        try:
            return Notification.objects.filter(_mine(notification)).update(**fields)
        except (OperationalError, InterfaceError) as error:
            if connection.in_atomic_block:
                raise
            # Django opens a new connection for the next query; a broken one may fail to
            # close, and is dropped all the same.
            with contextlib.suppress(Error):
                connection.close()
            if delay is None:
                raise
            logger.warning(
                "Recording notification %s lost its database connection (%s); retrying in %s s",
                notification.pk,
                error,
                delay,
            )
            time.sleep(delay)
    raise AssertionError("unreachable: the last try returns or raises")


def _finish(notification: Notification, status: str, **fields) -> int:
    return _record(notification, status=status, lease_until=None, last_error="", **fields)


def _mark_sent(notification: Notification) -> None:
    """The mail server accepted the message: mark the row sent, through lost connections. If
    that fails for good, the row stays "sending" and the sweep will send it again after its
    lease: the one duplicate left, logged as an error so an operator can tell it apart."""
    try:
        changed = _finish(notification, Notification.Status.SENT, sent_at=timezone.now())
    except Error:
        logger.exception(
            "Notification %s (%s, key %r) was DELIVERED but could not be marked sent; the sweep "
            "will send it again once its lease runs out (a duplicate, Message-ID %s)",
            notification.pk,
            notification.kind,
            notification.key,
            message_id(notification.key),
        )
        raise
    mine_sent = Notification.objects.filter(
        pk=notification.pk, status=Notification.Status.SENT, attempts=notification.attempts
    )
    if changed or mine_sent.exists():
        return  # marked now, or by an earlier try whose answer was lost with the connection
    # Another send claimed the row after this one's lease ran out (a send slower than the
    # lease), and sends it again.
    logger.error(
        "Notification %s (%s) was delivered after its lease ran out and was claimed again; "
        "it may arrive twice (Message-ID %s)",
        notification.pk,
        notification.kind,
        message_id(notification.key),
    )


def _failed(notification: Notification, error: Exception) -> None:
    """Back to pending, to be retried by the sweep after a pause; failed for good after
    MAX_ATTEMPTS, so one bad address does not retry for ever."""
    attempts = notification.attempts  # counted when the row was claimed
    give_up = attempts >= MAX_ATTEMPTS
    logger.warning(
        "Sending notification %s (%s) failed, attempt %s: %s",
        notification.pk,
        notification.kind,
        attempts,
        error,
    )
    _record(
        notification,
        status=Notification.Status.FAILED if give_up else Notification.Status.PENDING,
        lease_until=None,
        not_before=timezone.now() + retry_delay(attempts),
        last_error=f"{type(error).__name__}: {error}"[:500],
    )


def notifications_due(*, now: datetime | None = None) -> list[int]:
    """The ids the sweep hands to the send task: pending and due, or claimed by a send whose
    lease ran out (a worker died). Oldest first, a batch at a time."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(_claimable(now), attempts__lt=MAX_ATTEMPTS)
        .order_by("not_before", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )

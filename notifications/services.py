"""The outbox, as the apps use it: ``notify`` writes a message's row inside the caller's
transaction and queues its send after commit (notifications/sending.py sends it); the "what
is due" scans ask through ``ask_unasked``; ``notifications_cancel`` withdraws what is unsent.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar, cast

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from notifications import tasks
from notifications.hours import sensible_time
from notifications.kinds import KINDS
from notifications.models import Notification
from notifications.sending import publish


class Addressee(Protocol):
    """A participant as the outbox sees one: the row of ``Notification.person``'s model."""

    email: str
    time_zone: str


# Whom a message goes to: a participant, whose time zone sets the hour, a user account, or a
# bare address.
Recipient = Addressee | User | str


def _as_person(to: Recipient) -> Addressee | None:
    """``to`` when it is a row of the model ``Notification.person`` points to."""
    model = Notification._meta.get_field("person").related_model
    return to if isinstance(to, model) else None  # type: ignore[arg-type, return-value]


T = TypeVar("T")


def notify(
    *,
    kind: str,
    key: str,
    to: Recipient,
    about: models.Model | None = None,
    data: dict | None = None,
    not_before: datetime | None = None,
) -> None:
    """Ask for one message, inside the transaction of the change that causes it. Asking again
    with the same ``key`` does nothing, whatever became of the first. The send is queued once
    the transaction commits; if the broker is down then, the sweep sends it later."""
    notify_each(kind=kind, messages=[(key, to, about)], data=data, not_before=not_before)


def notify_each(
    *,
    kind: str,
    messages: Iterable[tuple[str, Recipient, models.Model | None]],
    data: dict | None = None,
    not_before: datetime | None = None,
) -> None:
    """``notify`` for many messages of one kind, each (key, to, about), in one INSERT: a
    change that concerns many people (an approved matching) asks for all their messages in a
    fixed number of queries."""
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of notification: {kind}")
    programme_path = KINDS[kind].programme_path
    now = timezone.now()
    rows = []
    for key, to, about in messages:
        person = _as_person(to)
        user = to if isinstance(to, User) else None
        email = to if isinstance(to, str) else to.email
        when = not_before or now
        if person is not None and KINDS[kind].quiet_hours:
            when = sensible_time(when, person.time_zone)
        row = Notification(
            kind=kind,
            key=key,
            to_email=email,
            person=cast(Any, person),  # a row of the model the field names (see _as_person)
            user=user,
            data=data or {},
            not_before=when,
        )
        if about is not None:
            row.content_type = ContentType.objects.get_for_model(about)
            row.object_id = about.pk
            row.programme_id = _programme_of(about, programme_path)
        rows.append(row)
    # ON CONFLICT DO NOTHING: a repeat leaves the first row alone and, unlike catching an
    # IntegrityError, does not break the caller's transaction on PostgreSQL.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    due_now = [row.key for row in rows if row.not_before <= timezone.now() + timedelta(seconds=1)]
    if due_now:
        transaction.on_commit(_queue(due_now), robust=True)


def _programme_of(about: models.Model, path: str | None) -> Any:
    """The id of the programme ``about`` belongs to, by the kind's ``programme_path``: a
    subquery the INSERT runs, so asking costs no query of its own whatever ``about`` has
    loaded."""
    if path is None:
        return None
    if not path:
        return about.pk
    found = type(about)._default_manager.filter(pk=about.pk).values(path)[:1]
    return models.Subquery(found)


def keys_asked(keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` the outbox holds already, in one query: a scan that runs every few
    minutes skips them instead of trying the same insert again and again."""
    return set(Notification.objects.filter(key__in=list(keys)).values_list("key", flat=True))


def ask_unasked(items: Iterable[T], *, key: Callable[[T], str], ask: Callable[[T], None]) -> int:
    """What every "what is due" scan does with its candidates: ``ask`` for each item whose
    ``key`` the outbox does not hold yet, each in its own transaction (one failure does not
    undo the others). Returns how many were asked."""
    items = list(items)
    done = keys_asked(key(item) for item in items)
    asked = 0
    for item in items:
        if key(item) in done:
            continue
        with transaction.atomic():
            ask(item)
        asked += 1
    return asked


def _queue(keys: list[str]):
    def queue_send() -> None:
        pk = Notification.objects.filter(
            key__in=keys, status=Notification.Status.PENDING
        ).values_list("pk", flat=True)
        for notification_id in pk:
            if not publish(partial(tasks.send_notification.delay, notification_id)):
                return  # the rest stay pending too: the sweep sends them

    return queue_send


def notifications_cancel(*, about: models.Model, kinds: list[str] | None = None) -> int:
    """Cancel the unsent messages about ``about`` (of ``kinds``, or all), e.g. when a pair is
    paused. Returns how many."""
    return _cancel(type(about), kinds, object_id=about.pk)


def notifications_cancel_about_any(rows: QuerySet, *, kinds: list[str] | None = None) -> int:
    """Cancel the unsent messages about any of ``rows`` (a queryset of one model), in one
    UPDATE however many rows and messages there are. Returns how many."""
    return _cancel(rows.model, kinds, object_id__in=rows.values("pk"))


def _cancel(model: type[models.Model], kinds: list[str] | None, **about: object) -> int:
    pending = Notification.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        status=Notification.Status.PENDING,
        **about,
    )
    if kinds is not None:
        pending = pending.filter(kind__in=kinds)
    return pending.update(status=Notification.Status.CANCELLED)

"""Password resets for sponsors and managers, through the outbox.

The page records the request and asks the outbox for one message, whatever the address: no
account is looked up and nothing is sent while it answers, so known and unknown addresses
take the same path (the same queries, the same rows) and get the same page. The send, in a
worker, finds the accounts that use the address and mails each a reset link made then; for
an address nobody uses, the message is cancelled.

Limits, per address (PASSWORD_RESET_PER_ADDRESS and _DAILY) and per client
(PASSWORD_RESET_PER_CLIENT, the client as lib.clients.client_ip sees it), apply to known and
unknown addresses alike; a refused request stores nothing and gets the same page too.
"""

import logging
from functools import reduce
from operator import or_
from typing import cast

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import notify
from programmes.models import PasswordResetRequest

logger = logging.getLogger(__name__)

KIND = "password_reset"


def reset_link_lifetime() -> str:
    """PASSWORD_RESET_TIMEOUT in words: "3 days", "12 hours"."""
    hours = max(1, round(settings.PASSWORD_RESET_TIMEOUT / 3600))
    if hours % 24 == 0:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _over_limit(*, email: str, ip_address: str | None) -> bool:
    """One query: the address's requests in the short and the long window, the client's in
    its window."""
    checks = [
        (Q(email=email), *settings.PASSWORD_RESET_PER_ADDRESS),
        (Q(email=email), *settings.PASSWORD_RESET_PER_ADDRESS_DAILY),
    ]
    if ip_address:
        checks.append((Q(ip_address=ip_address), *settings.PASSWORD_RESET_PER_CLIENT))
    now = timezone.now()
    longest = max(window for _, _, window in checks)
    counts = PasswordResetRequest.objects.filter(
        reduce(or_, (match for match, _, _ in checks)), requested_at__gt=now - longest
    ).aggregate(
        **{
            f"n{i}": Count("pk", filter=match & Q(requested_at__gt=now - window))
            for i, (match, _, window) in enumerate(checks)
        }
    )
    return any(counts[f"n{i}"] >= most for i, (_, most, _) in enumerate(checks))


def password_reset_request_create(*, email: str, ip_address: str | None) -> bool:
    """Record a reset request for ``email`` (validated by the form) and ask the outbox for its
    message, unless the address or the client is over a limit. Returns whether it was
    accepted; the page must not tell.

    Concurrent requests can overshoot a limit by the number in flight: the limits protect an
    inbox from a flood, not from two clicks at once.
    """
    email = email.strip().lower()
    with transaction.atomic():
        if _over_limit(email=email, ip_address=ip_address):
            logger.info("Rate-limited a password reset from %s", ip_address or "an unknown IP")
            return False
        reset_request = PasswordResetRequest.objects.create(
            email=email, ip_address=ip_address or None
        )
        notify(
            kind=KIND,
            key=f"{KIND}:{reset_request.pk}",
            to=email,
            about=reset_request,
        )
    return True


def reset_url(user) -> str:
    """The one-time link Django's PasswordResetConfirmView checks, on SITE_URL: it stops
    working once the password changes or after PASSWORD_RESET_TIMEOUT from now."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


def _eligible(email: str) -> list[User]:
    # Django's own rule: active accounts with a usable password whose address matches.
    return sorted(PasswordResetForm().get_users(email), key=lambda user: user.pk)


def password_reset(notification: Notification) -> Message | None:
    """The builder of ``password_reset``: nothing for an address no account uses. When several
    accounts share the address, this message goes to the first and each other one gets its
    own, so every link opens exactly one account."""
    if notification.user_id is not None:
        user = cast(User, notification.user)
        eligible = {u.pk for u in _eligible(user.email)} if user.email else set()
        if user.pk not in eligible:
            return None
    else:
        reset_request = PasswordResetRequest.objects.filter(pk=notification.object_id).first()  # type: ignore[misc]  # pk=None is a valid lookup
        if reset_request is None:
            return None
        users = _eligible(reset_request.email)
        if not users:
            return None
        user, *others = users
        for other in others:
            notify(kind=KIND, key=f"{notification.key}:{other.pk}", to=other, about=reset_request)
        notification.user = user
        notification.to_email = user.email
        Notification.objects.filter(pk=notification.pk).update(user=user, to_email=user.email)
    return Message(
        {
            "recipient_name": user.get_full_name() or user.get_username(),
            "reset_url": reset_url(user),
            "valid_for": reset_link_lifetime(),
            "site_url": settings.SITE_URL,
        }
    )

"""Throttled sign-in for sponsors and managers (django-axes, configured in settings): failed
attempts are counted in the database, per account and per client, and a locked-out attempt
gets a page that says when to try again.

django-axes compares one failure count with one limit; ``LoginThrottle`` gives the account
and the client each their own (AXES_FAILURE_LIMIT and AXES_CLIENT_FAILURE_LIMIT), so a
guesser is stopped after a few tries at one account and after a few more spread over many.
"""

import math
from datetime import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


class LoginThrottle(AxesDatabaseHandler):
    """Locked when the account has AXES_FAILURE_LIMIT failures within the cool-off, or the
    client has AXES_CLIENT_FAILURE_LIMIT whatever usernames it tried."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        by_account, by_client = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        # On the account's scale, the one axes compares with AXES_FAILURE_LIMIT.
        if by_client >= settings.AXES_CLIENT_FAILURE_LIMIT:
            return max(by_account, settings.AXES_FAILURE_LIMIT)
        return by_account


def attempted_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """AXES_USERNAME_CALLABLE: the name typed, as axes reads it, cut to the 255 characters
    its table holds. Django's sign-in form does not check a name's length before trying it,
    so a longer one would fail to be recorded (a server error); no account's name is longer
    than 150 characters, so the cut never merges a real account with another."""
    field = settings.AXES_USERNAME_FORM_FIELD  # type: ignore[misc]  # axes sets its default
    typed = credentials.get(field) if credentials else request.POST.get(field)
    return typed[:255] if isinstance(typed, str) else typed


def lockout_ends(request: HttpRequest, credentials: dict | None = None) -> datetime:
    """When the latest failure that counts against this account or client leaves the
    cool-off window (failures during a lockout are not counted, so it does not move)."""
    username = get_client_username(request, credentials)
    ip_address = getattr(request, "axes_ip_address", None)
    latest = AccessAttempt.objects.filter(
        Q(username=username) | Q(ip_address=ip_address)
    ).aggregate(latest=Max("attempt_time"))["latest"]
    return (latest or timezone.now()) + get_cool_off(request)


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the page for /accounts/login/ and /admin/login/ alike. It says
    the same for a locked account and a locked client, and whether or not the account
    exists."""
    ends = lockout_ends(request, credentials)
    minutes = max(1, math.ceil((ends - timezone.now()).total_seconds() / 60))
    context = {"ends": ends, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)

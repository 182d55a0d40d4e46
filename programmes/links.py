"""Signed links for participants, who never have a password.

Each link names one participant and one purpose and carries its own expiry, all signed with
the project's SECRET_KEY: changing any character breaks the signature. A link for one purpose
is refused by the pages of another, with a message that says which link to use.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from enum import StrEnum
from functools import wraps
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from programmes.models import Participant

SALT = "mentoring.participant-link"


class Purpose(StrEnum):
    INTAKE = "intake"
    PAIR = "pair"
    PULSE = "pulse"
    FEEDBACK = "feedback"
    CHECKIN = "checkin"

    @property
    def label(self) -> str:
        return {
            "intake": "intake form",
            "pair": "pair page",
            "pulse": "session questions",
            "feedback": "programme questions",
            "checkin": "check-in",
        }[self]

    @property
    def scoped(self) -> bool:
        """Whether a link for this purpose also names what it is about: the session for a
        pulse, the moment (mid-point or end) for the programme questions, the check-in for a
        check-in."""
        return self in (Purpose.PULSE, Purpose.FEEDBACK, Purpose.CHECKIN)


DEFAULT_LIFETIME = {
    Purpose.INTAKE: timedelta(days=30),
    Purpose.PAIR: timedelta(days=120),
    Purpose.PULSE: timedelta(days=14),
    Purpose.FEEDBACK: timedelta(days=30),
    Purpose.CHECKIN: timedelta(days=30),
}
URL_NAMES = {
    Purpose.INTAKE: "programmes:intake",
    Purpose.PAIR: "pairs:pair",
    Purpose.PULSE: "surveys:pulse",
    Purpose.FEEDBACK: "surveys:feedback",
    Purpose.CHECKIN: "risks:checkin",
}
# A pair page link lasts for the cohort and a month after it, so the last pulses and notes
# can still be reached; the resend page renews it.
PAIR_LINK_GRACE = timedelta(days=30)


def pair_link_expiry(cohort_ends_on: date) -> datetime:
    return datetime.combine(cohort_ends_on + PAIR_LINK_GRACE, clock_time.min, tzinfo=UTC)


class LinkError(Exception):
    """Why a link cannot be used, in words for the person holding it."""

    def __init__(self, reason: str, purpose: Purpose | None = None) -> None:
        super().__init__(reason)
        self.reason = reason  # "tampered", "expired" or "wrong_purpose"
        self.purpose = purpose


@dataclass(frozen=True)
class LinkClaims:
    participant_id: int
    purpose: Purpose
    expires_at: int  # Unix time
    scope: str = ""  # a scoped purpose's subject: a meeting id, a moment


def make_token(
    *,
    participant_id: int,
    purpose: Purpose,
    expires_at: datetime | None = None,
    scope: str | int = "",
) -> str:
    if purpose.scoped != bool(str(scope)):
        raise ValueError(f"A {purpose} link {'needs' if purpose.scoped else 'takes no'} scope")
    expiry = (
        int(expires_at.timestamp())
        if expires_at
        else int(time.time() + DEFAULT_LIFETIME[purpose].total_seconds())
    )
    data = {"p": participant_id, "u": str(purpose), "e": expiry}
    if purpose.scoped:
        data["s"] = str(scope)
    return signing.dumps(data, salt=SALT)


def read_token(token: str, *, purpose: Purpose) -> LinkClaims:
    """The claims of a genuine, unexpired token for ``purpose``; raises LinkError otherwise."""
    try:
        data = signing.loads(token, salt=SALT)
        claims = LinkClaims(
            participant_id=int(data["p"]),
            purpose=Purpose(data["u"]),
            expires_at=int(data["e"]),
            scope=str(data.get("s", "")),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise LinkError("tampered") from exc
    if claims.purpose.scoped != bool(claims.scope):
        raise LinkError("tampered")
    if claims.purpose != purpose:
        raise LinkError("wrong_purpose", claims.purpose)
    if claims.expires_at < time.time():
        raise LinkError("expired", claims.purpose)
    return claims


def participant_url(
    *,
    participant_id: int,
    purpose: Purpose,
    expires_at: datetime | None = None,
    scope: str | int = "",
    pair_id: int | None = None,
) -> str:
    """The absolute link, built from SITE_URL (never from a request's Host header). A pair
    link with ``pair_id`` opens that pair's page (the participant must be in it); without,
    the participant's only pair, or the chooser when they have several."""
    token = make_token(
        participant_id=participant_id, purpose=purpose, expires_at=expires_at, scope=scope
    )
    if pair_id is not None and purpose != Purpose.PAIR:
        raise ValueError(f"A {purpose} link names no pair")
    args: list[str | int] = [token] if pair_id is None else [token, pair_id]
    return settings.SITE_URL + reverse(URL_NAMES[purpose], args=args)


ParticipantView = Callable[..., HttpResponse]


def participant_link_required(
    purpose: Purpose, *, lock_on_post: bool = False
) -> Callable[[ParticipantView], ParticipantView]:
    """Turns ``view(request, participant, *, token)`` into a view of ``(request, token)`` that
    runs only for a valid link; any other link gets a page that says what happened and how to
    get a new one. A scoped purpose's view also gets ``scope`` (a string from the signed
    link, so it can be trusted but must still be checked against the participant).

    With ``lock_on_post``, a POST runs in one transaction that starts by locking the
    participant's row (in the same query that loads it), so one participant's submissions
    are saved one at a time. The view rolls back with ``transaction.set_rollback`` and should
    answer with a TemplateResponse, which is rendered after the transaction has ended."""

    def decorator(view: ParticipantView) -> ParticipantView:
        @wraps(view)
        def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                claims = read_token(token, purpose=purpose)
            except LinkError as error:
                return link_problem(
                    request, reason=error.reason, purpose=purpose, held=error.purpose
                )
            if purpose.scoped:
                kwargs["scope"] = claims.scope
            if not (lock_on_post and request.method == "POST"):
                return _call(view, request, claims, purpose, False, token, *args, **kwargs)
            with transaction.atomic():
                return _call(view, request, claims, purpose, True, token, *args, **kwargs)

        return wrapper

    return decorator


def _call(
    view: ParticipantView,
    request: HttpRequest,
    claims: LinkClaims,
    purpose: Purpose,
    lock: bool,
    token: str,
    *args: Any,
    **kwargs: Any,
) -> HttpResponse:
    participants = Participant.objects.select_related("person", "cohort__programme")
    if lock:
        participants = participants.select_for_update(of=("self",))
    participant = (
        participants.filter(pk=claims.participant_id)
        .exclude(status=Participant.Status.WITHDRAWN)
        .first()
    )
    if participant is None:
        return link_problem(request, reason="ended", purpose=purpose)
    return view(request, participant, *args, token=token, **kwargs)


def link_problem(
    request: HttpRequest, *, reason: str, purpose: Purpose, held: Purpose | None = None
) -> HttpResponse:
    status = {"expired": 410, "ended": 404, "not_yours": 404}.get(reason, 400)
    context = {"reason": reason, "purpose": purpose, "held": held}
    return render(request, "surveys/link_problem.html", context, status=status)

"""The messages of risks: the missed-meetings check-in, its answer to managers, and the
managers' weekly digest of open flags.
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from lib.users import user_name
from notifications.kinds import Message
from notifications.models import Notification
from notifications.services import notify
from pairs.models import Pair
from programmes.links import Purpose, participant_url
from programmes.models import Participant, Programme
from risks.models import CheckIn, PairRisk, RiskFlag
from risks.score import WATCH

# --- The missed-meetings check-in (risks/checkins.py) ------------------------------------


def ask_checkin(checkin: CheckIn) -> None:
    """After two missed sessions (the scan, with a trigger) or from a manager (no trigger):
    the same question and answers, each with its own wording."""
    notify(
        kind="checkin" if checkin.trigger_id else "checkin_manager",
        key=f"checkin:{checkin.pk}",
        to=checkin.participant.person,
        about=checkin,
    )


def checkin_urls(checkin: CheckIn) -> dict[str, str]:
    """One signed link per answer; the answer only preselects a choice on the page, where one
    tap confirms it (a mail scanner opening a link changes nothing)."""
    url = participant_url(
        participant_id=checkin.participant_id, purpose=Purpose.CHECKIN, scope=checkin.pk
    )
    return {f"{choice}_url": f"{url}?answer={choice}" for choice in CheckIn.Choice.values}


def _checkin_for(notification: Notification) -> CheckIn | None:
    return (
        CheckIn.objects.select_related(  # type: ignore[misc]  # pk=None is a valid lookup
            "participant__person",
            "pair__cohort__programme",
            "pair__mentee__person",
            "pair__reverse_mentor__person",
        )
        .filter(pk=notification.object_id)
        .first()
    )


def checkin(notification: Notification) -> Message | None:
    """Nothing once the question is answered, or the pair is no longer active (paused, by
    the partner's answer for one, or ended). Builds both kinds, ``checkin`` (the scan's,
    after two missed sessions) and ``checkin_manager`` (sent from an at-risk flag)."""
    found = _checkin_for(notification)
    if (
        found is None
        or found.choice
        or found.pair.status != Pair.Status.ACTIVE
        or found.participant.status == Participant.Status.WITHDRAWN
    ):
        return None
    pair, participant = found.pair, found.participant
    partner = pair.reverse_mentor if participant.pk == pair.mentee_id else pair.mentee
    return Message(
        {
            "person": participant.person,
            "partner": partner.person,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "site_url": settings.SITE_URL,
            **checkin_urls(found),
        }
    )


def ask_checkin_answer(checkin: CheckIn, choice: str, *, paused_until: date | None = None) -> None:
    """To each of the programme's managers with an address; never to the partner. Once per
    check-in and choice, however often the answer is given."""
    programme = checkin.pair.cohort.programme
    data = {"choice": choice, "paused_until": paused_until.isoformat() if paused_until else ""}
    for manager in programme.managers.filter(is_active=True).exclude(email=""):
        notify(
            kind="checkin_answer",
            key=f"checkin_answer:{checkin.pk}:{choice}:{manager.pk}",
            to=manager,
            about=checkin,
            data=data,
        )


def checkin_answer(notification: Notification) -> Message | None:
    """Names, the pair and the choice only: the check-in has no free text."""
    choice = notification.data.get("choice")
    found = _checkin_for(notification)
    if found is None or choice not in (CheckIn.Choice.REMATCH, CheckIn.Choice.PAUSE):
        return None
    until = notification.data.get("paused_until") or ""
    pair = found.pair
    return Message(
        {
            "person": found.participant.person,
            "pair": pair,
            "programme": pair.cohort.programme,
            "cohort": pair.cohort,
            "choice": choice,
            "paused_until": date.fromisoformat(until) if until else None,
            "pair_admin_url": settings.SITE_URL
            + reverse("admin:pairs_pair_change", args=[pair.pk]),
            "site_url": settings.SITE_URL,
        },
        language=settings.LANGUAGE_CODE,
    )


# --- The managers' weekly digest (asked by the scan in risks/digests.py) ------------------


def risk_digest_key(user, year: int, week: int) -> str:
    return f"risk_digest:{user.pk}:{year}-W{week:02d}"


def ask_risk_digest(user, year: int, week: int, monday: date) -> None:
    notify(
        kind="risk_digest",
        key=risk_digest_key(user, year, week),
        to=user,
        data={"week_of": monday.isoformat()},
    )


def risk_digest(notification: Notification) -> Message | None:
    """The open at-risk flags of the pairs of each running programme the recipient still
    manages, grouped by pair, each with its reason, the playbook's recommended action, its
    age and its page in the admin: names, counts and dates, never what anyone wrote (the
    reasons come from the flags' evidence). Nothing is sent when no flag is open: a weekly
    "all is well" would teach managers to skip the digest. Each programme also lists its
    pairs to *watch* (the risk score between "watch" and "act", no flag open), highest score
    first, with the score's reasons (counts and dates). Three queries."""

    user = notification.user
    if user is None or not user.is_active:
        return None
    now = timezone.now()
    programmes = list(
        Programme.objects.filter(status=Programme.Status.RUNNING, managers=user).order_by("name")
    )
    flags = (
        RiskFlag.objects.filter(pair__cohort__programme__in=programmes, resolved_at__isnull=True)
        .select_related("pair__cohort", "pair__mentee__person", "pair__reverse_mentor__person")
        .order_by("severity", "opened_at", "pk")
    )
    # Per programme, pairs in the order of their most pressing flag (severity, then age).
    pairs: dict[int, dict[int, dict]] = {programme.pk: {} for programme in programmes}
    for flag in flags:
        pair = flag.pair
        entry = pairs[pair.cohort.programme_id].setdefault(
            pair.pk,
            {
                "pair": pair,
                "cohort": pair.cohort,
                "flags": [],
                # For wording saved before flags existed (it listed reasons and the pair).
                "reasons": [],
                "admin_url": settings.SITE_URL + reverse("admin:pairs_pair_change", args=[pair.pk]),
            },
        )
        entry["flags"].append(
            {
                "rule": flag.get_rule_display(),
                "severity": flag.get_severity_display(),
                "reason": flag.reason,
                "recommended_action": flag.recommended_action,
                "opened_on": timezone.localdate(flag.opened_at),
                "days_open": (now - flag.opened_at).days,
                "admin_url": settings.SITE_URL
                + reverse("admin:risks_riskflag_change", args=[flag.pk]),
            }
        )
        entry["reasons"].append(flag.reason)
    watch = _watch(programmes, flagged={pk for its in pairs.values() for pk in its})
    listed: list[dict[str, Any]] = [
        {
            "programme": programme,
            "pairs": list(pairs[programme.pk].values()),
            "watch": watch[programme.pk],
        }
        for programme in programmes
        if pairs[programme.pk] or watch[programme.pk]
    ]
    if not listed:
        return None
    return Message(
        {
            "recipient_name": user_name(user),
            "week_of": date.fromisoformat(notification.data["week_of"]),
            "programmes": listed,
            "pair_count": sum(len(entry["pairs"]) for entry in listed),
            "flag_count": sum(len(item["flags"]) for entry in listed for item in entry["pairs"]),
            "watch_count": sum(len(entry["watch"]) for entry in listed),
            "site_url": settings.SITE_URL,
        },
        language=settings.LANGUAGE_CODE,
    )


def _watch(programmes: list[Programme], *, flagged: set[int]) -> dict[int, list[dict]]:
    """Per programme, its active pairs at the score's "watch" level with no open flag,
    highest score first. One query."""
    watch: dict[int, list[dict]] = {programme.pk: [] for programme in programmes}
    rows = (
        PairRisk.objects.filter(
            level=WATCH,
            pair__status=Pair.Status.ACTIVE,
            pair__cohort__programme__in=programmes,
        )
        .select_related("pair__cohort", "pair__mentee__person", "pair__reverse_mentor__person")
        .order_by("-probability", "pair_id")
    )
    for row in rows:
        if row.pair_id in flagged:
            continue
        watch[row.pair.cohort.programme_id].append(
            {
                "pair": row.pair,
                "cohort": row.pair.cohort,
                "chance": round(row.probability * 100),
                "reasons": list(row.reasons),
                "admin_url": settings.SITE_URL
                + reverse("admin:pairs_pair_change", args=[row.pair_id]),
            }
        )
    return watch

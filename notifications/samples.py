"""Sample data for previewing and checking a message's wording: one made-up value per
placeholder name, shared by every kind, so a new kind gets a preview as soon as each of its
placeholders has a value here.

Plain values and dicts shaped like each kind's declaration (notifications/kinds.py), made
into exactly what a send renders by the same projection (``Kind.project``): nothing here is a
record of the database, and a sample missing an attribute the kind declares fails its test."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notifications.kinds import KINDS

SAMPLE_SITE = "https://example.org"


class MissingSample(LookupError):
    """A kind uses a placeholder that has no sample value yet: add one to ``sample_values``."""

    def __init__(self, kind: str, names: list[str]) -> None:
        self.kind = kind
        self.names = names
        super().__init__(
            f"No sample value for {', '.join(names)} (used by {kind}): "
            "add one in notifications/samples.py."
        )


def sample_values(kind: str = "") -> dict[str, Any]:
    """Fresh sample values by placeholder name (a new set each call, so a caller may change
    them). ``kind`` only tunes a few details so that each preview reads true: a cancelled
    session in the cancellation, a held one in the "marked" message."""
    programme = {"name": "Inclusive Leadership"}
    cohort = {
        "name": "Summer 2026",
        "starts_on": date(2026, 6, 1),
        "ends_on": date(2026, 8, 31),
        "programme": programme,
    }
    person = {"full_name": "Alex Sample"}
    zone = "Europe/London"
    partner = {
        "full_name": "Sam Example",
        "email": "sam.example@example.org",
        "job_title": "Chief operating officer",
        "department": "Operations",
    }
    participant = {
        "role": "reverse_mentor",
        "get_role_display": "Reverse-mentor",
        "cohort": cohort,
    }
    partner_participant = {"role": "mentee", "get_role_display": "Mentee (executive)"}
    pair = {
        "mentee": {"person": partner},
        "reverse_mentor": {"person": person},
        "status": "active",
        "get_status_display": "Active",
        "started_on": date(2026, 6, 8),
    }
    # British Summer Time: a time shown in UTC by mistake is an hour out.
    starts = datetime(2026, 6, 16, 13, 0, tzinfo=UTC)
    meeting: dict[str, Any] = {
        "status": "scheduled",
        "get_status_display": "Scheduled",
        "duration_minutes": 45,
        "topic": {"title": "How younger customers choose a bank"},
    }
    if kind == "meeting_cancelled":
        meeting |= {"status": "cancelled", "get_status_display": "Cancelled"}
    elif kind == "meeting_marked":
        meeting |= {"status": "held", "get_status_display": "Held"}
    agreement = {
        "number": 1,
        "proposed_by": "mentee",
        "driver": "reverse_mentor",
        "get_driver_display": "Reverse-mentor",
        "cadence": "fortnightly",
        "get_cadence_display": "Every two weeks",
        "meeting_mode": "video",
        "get_meeting_mode_display": "Video call",
    }
    story = {"title": "A director now tests every new policy with graduates first"}
    pair_url = f"{SAMPLE_SITE}/pair/sample/"
    intake_url = f"{SAMPLE_SITE}/intake/sample/"
    pulse_url = f"{SAMPLE_SITE}/pulse/sample/"
    return {
        "person": person,
        "partner": partner,
        "participant": participant,
        "partner_participant": partner_participant,
        "programme": programme,
        "cohort": cohort,
        "pair": pair,
        "meeting": meeting,
        "agreement": agreement,
        "story": story,
        "led_by": person,
        "starts": starts,
        "ends": starts + timedelta(minutes=meeting["duration_minutes"]),
        "zone": zone,
        "sessions": [
            (starts + timedelta(days=days)).astimezone(ZoneInfo(zone)) for days in (14, 28)
        ],
        "site_url": SAMPLE_SITE,
        "pair_url": pair_url,
        "intake_url": intake_url,
        "held_url": f"{pulse_url}?held=yes",
        "not_held_url": f"{pulse_url}?held=no",
        "feedback_url": f"{SAMPLE_SITE}/feedback/sample/",
        "pair_admin_url": f"{SAMPLE_SITE}/admin/pairs/pair/sample/change/",
        "places": [
            {
                "participant": participant,
                "links": [("Your intake form", intake_url), ("Your pair page", pair_url)],
            }
        ],
        "days": 3,
        "reset_url": f"{SAMPLE_SITE}/accounts/reset/sample/set-password/",
        "valid_for": "3 days",
        "continue_url": f"{SAMPLE_SITE}/checkin/sample/?answer=continue",
        "rematch_url": f"{SAMPLE_SITE}/checkin/sample/?answer=rematch",
        "pause_url": f"{SAMPLE_SITE}/checkin/sample/?answer=pause",
        "choice": "pause",
        "paused_until": date(2026, 7, 16),
        "moment": "midpoint",
        "moment_label": "Mid-point questions",
        "closes_on": date(2026, 7, 31),
        # The digests to managers and sponsors, who are users rather than people.
        "recipient_name": person["full_name"],
        "week_of": date(2026, 6, 15),
        "programmes": [
            {
                "programme": programme,
                "pairs": [
                    {
                        "pair": pair,
                        "cohort": cohort,
                        "flags": [
                            {
                                "rule": "Missed or cancelled sessions",
                                "severity": "Medium",
                                "reason": "The last 2 sessions did not happen (missed or "
                                "cancelled), the latest on 9 Jun 2026.",
                                "recommended_action": "Send the check-in: ask both whether "
                                "they can continue, or would rather be re-matched or pause "
                                "for a month.",
                                "opened_on": date(2026, 6, 10),
                                "days_open": 5,
                                "admin_url": f"{SAMPLE_SITE}/admin/risks/riskflag/sample/change/",
                            }
                        ],
                        "reasons": [
                            "The last 2 sessions did not happen (missed or cancelled), the "
                            "latest on 9 Jun 2026."
                        ],
                        "admin_url": f"{SAMPLE_SITE}/admin/pairs/pair/sample/change/",
                    }
                ],
                # Pairs to watch: the risk score rising, no flag yet (risks/score.py).
                "watch": [
                    {
                        "pair": pair,
                        "cohort": cohort,
                        "chance": 38,
                        "reasons": [
                            "20 days since the last held session (26 May 2026), against a "
                            "cadence of 14 days",
                            "no session booked in the next 14 days",
                        ],
                        "admin_url": f"{SAMPLE_SITE}/admin/pairs/pair/sample/change/",
                    }
                ],
            }
        ],
        "pair_count": 1,
        "flag_count": 1,
        "watch_count": 1,
        "month": date(2026, 5, 1),
        "figures": [
            {
                "label": "Session frequency",
                "text": "1.8",
                "mark": "Watch",
                "target": "target 2 a month",
                "suppressed": False,
            },
            {
                "label": "Pulse response rate",
                "text": "74%",
                "mark": "On track",
                "target": "target 70%",
                "suppressed": False,
            },
            {
                "label": "Programme NPS",
                "text": "fewer than 5 responses",
                "mark": "",
                "target": "target +30",
                "suppressed": True,
            },
        ],
        "ask": "Please mention the programme at the June town hall.",
        "min_group": 5,
        "status_url": f"{SAMPLE_SITE}/sponsor/inclusive-leadership/2026-05/",
        "sign_in_url": f"{SAMPLE_SITE}/sponsor/inclusive-leadership/2026-05/",
    }


def sample_context(kind: str) -> dict[str, Any]:
    """Exactly the kind's placeholders, with sample values, as a send hands them to the
    renderer; raises MissingSample when one of them has none (a test makes sure every
    registered kind has all of its values)."""
    values = sample_values(kind)
    placeholders = KINDS[kind].placeholders
    missing = [name for name in placeholders if name not in values]
    if missing:
        raise MissingSample(kind, missing)
    return KINDS[kind].project({name: values[name] for name in placeholders})

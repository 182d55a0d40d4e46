"""The messages of a pair's life: its terms, its sessions, its end (built in
pairs/notices.py), and the records other apps' messages about a pair may name."""

from notifications.kinds import PARTICIPANT_MESSAGE, PERSON, VALUE, Kind
from notifications.schema import ListOf, Schema, fields

# A pair, as managers' messages name it (the pair page and the admin hold the rest).
PAIR = fields(
    "mentee.person.full_name",
    "reverse_mentor.person.full_name",
    "status",
    "get_status_display",
    "started_on",
)
MEETING = fields("status", "get_status_display", "duration_minutes", "topic.title")
# The terms proposed, as choices; "how to cancel" is the proposer's own text, read on the
# pair page.
AGREEMENT = fields(
    "number",
    "proposed_by",
    "driver",
    "get_driver_display",
    "cadence",
    "get_cadence_display",
    "meeting_mode",
    "get_meeting_mode_display",
)

# How a message reaches its programme (Kind.programme_path) from a pair, and from a record of
# a pair (an agreement, a session, a check-in, a story).
ABOUT_PAIR = "cohort__programme"
ABOUT_PAIR_S_RECORD = "pair__cohort__programme"

# What every message to one side of a pair offers.
PAIR_MESSAGE: dict[str, Schema] = PARTICIPANT_MESSAGE | {"partner": PERSON, "pair_url": VALUE}
_MEETING: dict[str, Schema] = PAIR_MESSAGE | {
    "meeting": MEETING,
    "starts": VALUE,
    "ends": VALUE,
    "zone": VALUE,
}
_MEETING |= {"led_by": PERSON}

KINDS = [
    Kind(
        "agreement_proposed",
        "Agreement proposed by the partner",
        "pairs.notices.agreement_proposed",
        PAIR_MESSAGE | {"agreement": AGREEMENT},
        programme_path=ABOUT_PAIR_S_RECORD,
    ),
    *(
        Kind(
            f"meeting_{change}",
            f"Session {change} by the partner",
            "pairs.notices.meeting_update",
            _MEETING,
            programme_path=ABOUT_PAIR_S_RECORD,
        )
        for change in ("scheduled", "rescheduled", "cancelled", "marked")
    ),
    Kind(
        "pair_ended",
        "The pair has ended (its sessions still to come are cancelled)",
        "pairs.notices.pair_ended",
        PAIR_MESSAGE | {"sessions": ListOf(VALUE), "zone": VALUE},
        programme_path=ABOUT_PAIR,
    ),
    # Reminders, asked by beat's "what is due" scan (pairs/reminders.py).
    Kind(
        "agreement_reminder",
        "Agreement reminder, 3 days after the introduction",
        "pairs.notices.agreement_reminder",
        PAIR_MESSAGE | {"agreement": AGREEMENT},
        programme_path=ABOUT_PAIR,
    ),
    Kind(
        "session_reminder",
        "Session reminder, 24 hours ahead",
        "pairs.notices.session_reminder",
        _MEETING,
        programme_path=ABOUT_PAIR_S_RECORD,
    ),
]

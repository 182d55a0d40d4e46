"""The messages of pulses, links and programme questions (built in surveys/notices.py)."""

from notifications.kinds import COHORT, LINKS, PARTICIPANT, PERSON, PROGRAMME, VALUE, Kind
from notifications.schema import ListOf, Schema, fields
from pairs.kinds import MEETING, PAIR
from programmes.kinds import PARTICIPANT_PROGRAMME

PLACES = ListOf(
    fields(
        "participant.role",
        "participant.get_role_display",
        "participant.cohort.name",
        "participant.cohort.programme.name",
        links=LINKS,
    )
)
_PULSE: dict[str, Schema] = {
    "person": PERSON,
    "partner": PERSON,
    "programme": PROGRAMME,
    "meeting": MEETING,
}
# Pulse messages are about a pulse or its request, each of one session.
ABOUT_SESSION_S_RECORD = "meeting__pair__cohort__programme"
_PULSE |= dict.fromkeys(("starts", "zone", "held_url", "not_held_url"), VALUE)

KINDS = [
    Kind(
        "participant_links",
        "Links sent again on request",
        "surveys.notices.participant_links",
        {"person": PERSON, "places": PLACES, "site_url": VALUE},
        quiet_hours=False,
        # To a person, with their places in every programme: no one programme's.
    ),
    Kind(
        "pulse_request",
        "Pulse after a session",
        "surveys.notices.pulse_request",
        _PULSE,
        programme_path=ABOUT_SESSION_S_RECORD,
    ),
    Kind(
        "rematch_alert",
        "'Not a good fit' alert to managers",
        "surveys.notices.rematch_alert",
        {
            "person": PERSON,
            "pair": PAIR,
            "programme": PROGRAMME,
            "cohort": COHORT,
            "pair_admin_url": VALUE,
        },
        quiet_hours=False,
        programme_path=ABOUT_SESSION_S_RECORD,
    ),
    Kind(
        "feedback_request",
        "Programme questions at mid-point and end",
        "surveys.notices.feedback_request",
        {
            "person": PERSON,
            "participant": PARTICIPANT,
            "programme": PROGRAMME,
            "cohort": COHORT,
            **dict.fromkeys(
                ("moment", "moment_label", "feedback_url", "closes_on", "site_url"), VALUE
            ),
        },
        programme_path=PARTICIPANT_PROGRAMME,
    ),
    # Asked by beat's "what is due" scan (surveys/reminders.py).
    Kind(
        "pulse_nudge",
        "Pulse nudge, 48 hours after the pulse request",
        "surveys.notices.pulse_nudge",
        _PULSE,
        programme_path=ABOUT_SESSION_S_RECORD,
    ),
]

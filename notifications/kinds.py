"""Every kind of message the programme sends, in one list.

Each kind names the function that builds its message when it is sent (in the app that owns
the subject: ``<app>/notices.py``), the variables its wording may use, and whether it waits
for a sensible local hour. A builder takes the Notification and returns a ``Message``, or
None when the message is no longer wanted (the session was moved again, the pair paused): the
row is then cancelled, not sent.

The variables are an allow-list (notifications/schema.py): each names what it offers, and for
a record the exact attributes a wording may read: names, dates, links, counts. Never a user
account, never a record that points back (intakes, notes, pulses), and never free text written
by someone other than the recipient (a cancellation's reason, a pair's end reason, a manager's
notes): a recipient's mail is often read by others (an executive's assistant), and such text
stays on the pages of the people it is meant for. ``Kind.build`` hands on only what is
declared, as plain values and read-only records, so no template ever holds a model instance.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from django.utils.module_loading import import_string

from notifications.schema import VALUE, ListOf, Row, Schema, context_project, fields

if TYPE_CHECKING:
    from notifications.models import Notification


@dataclass
class Message:
    context: dict[str, Any]
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    language: str = ""


@dataclass(frozen=True, eq=False)
class Kind:
    name: str
    label: str
    builder: str  # dotted path of ``(Notification) -> Message | None``
    # Variable name -> what it offers (notifications.schema); a tuple of names declares plain
    # values (text, dates, links, counts) only.
    placeholders: Mapping[str, Schema] | tuple[str, ...]
    # Participants' and sponsors' mail waits for 08:00–20:00 where they live; a message
    # someone has just asked for (their links) or that a manager must act on goes at once.
    quiet_hours: bool = True

    def __post_init__(self) -> None:
        declared = self.placeholders
        if not isinstance(declared, Mapping):
            declared = dict.fromkeys(declared, VALUE)
        object.__setattr__(self, "placeholders", MappingProxyType(dict(declared)))

    def project(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """``context`` as a template may see it: only the declared variables, as plain values
        and read-only records (raises UndeclaredContext for anything else)."""
        placeholders = cast(Mapping[str, Schema], self.placeholders)  # made one in __post_init__
        return context_project(placeholders, context, kind=self.name)

    def build(self, notification: "Notification") -> Message | None:
        builder: Callable[[Notification], Message | None] = import_string(self.builder)
        message = builder(notification)
        if message is not None:
            message.context = self.project(message.context)
        return message


# What a message may say of each kind of thing. Free text appears only where the recipient
# is meant to read it and nobody else wrote it for someone else: a story's title (anonymised
# by a manager, and the very thing the recipient is asked to consent to), a sponsor's "what we
# need from you" (written by managers for sponsors), and flags' reasons (made from counts and
# dates, never typed).
PERSON = fields("full_name")
# The partner in the introduction: who they are and how to reach them, as the pair page shows.
PARTNER_INTRODUCED = fields("full_name", "job_title", "department", "email")
PROGRAMME = fields("name")
COHORT = fields("name", "starts_on", "ends_on")
PARTICIPANT = fields("role", "get_role_display")
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
STORY = fields("title")
LINKS = ListOf(Row((VALUE, VALUE)))  # (label, url)
PLACES = ListOf(
    fields(
        "participant.role",
        "participant.get_role_display",
        "participant.cohort.name",
        "participant.cohort.programme.name",
        links=LINKS,
    )
)
FLAG = fields(
    "rule", "severity", "reason", "recommended_action", "opened_on", "days_open", "admin_url"
)
DIGEST_PROGRAMMES = ListOf(
    fields(
        programme=PROGRAMME,
        pairs=ListOf(
            fields(
                "admin_url",
                pair=PAIR,
                cohort=COHORT,
                flags=ListOf(FLAG),
                reasons=ListOf(VALUE),
            )
        ),
    )
)
FIGURES = ListOf(fields("label", "text", "mark", "target", "suppressed"))

_PARTICIPANT: dict[str, Schema] = {
    "person": PERSON,
    "programme": PROGRAMME,
    "cohort": COHORT,
    "site_url": VALUE,
}
_PAIR: dict[str, Schema] = {**_PARTICIPANT, "partner": PERSON, "pair_url": VALUE}
_MEETING: dict[str, Schema] = {
    **_PAIR,
    "meeting": MEETING,
    "starts": VALUE,
    "ends": VALUE,
    "zone": VALUE,
}
_MEETING |= {"led_by": PERSON}
_CHECKIN: dict[str, Schema] = {
    "person": PERSON,
    "partner": PERSON,
    "programme": PROGRAMME,
    "cohort": COHORT,
}
_CHECKIN |= dict.fromkeys(("site_url", "continue_url", "rematch_url", "pause_url"), VALUE)
_PULSE: dict[str, Schema] = {
    "person": PERSON,
    "partner": PERSON,
    "programme": PROGRAMME,
    "meeting": MEETING,
}
_PULSE |= dict.fromkeys(("starts", "zone", "held_url", "not_held_url"), VALUE)

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in [
        Kind(
            "intake_invitation",
            "Intake invitation",
            "programmes.notices.intake_invitation",
            _PARTICIPANT | {"participant": PARTICIPANT, "intake_url": VALUE},
        ),
        Kind(
            "intake_confirmation",
            "Intake confirmation",
            "programmes.notices.intake_confirmation",
            _PARTICIPANT | {"participant": PARTICIPANT, "intake_url": VALUE},
            quiet_hours=False,
        ),
        Kind(
            "agreement_proposed",
            "Agreement proposed by the partner",
            "pairs.notices.agreement_proposed",
            _PAIR | {"agreement": AGREEMENT},
        ),
        *(
            Kind(
                f"meeting_{change}",
                f"Session {change} by the partner",
                "pairs.notices.meeting_update",
                _MEETING,
            )
            for change in ("scheduled", "rescheduled", "cancelled", "marked")
        ),
        Kind(
            "pair_ended",
            "The pair has ended (its sessions still to come are cancelled)",
            "pairs.notices.pair_ended",
            _PAIR | {"sessions": ListOf(VALUE), "zone": VALUE},
        ),
        Kind(
            "story_consent",
            "A success story awaits the participant's consent",
            "reporting.notices.story_consent",
            _PAIR | {"story": STORY},
        ),
        Kind(
            "match_introduction",
            "Match introduction",
            "matching.notices.match_introduction",
            _PAIR
            | {
                "partner": PARTNER_INTRODUCED,
                "participant": PARTICIPANT,
                "partner_participant": PARTICIPANT,
                "pair": PAIR,
            },
        ),
        Kind(
            "participant_links",
            "Links sent again on request",
            "surveys.notices.participant_links",
            {"person": PERSON, "places": PLACES, "site_url": VALUE},
            quiet_hours=False,
        ),
        Kind(
            "pulse_request",
            "Pulse after a session",
            "surveys.notices.pulse_request",
            _PULSE,
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
        ),
        # Reminders, asked by beat's "what is due" scans (programmes/ and surveys/reminders.py).
        Kind(
            "intake_reminder",
            "Intake reminder, 3 and 7 days after the invitation",
            "programmes.notices.intake_reminder",
            _PARTICIPANT | {"participant": PARTICIPANT, "intake_url": VALUE, "days": VALUE},
        ),
        Kind(
            "agreement_reminder",
            "Agreement reminder, 3 days after the introduction",
            "pairs.notices.agreement_reminder",
            _PAIR | {"agreement": AGREEMENT},
        ),
        Kind(
            "session_reminder",
            "Session reminder, 24 hours ahead",
            "pairs.notices.session_reminder",
            _MEETING,
        ),
        Kind(
            "pulse_nudge",
            "Pulse nudge, 48 hours after the pulse request",
            "surveys.notices.pulse_nudge",
            _PULSE,
        ),
        # The missed-meetings check-in (risks/checkins.py).
        Kind(
            "checkin",
            "Check-in after two missed or cancelled sessions",
            "risks.notices.checkin",
            _CHECKIN,
        ),
        # The same question, sent by a manager from an at-risk flag (risks/remediation.py):
        # its own wording, since it must not speak of missed meetings that did not happen.
        Kind(
            "checkin_manager",
            "Check-in sent by a manager from an at-risk flag",
            "risks.notices.checkin",
            _CHECKIN,
        ),
        Kind(
            "checkin_answer",
            "Check-in answer to managers: re-match or pause",
            "risks.notices.checkin_answer",
            {
                "person": PERSON,
                "pair": PAIR,
                "programme": PROGRAMME,
                "cohort": COHORT,
                **dict.fromkeys(("choice", "paused_until", "pair_admin_url", "site_url"), VALUE),
            },
            quiet_hours=False,
        ),
        # Digests to users, who have no time zone: the scans pick the hour (risks/digests.py).
        Kind(
            "risk_digest",
            "Weekly digest of open at-risk flags, to managers",
            "risks.notices.risk_digest",
            {
                "recipient_name": VALUE,
                "week_of": VALUE,
                "programmes": DIGEST_PROGRAMMES,
                "pair_count": VALUE,
                "flag_count": VALUE,
                "site_url": VALUE,
            },
            quiet_hours=False,
        ),
        Kind(
            "sponsor_status",
            "Monthly programme status, to sponsors",
            "reporting.notices.sponsor_status",
            {
                "recipient_name": VALUE,
                "programme": PROGRAMME,
                "month": VALUE,
                "figures": FIGURES,
                "ask": VALUE,
                "min_group": VALUE,
                "status_url": VALUE,
                # For wording saved before the status page existed (it linked to the sign-in).
                "sign_in_url": VALUE,
            },
            quiet_hours=False,
        ),
        # Asked by the "forgot your password" page for every address (programmes/
        # password_resets.py): the send finds the account, or cancels. Only a name and links:
        # never the user, whose row holds the password hash.
        Kind(
            "password_reset",
            "Password reset link, to a sponsor or manager who asked for it",
            "programmes.password_resets.password_reset",
            ("recipient_name", "reset_url", "valid_for", "site_url"),
            quiet_hours=False,
        ),
    ]
}


def kind_of(name: str) -> Kind:
    return KINDS[name]

"""Every kind of message the programme sends, in one list.

Each kind names the function that builds its message when it is sent (in the app that owns
the subject: ``<app>/notices.py``), the placeholders its wording may use, and whether it waits
for a sensible local hour. A builder takes the Notification and returns a ``Message``, or
None when the message is no longer wanted (the session was moved again, the pair paused): the
row is then cancelled, not sent.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from notifications.models import Notification


@dataclass
class Message:
    context: dict[str, Any]
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    language: str = ""


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    builder: str  # dotted path of ``(Notification) -> Message | None``
    placeholders: tuple[str, ...]
    # Participants' and sponsors' mail waits for 08:00–20:00 where they live; a message
    # someone has just asked for (their links) or that a manager must act on goes at once.
    quiet_hours: bool = True

    def build(self, notification: "Notification") -> Message | None:
        builder: Callable[[Notification], Message | None] = import_string(self.builder)
        return builder(notification)


_PARTICIPANT = ("person", "programme", "cohort", "site_url")
_PAIR = (*_PARTICIPANT, "partner", "pair_url")
_MEETING = (*_PAIR, "meeting", "starts", "ends", "zone", "led_by")
_CHECKIN = ("person", "partner", "programme", "cohort", "site_url")
_CHECKIN += ("continue_url", "rematch_url", "pause_url")

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in [
        Kind(
            "intake_invitation",
            "Intake invitation",
            "programmes.notices.intake_invitation",
            (*_PARTICIPANT, "participant", "intake_url"),
        ),
        Kind(
            "intake_confirmation",
            "Intake confirmation",
            "programmes.notices.intake_confirmation",
            (*_PARTICIPANT, "participant", "intake_url"),
            quiet_hours=False,
        ),
        Kind(
            "agreement_proposed",
            "Agreement proposed by the partner",
            "programmes.notices.agreement_proposed",
            (*_PAIR, "agreement"),
        ),
        *(
            Kind(
                f"meeting_{change}",
                f"Session {change} by the partner",
                "programmes.notices.meeting_update",
                _MEETING,
            )
            for change in ("scheduled", "rescheduled", "cancelled", "marked")
        ),
        Kind(
            "pair_ended",
            "The pair has ended (its sessions still to come are cancelled)",
            "programmes.notices.pair_ended",
            (*_PAIR, "sessions", "zone"),
        ),
        Kind(
            "story_consent",
            "A success story awaits the participant's consent",
            "programmes.notices.story_consent",
            (*_PAIR, "story"),
        ),
        Kind(
            "match_introduction",
            "Match introduction",
            "matching.notices.match_introduction",
            (*_PAIR, "participant", "partner_participant", "pair"),
        ),
        Kind(
            "participant_links",
            "Links sent again on request",
            "surveys.notices.participant_links",
            ("person", "places", "site_url"),
            quiet_hours=False,
        ),
        Kind(
            "pulse_request",
            "Pulse after a session",
            "surveys.notices.pulse_request",
            (
                "person",
                "partner",
                "programme",
                "meeting",
                "starts",
                "zone",
                "held_url",
                "not_held_url",
            ),
        ),
        Kind(
            "rematch_alert",
            "'Not a good fit' alert to managers",
            "surveys.notices.rematch_alert",
            ("person", "pair", "programme", "cohort", "pair_admin_url"),
            quiet_hours=False,
        ),
        Kind(
            "feedback_request",
            "Programme questions at mid-point and end",
            "surveys.notices.feedback_request",
            (
                "person",
                "participant",
                "programme",
                "cohort",
                "moment",
                "moment_label",
                "feedback_url",
                "closes_on",
                "site_url",
            ),
        ),
        # Reminders, asked by beat's "what is due" scans (programmes/ and surveys/reminders.py).
        Kind(
            "intake_reminder",
            "Intake reminder, 3 and 7 days after the invitation",
            "programmes.notices.intake_reminder",
            (*_PARTICIPANT, "participant", "intake_url", "days"),
        ),
        Kind(
            "agreement_reminder",
            "Agreement reminder, 3 days after the introduction",
            "programmes.notices.agreement_reminder",
            (*_PAIR, "agreement"),
        ),
        Kind(
            "session_reminder",
            "Session reminder, 24 hours ahead",
            "programmes.notices.session_reminder",
            _MEETING,
        ),
        Kind(
            "pulse_nudge",
            "Pulse nudge, 48 hours after the pulse request",
            "surveys.notices.pulse_nudge",
            (
                "person",
                "partner",
                "programme",
                "meeting",
                "starts",
                "zone",
                "held_url",
                "not_held_url",
            ),
        ),
        # The missed-meetings check-in (programmes/checkins.py).
        Kind(
            "checkin",
            "Check-in after two missed or cancelled sessions",
            "programmes.notices.checkin",
            _CHECKIN,
        ),
        # The same question, sent by a manager from an at-risk flag (programmes/remediation.py):
        # its own wording, since it must not speak of missed meetings that did not happen.
        Kind(
            "checkin_manager",
            "Check-in sent by a manager from an at-risk flag",
            "programmes.notices.checkin",
            _CHECKIN,
        ),
        Kind(
            "checkin_answer",
            "Check-in answer to managers: re-match or pause",
            "programmes.notices.checkin_answer",
            (
                "person",
                "pair",
                "programme",
                "cohort",
                "choice",
                "paused_until",
                "pair_admin_url",
                "site_url",
            ),
            quiet_hours=False,
        ),
        # Digests to users, who have no time zone: the scans pick the hour (programmes/digests.py).
        Kind(
            "risk_digest",
            "Weekly digest of open at-risk flags, to managers",
            "programmes.notices.risk_digest",
            ("recipient_name", "week_of", "programmes", "pair_count", "flag_count", "site_url"),
            quiet_hours=False,
        ),
        Kind(
            "sponsor_status",
            "Monthly programme status, to sponsors",
            "programmes.notices.sponsor_status",
            ("recipient_name", "programme", "month", "figures", "ask", "min_group", "status_url"),
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

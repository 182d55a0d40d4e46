"""The messages of invitations, intake and sign-in (built in programmes/notices.py and
programmes/password_resets.py)."""

from notifications.kinds import PARTICIPANT, PARTICIPANT_MESSAGE, VALUE, Kind
from notifications.schema import Schema

# Intake messages are about a participant.
PARTICIPANT_PROGRAMME = "cohort__programme"
_INTAKE: dict[str, Schema] = PARTICIPANT_MESSAGE | {"participant": PARTICIPANT, "intake_url": VALUE}

KINDS = [
    Kind(
        "intake_invitation",
        "Intake invitation",
        "programmes.notices.intake_invitation",
        _INTAKE,
        programme_path=PARTICIPANT_PROGRAMME,
    ),
    Kind(
        "intake_confirmation",
        "Intake confirmation",
        "programmes.notices.intake_confirmation",
        _INTAKE,
        quiet_hours=False,
        programme_path=PARTICIPANT_PROGRAMME,
    ),
    # Asked by beat's "what is due" scan (programmes/reminders.py).
    Kind(
        "intake_reminder",
        "Intake reminder, 3 and 7 days after the invitation",
        "programmes.notices.intake_reminder",
        _INTAKE | {"days": VALUE},
        programme_path=PARTICIPANT_PROGRAMME,
    ),
    # Asked by the "forgot your password" page for every address: the send finds the account,
    # or cancels. Only a name and links: never the user, whose row holds the password hash.
    Kind(
        "password_reset",
        "Password reset link, to a sponsor or manager who asked for it",
        "programmes.password_resets.password_reset",
        ("recipient_name", "reset_url", "valid_for", "site_url"),
        quiet_hours=False,
    ),
]

"""The messages of success stories and the sponsors' monthly status (built in
reporting/notices.py and reporting/digests.py). A story's title is anonymised by a manager
and is the very thing the recipient is asked to consent to; "what we need from you" is
written by managers for sponsors."""

from notifications.kinds import PROGRAMME, VALUE, Kind
from notifications.schema import ListOf, fields
from pairs.kinds import ABOUT_PAIR_S_RECORD, PAIR_MESSAGE

STORY = fields("title")
FIGURES = ListOf(fields("label", "text", "mark", "target", "suppressed"))

KINDS = [
    Kind(
        "story_consent",
        "A success story awaits the participant's consent",
        "reporting.notices.story_consent",
        PAIR_MESSAGE | {"story": STORY},
        programme_path=ABOUT_PAIR_S_RECORD,
    ),
    Kind(
        "sponsor_status",
        "Monthly programme status, to sponsors",
        "reporting.digests.sponsor_status",
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
        programme_path="",  # about the programme itself
    ),
]

"""The introduction of a new pair (built in matching/notices.py)."""

from notifications.kinds import PARTICIPANT, Kind
from notifications.schema import fields
from pairs.kinds import ABOUT_PAIR, PAIR, PAIR_MESSAGE

# The partner in the introduction: who they are and how to reach them, as the pair page shows.
PARTNER_INTRODUCED = fields("full_name", "job_title", "department", "email")

KINDS = [
    Kind(
        "match_introduction",
        "Match introduction",
        "matching.notices.match_introduction",
        PAIR_MESSAGE
        | {
            "partner": PARTNER_INTRODUCED,
            "participant": PARTICIPANT,
            "partner_participant": PARTICIPANT,
            "pair": PAIR,
        },
        programme_path=ABOUT_PAIR,
    ),
]

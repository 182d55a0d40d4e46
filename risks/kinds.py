"""The messages of check-ins and at-risk flags (built in risks/notices.py). A flag's reason
is made from counts and dates, never typed, so a message may carry it."""

from notifications.kinds import COHORT, PERSON, PROGRAMME, VALUE, Kind
from notifications.schema import ListOf, Schema, fields
from pairs.kinds import ABOUT_PAIR_S_RECORD, PAIR

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
        # Pairs to watch: the risk score at "watch", no flag open (risks/score.py).
        watch=ListOf(
            fields("admin_url", "chance", pair=PAIR, cohort=COHORT, reasons=ListOf(VALUE))
        ),
    )
)
_CHECKIN: dict[str, Schema] = {
    "person": PERSON,
    "partner": PERSON,
    "programme": PROGRAMME,
    "cohort": COHORT,
}
_CHECKIN |= dict.fromkeys(("site_url", "continue_url", "rematch_url", "pause_url"), VALUE)

KINDS = [
    # The missed-meetings check-in (risks/checkins.py).
    Kind(
        "checkin",
        "Check-in after two missed or cancelled sessions",
        "risks.notices.checkin",
        _CHECKIN,
        programme_path=ABOUT_PAIR_S_RECORD,
    ),
    # The same question, sent by a manager from an at-risk flag (risks/remediation.py): its
    # own wording, since it must not speak of missed meetings that did not happen.
    Kind(
        "checkin_manager",
        "Check-in sent by a manager from an at-risk flag",
        "risks.notices.checkin",
        _CHECKIN,
        programme_path=ABOUT_PAIR_S_RECORD,
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
        programme_path=ABOUT_PAIR_S_RECORD,
    ),
    # Digests to users, who have no time zone: the scans pick the hour (risks/digests.py).
    # A digest lists every programme its recipient manages: it belongs to none of them.
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
            "watch_count": VALUE,
            "site_url": VALUE,
        },
        quiet_hours=False,
    ),
]

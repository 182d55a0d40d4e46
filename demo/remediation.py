"""What a manager meets on opening the admin of the demo: the at-risk flags the troubled pairs
raise (detected as the hourly scan would, since the demo writes sessions and pulses in bulk
rather than through the services that queue a detection), the KPI snapshots of every month so
far, the manager's pause of the paused pair in the queue's audit trail, and two success stories
from the pilot: one both sides consented to (sponsors read it), one still waiting for the
reverse-mentor."""

from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from demo.context import DemoContext
from pairs.models import Pair
from reporting.kpis import kpis_compute
from reporting.models import SuccessStory
from risks.detection import risks_detect
from risks.models import PairAction, RiskFlag

# How long into a quiet spell the demo dates its "likely to lapse" flags.
FADING_AFTER_DAYS = 16

STORIES = [
    (
        "From a shared inbox to a customer-first rota",
        "An operations director and a customer-service adviser met every other week for three "
        "months. After the adviser showed how customers' questions really reach the team, the "
        "director sat in on two early shifts and changed the weekend rota so that someone who "
        "can answer delivery questions is always on. Complaints about unanswered messages fell "
        "within a month, and the director now asks new starters what surprised them before "
        "asking anyone else.",
    ),
    (
        "The policy that started with a question",
        "Before writing the company's guidance on AI tools, an executive asked their "
        "reverse-mentor which tools the teams already used and why. The answer changed the "
        "draft from a list of bans into three plain rules and a request for examples, and the "
        "first version went out shaped by the people it is for.",
    ),
]


def build(ctx: DemoContext) -> None:
    now = timezone.now()
    programme = ctx.programme
    pairs = Pair.objects.filter(cohort__programme=programme)
    risks_detect(now=now, pair_ids=list(pairs.values_list("pk", flat=True)))
    _date_flags_as_the_hourly_scan_would_have(programme, now)

    manager = programme.managers.first()
    pilot = list(pairs.filter(cohort=ctx.cohorts["pilot"]).order_by("pk")[:2])
    for pair, (title, body), both in zip(pilot, STORIES, (True, False), strict=False):
        SuccessStory.objects.create(
            pair=pair,
            title=title,
            body=body,
            anonymised=True,
            written_by=manager,
            mentee_consent_at=now - timedelta(days=12),
            reverse_mentor_consent_at=now - timedelta(days=10) if both else None,
        )
    # The paused pair was paused by its manager from the queue, and the action recorded.
    paused = pairs.filter(status=Pair.Status.PAUSED).first()
    if paused is not None:
        PairAction.objects.create(
            pair=paused,
            kind=PairAction.Kind.PAUSE,
            by=manager,
            at=now - timedelta(days=6),
            note="Both are covering the year-end close; they asked to pick up in December.",
        )
    rows = kpis_compute(programme=programme, now=now)
    open_flags = RiskFlag.objects.filter(pair__cohort__programme=programme, resolved_at=None)
    rules = sorted({flag.get_rule_display().lower() for flag in open_flags})
    ctx.summary.append(
        f"At-risk queue: {open_flags.count()} open flags ({'; '.join(rules)}); {rows} KPI "
        f"figures computed; 2 success stories (one shown to sponsors, one waiting for the "
        f"reverse-mentor's consent); 1 pause recorded"
    )


def _date_flags_as_the_hourly_scan_would_have(programme, now: datetime) -> None:
    """The demo's flags are all found in one run, today; a scan running all along would have
    opened each the day its rule first held, so the queue shows their real ages."""
    flags = list(RiskFlag.objects.filter(pair__cohort__programme=programme))
    for flag in flags:
        e = flag.evidence
        if flag.rule == RiskFlag.Rule.FADING:
            # The score reached "act" some two weeks into the quiet spell.
            held_on = date.fromisoformat(e["since"]) + timedelta(days=FADING_AFTER_DAYS)
        elif flag.rule == RiskFlag.Rule.NO_SESSION:
            # Found the day the quiet spell reached the threshold, and saying so.
            e["days"] = programme.risk_days_without_session
            held_on = date.fromisoformat(e["since"]) + timedelta(days=e["days"])
        elif e.get("sessions"):
            # Pulses have three days to come in before their absence counts.
            wait = 4 if flag.rule == RiskFlag.Rule.NO_PULSE else 1
            held_on = date.fromisoformat(e["sessions"][-1]["date"]) + timedelta(days=wait)
        else:
            held_on = date.fromisoformat(e["date"]) + timedelta(days=1)
        flag.opened_at = flag.updated_at = min(now, datetime.combine(held_on, time(7), UTC))
    RiskFlag.objects.bulk_update(flags, ["opened_at", "updated_at", "evidence"])

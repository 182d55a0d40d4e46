"""The per-pair risk score: the chance a pair lapses (30 days without a held session, a
manager's pause not counted), from its signals (risks/signals.py) by a logistic model.

The model is transparent: ``probability = 1 / (1 + exp(-(bias + sum(weight * feature))))``
over the features below, with DEFAULT_WEIGHTS (docs/at-risk.md says why each). A programme's
own ``RiskModel`` row, refitted nightly on its organisation's ended pairs
(risks/learning.py), replaces the defaults once it exists. Two levels: *watch* from
WATCH_AT, *act* from ACT_AT. Reasons are plain words with counts and dates, never anyone's
text.
"""

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from pairs.models import Pair
from risks.models import RiskModel
from risks.signals import LAPSE_DAYS, WINDOW_DAYS, Signals, pair_signals, signals_for

OK, WATCH, ACT = "ok", "watch", "act"
WATCH_AT = 0.35
ACT_AT = 0.55
BIAS = "bias"
# The longest quiet spell the score reads, in lapses (30 days): beyond it the pair has
# lapsed anyway.
QUIET_CAP = 1.5


def _short_notice(s: Signals) -> float:
    """How short the notice of the latest bookings was, against the cadence: 0 when they
    were booked a cadence or more ahead, 1 when on the day."""
    if s.booking_notice is None:
        return 0.0
    return max(0.0, 1.0 - s.booking_notice / s.cadence_days)


# Each feature: how it is read from the signals (capped, so one extreme value does not
# swamp the rest).
FEATURES: dict[str, Callable[[Signals], float]] = {
    "quiet": lambda s: min(s.days_since_held / LAPSE_DAYS, QUIET_CAP),
    "unbooked_overdue": lambda s: float(s.overdue_days > 0 and s.booked_since_held == 0),
    "nothing_booked": lambda s: float(1 - s.next_booked),
    "awaiting_log": lambda s: float(min(s.awaiting_log, 1)),
    "not_happened": lambda s: float(min(s.not_happened, 4)),
    "in_a_row": lambda s: float(min(s.not_happened_in_a_row, 3)),
    "by_exec": lambda s: float(min(s.cancelled_by_exec + s.missed_by_exec, 4)),
    "rescheduled_late": lambda s: float(min(s.rescheduled_late, 3)),
    "short_notice": _short_notice,
    "silent_sides": lambda s: float(s.silent_sides),
    "empty_learning": lambda s: s.empty_learning_share,
    "action_not_done": lambda s: s.action_not_done_share,
    "checkin_wants_out": lambda s: float(s.checkin_wants_out),
}
# The defaults (the prior the learning shrinks toward), fitted on the early-warning
# benchmark's tuning seeds and rounded: see docs/at-risk.md.
DEFAULT_WEIGHTS: dict[str, float] = {
    BIAS: -5.9,
    "quiet": 5.9,
    "unbooked_overdue": 1.7,
    "nothing_booked": 2.7,
    "awaiting_log": -2.8,
    "not_happened": 0.2,
    "in_a_row": 0.15,
    "by_exec": 0.0,
    "rescheduled_late": 0.0,
    "short_notice": 0.7,
    "silent_sides": 0.8,
    "empty_learning": 0.5,
    "action_not_done": 1.1,
    "checkin_wants_out": 1.4,
}


@dataclass(frozen=True)
class RiskScore:
    probability: float  # 0..1, chance the pair lapses
    level: str  # "ok" | "watch" | "act"
    reasons: list[str]  # plain words with counts and dates, never anyone's text


def features(signals: Signals) -> dict[str, float]:
    return {name: read(signals) for name, read in FEATURES.items()}


def probability(values: Mapping[str, float], weights: Mapping[str, float]) -> float:
    z = weights.get(BIAS, DEFAULT_WEIGHTS[BIAS]) + sum(
        weights.get(name, DEFAULT_WEIGHTS[name]) * value for name, value in values.items()
    )
    z = max(-30.0, min(30.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def level_of(p: float) -> str:
    return ACT if p >= ACT_AT else WATCH if p >= WATCH_AT else OK


def is_current(model: RiskModel | None) -> bool:
    """Whether a learned model weighs exactly today's features: one learned on another set
    (before an upgrade changed them) is not used, the defaults are, until the nightly refit
    replaces it; mixing its weights with new defaults would skew every score."""
    return model is not None and set(model.weights) == set(DEFAULT_WEIGHTS)


def weights_of(model: RiskModel | None) -> dict[str, float]:
    if model is None or not is_current(model):
        return dict(DEFAULT_WEIGHTS)
    return {name: float(value) for name, value in model.weights.items()}


def score_of(signals: Signals, model: RiskModel | None = None) -> RiskScore:
    weights = weights_of(model)
    values = features(signals)
    p = probability(values, weights)
    return RiskScore(probability=round(p, 4), level=level_of(p), reasons=reasons(signals, weights))


def pair_score(pair: Pair, *, on: date, model: "RiskModel | None" = None) -> RiskScore:
    """The pair's score as known at the end of ``on``; ``model`` defaults to its programme's
    learned model, if any, else the default weights."""
    if model is None:
        model = model_for(pair.cohort.programme_id)
    return score_of(pair_signals(pair, on=on), model)


def scores_for(pairs: Iterable[Pair], *, on: date, as_logged: bool = True) -> dict[int, RiskScore]:
    """The scores of ``pairs`` in a fixed number of queries (the signals' and one for the
    learned models); ``as_logged`` as for risks.signals.signals_for."""
    pairs = list(pairs)
    signals = signals_for(pairs, on=on, as_logged=as_logged)
    models = {
        m.programme_id: m
        for m in RiskModel.objects.filter(programme__in={p.cohort.programme_id for p in pairs})
    }
    return {
        pair.pk: score_of(signals[pair.pk], models.get(pair.cohort.programme_id)) for pair in pairs
    }


def model_for(programme_id: int) -> RiskModel | None:
    return RiskModel.objects.filter(programme_id=programme_id).first()


def _day(value: date | None) -> str:
    return f"{value:%-d %b %Y}" if value else "?"


def _times(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _who(s: Signals) -> str:
    """Who called off or missed them, only the counts there are, for example
    " (1 cancelled by the executive, 1 missed by the reverse-mentor)"."""
    counts = [
        (s.cancelled_by_exec, "cancelled by the executive"),
        (s.cancelled_by_mentor, "cancelled by the reverse-mentor"),
        (s.missed_by_exec, "missed by the executive"),
        (s.missed_by_mentor, "missed by the reverse-mentor"),
        (s.missed_by_unknown, "missed, by whom not said"),
    ]
    said = [f"{n} {what}" for n, what in counts if n]
    return f" ({', '.join(said)})" if said else ""


def reasons(s: Signals, weights: Mapping[str, float]) -> list[str]:
    """The signals that raise the score (positive weight, non-zero value), biggest first, in
    plain words: counts and dates only."""
    values = features(s)
    texts = {
        "quiet": (
            f"{s.days_since_held} days since the last held session"
            + (f" ({_day(s.last_held)})" if s.last_held else " (none held yet)")
            + f", against a cadence of {s.cadence_days} days"
        ),
        "unbooked_overdue": (
            "no session booked since "
            + ("the last held one" if s.last_held else "the pair started")
            + f", {_times(s.overdue_days, 'day')} past the cadence"
        ),
        "nothing_booked": f"no session booked in the next {s.cadence_days} days",
        "awaiting_log": "a session that ended in the last three days is not logged yet",
        "not_happened": (
            f"{_times(s.not_happened, 'session')} did not happen in {WINDOW_DAYS} days, "
            f"the latest on {_day(s.latest_not_happened)}{_who(s)}"
        ),
        "in_a_row": (
            f"the last {_times(s.not_happened_in_a_row, 'session')} in a row did not happen"
        ),
        "by_exec": (
            f"the executive called off or missed "
            f"{_times(s.cancelled_by_exec + s.missed_by_exec, 'session')}"
        ),
        "rescheduled_late": f"{_times(s.rescheduled_late, 'session')} moved within a day of it",
        "short_notice": (
            f"the latest sessions were booked {s.booking_notice or 0:.0f} days ahead on average"
        ),
        "silent_sides": (
            "neither side answered the pulse"
            if s.silent_sides == 2
            else (
                "the executive did not answer the pulse"
                if s.exec_pulse_share == 0
                else "the reverse-mentor did not answer the pulse"
            )
        )
        + f" for the last {_times(s.settled_held, 'held session')}",
        "empty_learning": (
            f"{round(s.empty_learning_share * 100)}% of the recent pulses noted no learning"
        ),
        "action_not_done": (
            f"{round(s.action_not_done_share * 100)}% of the recent pulses said the last "
            "action was not done"
        ),
        "checkin_wants_out": "the latest check-in answer asked for a pause or a re-match",
    }
    raising = [
        (weights.get(name, 0.0) * value, name)
        for name, value in values.items()
        if value > 0 and weights.get(name, 0.0) > 0
    ]
    # The quiet spell is not a reason while it is within the cadence, nor the notice while
    # sessions are booked at least half a cadence ahead: they still add to the score.
    raising = [
        (c, n)
        for c, n in raising
        if (n != "quiet" or s.days_since_held > s.cadence_days)
        and (n != "short_notice" or values[n] > 0.5)
    ]
    return [texts[name] for _, name in sorted(raising, reverse=True)]

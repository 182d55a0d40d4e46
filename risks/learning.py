"""The risk score learns from the organisation's own history (docs/at-risk.md, "How it
learns"): nightly (beat's ``refit-risk-models``), each programme's weights are refitted on the
pairs of cohorts that have ended, once at least MIN_PAIRS exist: the programme's own, or, while
it has too few, every programme's (one organisation per deployment).

Each such pair gives one sample a week of its life (its signals as they were known that day,
risks/signals.py, up to its lapse or its end), labelled 1 when the pair lapsed within HORIZON
days of it. The fit is a logistic regression penalised toward the default weights (an L2
prior of strength PRIOR_STRENGTH around risks.score.DEFAULT_WEIGHTS): with little data it
stays near the defaults; with much it follows the data.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone
from scipy.optimize import minimize

from pairs.models import Pair
from programmes.models import Programme
from risks.lapses import lapse_days, pair_span
from risks.models import RiskModel
from risks.score import BIAS, DEFAULT_WEIGHTS, FEATURES, features
from risks.signals import signals_for

MIN_PAIRS = 30
HORIZON = timedelta(days=28)
SAMPLE_EVERY = timedelta(days=7)
PRIOR_STRENGTH = 10.0
NAMES = [BIAS, *FEATURES]


@dataclass(frozen=True)
class Samples:
    x: np.ndarray  # one row per sample: 1 (the bias), then the features in FEATURES' order
    y: np.ndarray  # 1: the pair lapsed within HORIZON of the sample's day
    pairs: int
    lapsed: int


def history(programme: Programme, *, today: date) -> list[Pair]:
    """The pairs the programme learns from: those of its cohorts that ended before ``today``,
    or of every programme's when it has fewer than MIN_PAIRS."""
    ended = (
        Pair.objects.started()
        .filter(cohort__ends_on__lt=today)
        .select_related("cohort__programme")
        .order_by("pk")
    )
    own = list(ended.filter(cohort__programme=programme))
    return own if len(own) >= MIN_PAIRS else list(ended)


def samples(pairs: list[Pair], *, today: date) -> Samples:
    """The weekly samples of ``pairs``: four queries per sample day, plus two."""
    lapses = lapse_days(pairs, today=today)
    by_day: dict[date, list[Pair]] = defaultdict(list)
    for pair in pairs:
        start, end = pair_span(pair, today=today)
        last = min(end, lapses[pair.pk] or end)
        day = start + SAMPLE_EVERY
        while day < last:
            by_day[day].append(pair)
            day += SAMPLE_EVERY
    rows, labels = [], []
    for day in sorted(by_day):
        for pk, its in signals_for(by_day[day], on=day).items():
            values = features(its)
            rows.append([1.0, *(values[name] for name in FEATURES)])
            lapse = lapses[pk]
            labels.append(1.0 if lapse is not None and lapse - day <= HORIZON else 0.0)
    return Samples(
        x=np.array(rows, dtype=float).reshape(-1, len(NAMES)),
        y=np.array(labels, dtype=float),
        pairs=len(pairs),
        lapsed=sum(1 for d in lapses.values() if d is not None),
    )


def fit(data: Samples, prior: dict[str, float] | None = None) -> dict[str, float]:
    """Weights minimising the logistic loss plus PRIOR_STRENGTH/2 times the squared distance
    to ``prior`` (the default weights)."""
    w0 = np.array([(prior or DEFAULT_WEIGHTS)[name] for name in NAMES], dtype=float)
    x, y = data.x, data.y

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        p = 1.0 / (1.0 + np.exp(-z))
        value = float(np.sum(np.logaddexp(0.0, z) - y * z))
        value += PRIOR_STRENGTH / 2 * float(np.sum((w - w0) ** 2))
        return value, x.T @ (p - y) + PRIOR_STRENGTH * (w - w0)

    if len(y) == 0:
        return dict(zip(NAMES, w0.tolist(), strict=True))
    found = minimize(loss, w0, jac=True, method="L-BFGS-B")
    return {name: round(float(v), 4) for name, v in zip(NAMES, found.x, strict=True)}


def refit(programme: Programme, *, now: datetime | None = None) -> bool:
    """Refit the programme's model if it has enough history; True when its row changed. The
    same data gives the same weights: run twice, the second run changes nothing."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    pairs = history(programme, today=today)
    if len(pairs) < MIN_PAIRS:
        return False
    data = samples(pairs, today=today)
    weights = fit(data)
    with transaction.atomic():
        row = RiskModel.objects.select_for_update().filter(programme=programme).first()
        if row is not None and (row.weights, row.pairs_used, row.lapsed_used) == (
            weights,
            data.pairs,
            data.lapsed,
        ):
            return False
        RiskModel.objects.update_or_create(
            programme=programme,
            defaults={
                "weights": weights,
                "fitted_at": now,
                "pairs_used": data.pairs,
                "lapsed_used": data.lapsed,
            },
        )
    return True


def refit_all(*, now: datetime | None = None) -> dict[str, int]:
    """Every programme not in draft: {"refitted": n}."""
    refitted = 0
    for programme in Programme.objects.exclude(status=Programme.Status.DRAFT).order_by("pk"):
        refitted += refit(programme, now=now)
    return {"refitted": refitted}

"""What the at-risk queue shows beside its flags (risks/admin.py): the pairs to *watch* (the
risk score at "watch", no flag open; risks/score.py), highest score first, with the score's
reasons in plain words; and, per programme, what the score's weights are: "learned on <date>
from N pairs" or the defaults. Two queries, however many pairs, scoped to the user's
programmes."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.urls import reverse

from pairs.models import Pair
from programmes.models import Programme
from programmes.scoping import scope
from risks.display import local_day
from risks.models import PairRisk, RiskFlag
from risks.score import WATCH, is_current

# The queue lists at most this many pairs to watch (the highest scores).
WATCH_LISTED = 50


@dataclass(frozen=True)
class Watched:
    names: str
    cohort: str
    chance: int
    reasons: list[str]
    url: str


def watched(request: HttpRequest) -> list[Watched]:
    open_flag = RiskFlag.objects.filter(pair=OuterRef("pair"), resolved_at__isnull=True)
    rows = (
        scope(PairRisk.objects.all(), request.user, "pair__cohort__programme")
        .filter(level=WATCH, pair__status=Pair.Status.ACTIVE)
        .exclude(Exists(open_flag))
        .select_related(
            "pair__cohort__programme", "pair__mentee__person", "pair__reverse_mentor__person"
        )
        .order_by("-probability", "pair_id")[:WATCH_LISTED]
    )
    return [
        Watched(
            names=f"{row.pair.mentee.person.full_name} & "
            f"{row.pair.reverse_mentor.person.full_name}",
            cohort=f"{row.pair.cohort.programme.name} – {row.pair.cohort.name}",
            chance=round(row.probability * 100),
            reasons=list(row.reasons),
            url=reverse("admin:pairs_pair_change", args=[row.pair_id]),
        )
        for row in rows
    ]


def model_lines(request: HttpRequest) -> list[str]:
    """Per programme the user manages (not in draft): where its score's weights come from."""
    programmes = (
        scope(Programme.objects.all(), request.user, "")
        .exclude(status=Programme.Status.DRAFT)
        .select_related("risk_model")
        .order_by("name")
    )
    lines = []
    for programme in programmes:
        model = getattr(programme, "risk_model", None)
        if model is None:
            said = "default weights (not enough history yet)"
        elif not is_current(model):
            said = (
                f"default weights (the model learned on {local_day(model.fitted_at)} weighed "
                "other signals; the nightly refit replaces it)"
            )
        else:
            said = (
                f"learned on {local_day(model.fitted_at)} from {model.pairs_used} pairs "
                f"({model.lapsed_used} lapsed)"
            )
        lines.append(f"{programme.name}: {said}")
    return lines

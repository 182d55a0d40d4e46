"""The re-match's door to the matching code, which sits above this app (matching imports
programmes' models; programmes never imports matching). MatchingConfig.ready() registers the
matchmaker here; the re-match services (risks/remediation.py) call it. Without the
matching app there is nobody to ask, and the re-match says so rather than guess.

What a matchmaker answers is the matching review's own explanation of a pair: its score under
the programme's weights and its fit reasons (shared topics, hours, time zone, style,
departments), plus, for the people not offered, the names of the rules that rule them out and
how many each. Never anything a participant wrote: not the intake's note for the programme
team, which stays on the matching review."""

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured

from pairs.models import Pair
from programmes.models import Cohort, Participant


@dataclass(frozen=True)
class PartnerSuggestion:
    partner: Participant
    score: float
    reasons: list[str]  # fit reasons in plain words, the strongest first


@dataclass(frozen=True)
class Suggestions:
    """The best partners for one participant, best first, and why the others are not."""

    candidates: list[PartnerSuggestion]
    # (the rule in words, how many of the other side it rules out), each person counted
    # once, under the first rule that rules them out.
    ruled_out: list[tuple[str, int]] = field(default_factory=list)

    @property
    def best(self) -> PartnerSuggestion | None:
        return self.candidates[0] if self.candidates else None


class Matchmaker(Protocol):
    def suggest(
        self, *, participant: Participant, limit: int, excluding: Collection[int] = ()
    ) -> Suggestions:
        """The best ``limit`` partners for ``participant`` among the other side of their
        cohort with a place free, under the cohort's matching rules, never one whose
        participant id is in ``excluding``."""

    def keep_apart(
        self,
        *,
        cohort: Cohort,
        mentee: Participant,
        mentor: Participant,
        by: User | None,
        note: str,
    ) -> None:
        """A rule that this cohort's matching never pairs the two again."""

    def introduce(self, pair: Pair) -> None:
        """Introduce a new pair by e-mail, as an approved matching run does."""


_registry: dict[str, Matchmaker] = {}


def register(matchmaker: Matchmaker) -> None:
    _registry["matchmaker"] = matchmaker


def matchmaker() -> Matchmaker:
    try:
        return _registry["matchmaker"]
    except KeyError:
        raise ImproperlyConfigured(
            "No matchmaker is registered: the matching app registers one when it is ready."
        ) from None

"""What the apps above pairs/ add to the pair page, registered in their ``AppConfig.ready``:
the page shows their parts without importing them.

A part may annotate the pair as it loads (``annotate``: expressions by name, e.g. whether
there is anything of its own to show, so the page spends no query when there is not), load
with each session what the session's row shows (``meeting_prefetch``: a Prefetch whose
``to_attr`` is ``MEETING_PULSES`` for the pulse answers), add entries to the page's context
(``context``), and serve pages under the pair link (``routes``: (route, view, name), the name
in the ``pairs`` namespace, like the page's own)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the apps register their parts before the models may be imported
    from django.db.models import Prefetch
    from django.db.models.expressions import BaseExpression

    from pairs.models import Pair
    from programmes.models import Participant

# Where a session carries the pulse answers its row may show (surveys/ loads them).
MEETING_PULSES = "readable_pulses"


@dataclass(frozen=True)
class PairPagePart:
    annotate: "Callable[[Participant], Mapping[str, BaseExpression]] | None" = None
    meeting_prefetch: "Callable[[Participant], Prefetch] | None" = None
    context: "Callable[[Pair, Participant, datetime], Mapping[str, Any]] | None" = None
    routes: tuple[tuple[str, Callable[..., Any], str], ...] = field(default=())


PARTS: list[PairPagePart] = []


def register(part: PairPagePart) -> None:
    PARTS.append(part)

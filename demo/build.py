import random
from collections.abc import Callable
from datetime import date

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from demo import (
    intake,
    matching,
    organisation,
    pulses,
    remediation,
    second_programme,
    sessions,
    sponsor,
)
from demo.context import DemoContext
from demo.logins import PROGRAMME_SLUGS, USERNAMES
from demo.organisation import EMAIL_DOMAIN, PROGRAMME_SLUG
from pairs.models import Meeting, Pair
from programmes.links import Purpose, pair_link_expiry, participant_url
from programmes.models import Cohort, Participant, Person, Programme
from surveys.models import Pulse
from surveys.notices import pulse_url


def _steps() -> list[Callable[[DemoContext], None]]:
    # Later areas append their step here, in order.
    return [
        organisation.build,
        intake.build,
        matching.build,
        sessions.build,
        pulses.build,
        remediation.build,
        sponsor.build,
        second_programme.build,
    ]


def build_demo(*, today: date, seed: int = 2026) -> DemoContext:
    ctx = DemoContext(today=today, rng=random.Random(seed))  # noqa: S311 (repeatable, not secret)
    with transaction.atomic():
        for step in _steps():
            step(ctx)
    return ctx


def demo_exists() -> bool:
    return Programme.objects.filter(slug=PROGRAMME_SLUG).exists()


def remove_demo() -> None:
    with transaction.atomic():
        Programme.objects.filter(slug__in=PROGRAMME_SLUGS).delete()
        Person.objects.filter(email__iendswith=f"@{EMAIL_DOMAIN}").delete()
        User.objects.filter(username__in=USERNAMES).delete()


def demo_intake_links(limit: int = 3) -> list[tuple[Participant, str]]:
    """Fresh intake links for demo participants who have not submitted theirs, so whoever
    runs the demo can try the form as a participant would."""

    waiting = (
        Participant.objects.filter(
            cohort__programme__slug=PROGRAMME_SLUG,
            cohort__status__in=[Cohort.Status.PLANNED, Cohort.Status.INTAKE],
            intake__submitted_at=None,
        )
        .select_related("person", "cohort")
        .order_by("person__full_name")[:limit]
    )
    return [(p, participant_url(participant_id=p.pk, purpose=Purpose.INTAKE)) for p in waiting]


def demo_pair_links() -> list[tuple[Participant, str]]:
    """Fresh links to one running demo pair's page, for each of its two sides."""

    pair = (
        Pair.objects.filter(cohort__programme__slug=PROGRAMME_SLUG, status=Pair.Status.ACTIVE)
        .select_related("cohort", "mentee__person", "reverse_mentor__person")
        .order_by("-score")
        .first()
    )
    if pair is None:
        return []
    expires = pair_link_expiry(pair.cohort.ends_on)
    return [
        (
            p,
            participant_url(
                participant_id=p.pk, purpose=Purpose.PAIR, expires_at=expires, pair_id=pair.pk
            ),
        )
        for p in (pair.mentee, pair.reverse_mentor)
    ]


def demo_pulse_link() -> tuple[Participant, str] | None:
    """The pulse link, as the e-mail after a session sends it, of the latest demo session that
    has happened and that one of its participants has not answered yet."""

    sessions = (
        Meeting.objects.filter(
            pair__cohort__programme__slug=PROGRAMME_SLUG,
            pair__status=Pair.Status.ACTIVE,
            status__in=Meeting.MAYBE_HELD,
            starts_at__lte=timezone.now(),
        )
        .select_related("pair__mentee__person", "pair__reverse_mentor__person")
        .order_by("-starts_at")
    )
    for side in ("mentee", "reverse_mentor"):
        answered = Pulse.objects.filter(
            meeting=OuterRef("pk"), participant=OuterRef(f"pair__{side}")
        )
        meeting = sessions.exclude(Exists(answered)).first()
        if meeting is not None:
            participant = getattr(meeting.pair, side)
            return participant, pulse_url(participant=participant, meeting=meeting) + "?held=yes"
    return None

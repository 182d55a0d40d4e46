"""Matching runs for the pilot and the running wave, approved: their pairs exist, the pilot's
ended with the cohort. The wave taking intakes now has not been matched yet."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from demo.context import DemoContext
from matching import services
from matching.models import MatchingRun
from notifications.models import Notification
from pairs.models import Pair


def build(ctx: DemoContext) -> None:
    manager = ctx.users["manager"]
    for key in ("pilot", "wave2"):
        cohort = ctx.cohorts[key]
        run = MatchingRun.objects.create(
            cohort=cohort,
            weights=services.policy_for(cohort).weights,
            created_by=manager,
            started_at=timezone.now() - timedelta(seconds=3),
        )
        services.matching_run_execute(run=run)
        pairs = services.matching_run_approve(run=run, user=manager)
        # Demo pairs were introduced long ago: their introductions count as sent, so the
        # worker does not mail them when it starts.
        introduced = timezone.now()
        Pair.objects.filter(pk__in=[p.pk for p in pairs]).update(
            introduced_at=introduced, started_on=cohort.starts_on
        )
        Notification.objects.filter(
            kind="match_introduction",
            content_type=ContentType.objects.get_for_model(Pair),
            object_id__in=[p.pk for p in pairs],
        ).update(status=Notification.Status.SENT, sent_at=introduced)
        if key == "pilot":
            Pair.objects.filter(pk__in=[p.pk for p in pairs]).update(
                status=Pair.Status.ENDED, ended_on=cohort.ends_on, end_reason="Cohort finished"
            )
        run.refresh_from_db()
        ctx.summary.append(
            f"{cohort.name}: matching approved, {run.matched_count} pairs "
            f"(lowest score {run.lowest_score:.2f}), {run.waiting_count} on the waiting list"
        )

"""Runs get a lease (queued_at, attempts, lease_until) for the sweep; a block between two people
is recorded once even though its cohort is NULL (PostgreSQL treats NULLs as distinct, so the old
constraint let duplicates in): duplicates are removed first, keeping the oldest."""

from django.conf import settings
from django.db import migrations, models


def remove_duplicate_blocks(apps, schema_editor):
    PairRule = apps.get_model("matching", "PairRule")
    seen = set()
    duplicates = []
    rows = PairRule.objects.filter(cohort__isnull=True).order_by("created_at", "pk")
    for pk, kind, mentee, mentor in rows.values_list("pk", "kind", "mentee", "reverse_mentor"):
        if (kind, mentee, mentor) in seen:
            duplicates.append(pk)
        seen.add((kind, mentee, mentor))
    PairRule.objects.filter(pk__in=duplicates).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="pairrule",
            name="pair_rule_once",
        ),
        migrations.RunPython(remove_duplicate_blocks, migrations.RunPython.noop),
        migrations.AddField(
            model_name="matchingrun",
            name="attempts",
            field=models.PositiveSmallIntegerField(
                default=0, help_text="How many times a worker has taken it up."
            ),
        ),
        migrations.AddField(
            model_name="matchingrun",
            name="lease_until",
            field=models.DateTimeField(
                blank=True, help_text="A running worker owns the run until then.", null=True
            ),
        ),
        migrations.AddField(
            model_name="matchingrun",
            name="queued_at",
            field=models.DateTimeField(
                blank=True, help_text="When it was last handed to the task queue.", null=True
            ),
        ),
        migrations.AddIndex(
            model_name="matchingrun",
            index=models.Index(fields=["status", "lease_until"], name="matching_run_sweep"),
        ),
        migrations.AddConstraint(
            model_name="pairrule",
            constraint=models.UniqueConstraint(
                condition=models.Q(("cohort__isnull", False)),
                fields=("kind", "cohort", "mentee", "reverse_mentor"),
                name="pair_rule_once",
            ),
        ),
        migrations.AddConstraint(
            model_name="pairrule",
            constraint=models.UniqueConstraint(
                condition=models.Q(("cohort__isnull", True)),
                fields=("kind", "mentee", "reverse_mentor"),
                name="pair_rule_once_for_good",
            ),
        ),
    ]

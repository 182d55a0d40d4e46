"""The organisation's settings (issue #18): one row, made here from the MAX_MENTORING_LOAD and
SPONSOR_MIN_GROUP settings, which were the load cap and the minimum group until now."""

import django.core.validators
from django.conf import settings
from django.db import migrations, models


def create_the_row(apps, schema_editor):
    OrganisationSettings = apps.get_model("programmes", "OrganisationSettings")
    OrganisationSettings.objects.get_or_create(
        pk=1,
        defaults={
            "max_mentoring_load": settings.MAX_MENTORING_LOAD,
            "min_group_size": max(2, settings.SPONSOR_MIN_GROUP),
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("programmes", "0016_move_pairs_risks_reporting_out"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrganisationSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "max_mentoring_load",
                    models.PositiveSmallIntegerField(
                        help_text="Across every programme at once: the same few under-represented colleagues otherwise get asked again and again. Matching never gives anyone more.",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(10),
                        ],
                        verbose_name="most pairs one reverse-mentor may hold",
                    ),
                ),
                (
                    "min_group_size",
                    models.PositiveSmallIntegerField(
                        help_text="Sponsor pages and e-mails suppress any figure computed from fewer people than this. A programme may ask for more, never fewer.",
                        validators=[
                            django.core.validators.MinValueValidator(2),
                            django.core.validators.MaxValueValidator(50),
                        ],
                        verbose_name="minimum group size for anonymised reporting",
                    ),
                ),
            ],
            options={
                "verbose_name": "organisation settings",
                "verbose_name_plural": "organisation settings",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("pk", 1)), name="organisation_settings_single_row"
                    )
                ],
            },
        ),
        migrations.RunPython(create_the_row, migrations.RunPython.noop),
    ]

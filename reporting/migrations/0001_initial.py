"""KPI snapshots, success stories and sponsors' asks, moved from programmes with their tables:
nothing is created in the database."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from lib.moved_models import relabel_content_types


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("pairs", "0001_initial"),
        ("programmes", "0016_move_pairs_risks_reporting_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app owns them moves.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="SuccessStory",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("title", models.CharField(max_length=120)),
                        (
                            "body",
                            models.TextField(
                                help_text="Anonymised: no names, teams or details that would identify either person."
                            ),
                        ),
                        (
                            "anonymised",
                            models.BooleanField(
                                default=False,
                                help_text="Participants are asked to consent only once this is ticked.",
                                verbose_name="I have removed names and identifying details",
                            ),
                        ),
                        (
                            "mentee_consent_at",
                            models.DateTimeField(blank=True, editable=False, null=True),
                        ),
                        (
                            "reverse_mentor_consent_at",
                            models.DateTimeField(blank=True, editable=False, null=True),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "pair",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="stories",
                                to="pairs.pair",
                            ),
                        ),
                        (
                            "written_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name_plural": "success stories",
                        "db_table": "programmes_successstory",
                        "ordering": ["-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="KpiSnapshot",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "month",
                            models.DateField(help_text="The first day of the calendar month."),
                        ),
                        (
                            "kpi",
                            models.CharField(
                                choices=[
                                    ("session_frequency", "Session frequency"),
                                    ("notes_logged", "Notes logged"),
                                    ("action_commitment", "Action commitment"),
                                    ("action_follow_through", "Action follow-through"),
                                    ("pulse_response_rate", "Pulse response rate"),
                                    ("cancellation_rate", "Cancellation rate"),
                                    ("confidence_change", "Confidence change"),
                                    ("nps", "Programme NPS"),
                                    ("reversion_rate", "Reversion rate"),
                                    ("at_risk_pairs", "At-risk pairs"),
                                    ("topic_coverage", "Topic coverage"),
                                ],
                                max_length=30,
                            ),
                        ),
                        ("part", models.CharField(blank=True, max_length=40)),
                        ("value", models.FloatField(blank=True, null=True)),
                        ("numerator", models.FloatField(default=0)),
                        ("denominator", models.PositiveIntegerField(default=0)),
                        ("people", models.PositiveIntegerField(default=0)),
                        ("people_changed", models.PositiveIntegerField(default=0)),
                        ("computed_at", models.DateTimeField()),
                        (
                            "cohort",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="kpi_snapshots",
                                to="programmes.cohort",
                            ),
                        ),
                        (
                            "programme",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="kpi_snapshots",
                                to="programmes.programme",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "KPI snapshot",
                        "db_table": "programmes_kpisnapshot",
                        "ordering": ["programme", "cohort", "month", "kpi", "part"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("cohort__isnull", True)),
                                fields=("programme", "month", "kpi", "part"),
                                name="kpisnapshot_once_per_programme_month",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("cohort__isnull", False)),
                                fields=("cohort", "month", "kpi", "part"),
                                name="kpisnapshot_once_per_cohort_month",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SponsorAsk",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "month",
                            models.DateField(help_text="The first day of the month it is for."),
                        ),
                        (
                            "text",
                            models.CharField(
                                help_text="One or two sentences, e.g. “Please mention the programme at the March town hall, and nudge the two executives who have cancelled twice.” No names of participants.",
                                max_length=300,
                                verbose_name="what we need from you",
                            ),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "programme",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="sponsor_asks",
                                to="programmes.programme",
                            ),
                        ),
                        (
                            "written_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "sponsor ask",
                        "db_table": "programmes_sponsorask",
                        "ordering": ["programme", "-month"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("programme", "month"), name="sponsorask_once_a_month"
                            )
                        ],
                    },
                ),
            ],
        ),
        relabel_content_types(
            models=["kpisnapshot", "successstory", "sponsorask"],
            old_app="programmes",
            new_app="reporting",
        ),
    ]

"""Check-ins, at-risk flags and managers' actions, moved from programmes with their tables:
nothing is created in the database."""

import django.db.models.deletion
import django.utils.timezone
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
                    name="RiskFlag",
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
                            "rule",
                            models.CharField(
                                choices=[
                                    ("missed", "Missed or cancelled sessions"),
                                    ("no_session", "No session held lately"),
                                    ("no_pulse", "No pulse for the last held sessions"),
                                    ("low_safety", "Low psychological safety"),
                                    ("reversion", "Roles reverting"),
                                    ("not_a_good_fit", "Not a good fit"),
                                    ("needs_partner", "Left without a partner"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "severity",
                            models.PositiveSmallIntegerField(
                                choices=[(1, "High"), (2, "Medium"), (3, "Low")]
                            ),
                        ),
                        ("condition", models.CharField(max_length=100)),
                        ("evidence", models.JSONField(blank=True, default=dict)),
                        ("opened_at", models.DateTimeField()),
                        ("updated_at", models.DateTimeField()),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "resolution_note",
                            models.TextField(
                                blank=True, help_text="The manager's own words on what was done."
                            ),
                        ),
                        (
                            "pair",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="risk_flags",
                                to="pairs.pair",
                            ),
                        ),
                        (
                            "resolved_by",
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
                        "verbose_name": "at-risk flag",
                        "db_table": "programmes_riskflag",
                        "ordering": ["severity", "opened_at", "pk"],
                    },
                ),
                migrations.CreateModel(
                    name="PairAction",
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
                            "kind",
                            models.CharField(
                                choices=[
                                    ("checkin", "Check-in sent"),
                                    ("pause", "Paused for a month"),
                                    ("rematch", "Re-matched"),
                                    ("end", "Pair ended"),
                                    ("resolve", "Flag resolved"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "note",
                            models.TextField(blank=True, help_text="The manager's own words."),
                        ),
                        (
                            "by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "new_pair",
                            models.ForeignKey(
                                blank=True,
                                help_text="For a re-match: the pair proposed in its place.",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="pairs.pair",
                            ),
                        ),
                        (
                            "pair",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="actions",
                                to="pairs.pair",
                            ),
                        ),
                        (
                            "flag",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="actions",
                                to="risks.riskflag",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "pair action",
                        "db_table": "programmes_pairaction",
                        "ordering": ["pair", "-at", "-pk"],
                    },
                ),
                migrations.CreateModel(
                    name="CheckIn",
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
                            "asked_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, verbose_name="asked"
                            ),
                        ),
                        (
                            "choice",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("continue", "I can continue"),
                                    ("rematch", "Re-match me"),
                                    ("pause", "Pause for one month"),
                                ],
                                max_length=10,
                                verbose_name="answer",
                            ),
                        ),
                        (
                            "answered_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="answered"),
                        ),
                        (
                            "pair",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="checkins",
                                to="pairs.pair",
                            ),
                        ),
                        (
                            "participant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="checkins",
                                to="programmes.participant",
                            ),
                        ),
                        (
                            "trigger",
                            models.ForeignKey(
                                blank=True,
                                help_text="The second of the two missed or cancelled sessions (none when a manager sent the check-in from an at-risk flag).",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="checkins",
                                to="pairs.meeting",
                            ),
                        ),
                        (
                            "flag",
                            models.ForeignKey(
                                blank=True,
                                help_text="The at-risk flag a manager sent this check-in from.",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="checkins",
                                to="risks.riskflag",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "check-in",
                        "db_table": "programmes_checkin",
                        "ordering": ["pair", "-asked_at", "pk"],
                    },
                ),
                migrations.AddIndex(
                    model_name="riskflag",
                    index=models.Index(
                        fields=["resolved_at", "severity", "opened_at"],
                        name="programmes__resolve_ab1064_idx",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="riskflag",
                    constraint=models.UniqueConstraint(
                        fields=("pair", "rule", "condition"), name="riskflag_condition_once"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="riskflag",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("resolved_at__isnull", True)),
                        fields=("pair", "rule"),
                        name="riskflag_one_open_per_rule",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="checkin",
                    constraint=models.UniqueConstraint(
                        fields=("participant", "trigger"), name="checkin_once_per_trigger"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="checkin",
                    constraint=models.UniqueConstraint(
                        fields=("participant", "flag"), name="checkin_once_per_flag"
                    ),
                ),
            ],
        ),
        relabel_content_types(
            models=["checkin", "riskflag", "pairaction"], old_app="programmes", new_app="risks"
        ),
    ]

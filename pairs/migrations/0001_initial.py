"""Pairs, agreements, sessions, notes and guides, moved from programmes with their tables
(programmes_pair and so on): nothing is created in the database."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

from lib.moved_models import relabel_content_types


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("programmes", "0015_cohort_intake_closing"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app owns them moves.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Guide",
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
                                    ("role_card", "Role card"),
                                    ("first_meeting", "First-meeting guide"),
                                    ("agenda", "Agenda template"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("mentee", "Mentee (executive)"),
                                    ("reverse_mentor", "Reverse-mentor"),
                                ],
                                help_text="For role cards: whose card it is.",
                                max_length=20,
                            ),
                        ),
                        (
                            "topic_title",
                            models.CharField(
                                blank=True,
                                help_text="For default agendas: the road-map topic title they fit (matched by title).",
                                max_length=120,
                            ),
                        ),
                        ("title", models.CharField(max_length=200)),
                        (
                            "body",
                            models.TextField(
                                help_text="Plain text; blank lines separate paragraphs, “- ” starts a bullet."
                            ),
                        ),
                        ("position", models.PositiveSmallIntegerField(default=0)),
                        (
                            "programme",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="guides",
                                to="programmes.programme",
                            ),
                        ),
                        (
                            "topic",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="agendas",
                                to="programmes.topic",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programmes_guide",
                        "ordering": ["kind", "position", "pk"],
                    },
                ),
                migrations.CreateModel(
                    name="Meeting",
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
                        ("starts_at", models.DateTimeField()),
                        (
                            "duration_minutes",
                            models.PositiveSmallIntegerField(
                                default=45,
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(240),
                                ],
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("scheduled", "Scheduled"),
                                    ("held", "Held"),
                                    ("cancelled", "Cancelled"),
                                    ("missed", "Missed"),
                                    ("withdrawn", "Withdrawn (the pair ended)"),
                                ],
                                default="scheduled",
                                max_length=10,
                            ),
                        ),
                        (
                            "led_by",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("mentee", "Mentee (executive)"),
                                    ("reverse_mentor", "Reverse-mentor"),
                                ],
                                max_length=20,
                            ),
                        ),
                        (
                            "cancelled_by",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("mentee", "Mentee (executive)"),
                                    ("reverse_mentor", "Reverse-mentor"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("cancel_reason", models.CharField(blank=True, max_length=200)),
                        (
                            "scheduled_by",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("mentee", "Mentee (executive)"),
                                    ("reverse_mentor", "Reverse-mentor"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("uid", models.UUIDField(editable=False, unique=True)),
                        ("sequence", models.PositiveIntegerField(default=0)),
                        (
                            "submission",
                            models.UUIDField(blank=True, editable=False, null=True, unique=True),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "topic",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="meetings",
                                to="programmes.topic",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programmes_meeting",
                        "ordering": ["pair", "starts_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Pair",
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
                            "status",
                            models.CharField(
                                choices=[
                                    ("proposed", "Proposed"),
                                    ("active", "Active"),
                                    ("paused", "Paused"),
                                    ("ended", "Ended"),
                                ],
                                default="active",
                                max_length=10,
                            ),
                        ),
                        ("started_on", models.DateField(blank=True, null=True)),
                        ("paused_until", models.DateField(blank=True, null=True)),
                        ("resumed_on", models.DateField(blank=True, editable=False, null=True)),
                        ("ended_on", models.DateField(blank=True, null=True)),
                        ("end_reason", models.CharField(blank=True, max_length=200)),
                        (
                            "score",
                            models.FloatField(
                                blank=True, help_text="Matching score when proposed.", null=True
                            ),
                        ),
                        (
                            "introduced_at",
                            models.DateTimeField(blank=True, editable=False, null=True),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "cohort",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="pairs",
                                to="programmes.cohort",
                            ),
                        ),
                        (
                            "mentee",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.RESTRICT,
                                related_name="mentee_pairs",
                                to="programmes.participant",
                            ),
                        ),
                        (
                            "replaces",
                            models.OneToOneField(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="replaced_by",
                                to="pairs.pair",
                            ),
                        ),
                        (
                            "reverse_mentor",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.RESTRICT,
                                related_name="mentor_pairs",
                                to="programmes.participant",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programmes_pair",
                        "ordering": ["cohort", "-created_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Note",
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
                        ("text", models.CharField(max_length=280)),
                        ("shared", models.BooleanField(default=False)),
                        (
                            "submission",
                            models.UUIDField(blank=True, editable=False, null=True, unique=True),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "author",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notes",
                                to="programmes.participant",
                            ),
                        ),
                        (
                            "meeting",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="notes",
                                to="pairs.meeting",
                            ),
                        ),
                        (
                            "pair",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notes",
                                to="pairs.pair",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programmes_note",
                        "ordering": ["pair", "-created_at"],
                    },
                ),
                migrations.AddField(
                    model_name="meeting",
                    name="pair",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="meetings",
                        to="pairs.pair",
                    ),
                ),
                migrations.CreateModel(
                    name="Agreement",
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
                        ("number", models.PositiveSmallIntegerField()),
                        (
                            "driver",
                            models.CharField(
                                choices=[
                                    ("mentee", "Mentee (executive)"),
                                    ("reverse_mentor", "Reverse-mentor"),
                                ],
                                default="reverse_mentor",
                                max_length=20,
                                verbose_name="who schedules and drives the sessions",
                            ),
                        ),
                        (
                            "cadence",
                            models.CharField(
                                choices=[
                                    ("weekly", "Every week"),
                                    ("fortnightly", "Every two weeks"),
                                    ("monthly", "Once a month"),
                                ],
                                default="fortnightly",
                                max_length=20,
                            ),
                        ),
                        (
                            "meeting_mode",
                            models.CharField(
                                choices=[
                                    ("in_person", "In person"),
                                    ("video", "Video call"),
                                    ("either", "Either"),
                                ],
                                default="video",
                                max_length=20,
                            ),
                        ),
                        (
                            "cancellation",
                            models.CharField(
                                default="At least 24 hours ahead, by message, and offer another time.",
                                max_length=300,
                                verbose_name="how to cancel",
                            ),
                        ),
                        (
                            "pledge",
                            models.BooleanField(
                                default=True,
                                help_text="What is said in our sessions stays between us unless we both agree.",
                                verbose_name="confidentiality pledge",
                            ),
                        ),
                        (
                            "proposed_by",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("mentee", "Mentee (executive)"),
                                    ("reverse_mentor", "Reverse-mentor"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("proposed_at", models.DateTimeField(auto_now_add=True)),
                        ("mentee_accepted_at", models.DateTimeField(blank=True, null=True)),
                        ("mentor_accepted_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "submission",
                            models.UUIDField(blank=True, editable=False, null=True, unique=True),
                        ),
                        (
                            "pair",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="agreements",
                                to="pairs.pair",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programmes_agreement",
                        "ordering": ["pair", "-number"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="pair",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status", "ended"), _negated=True),
                        fields=("mentee",),
                        name="pair_one_current_per_mentee",
                        violation_error_message="This mentee already has a current pair.",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="pair",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status", "ended"), _negated=True),
                        fields=("mentee", "reverse_mentor"),
                        name="pair_current_once",
                    ),
                ),
                migrations.AddIndex(
                    model_name="meeting",
                    index=models.Index(
                        fields=["pair", "status", "starts_at"],
                        name="programmes__pair_id_589c97_idx",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="meeting",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "cancelled"), _negated=True),
                            models.Q(("cancelled_by", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="meeting_cancelled_by_someone",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="agreement",
                    constraint=models.UniqueConstraint(
                        fields=("pair", "number"), name="agreement_version_once"
                    ),
                ),
            ],
        ),
        relabel_content_types(
            models=["pair", "agreement", "meeting", "note", "guide"],
            old_app="programmes",
            new_app="pairs",
        ),
    ]

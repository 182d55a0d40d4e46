"""Pairs, sessions, check-ins, flags, KPI snapshots, stories and sponsors' asks move to the
pairs, risks and reporting apps. Their tables stay (each model names its old table), so
an existing database migrates without copying a row."""

from django.db import migrations

MOVED = {
    "pair": "pairs",
    "agreement": "pairs",
    "meeting": "pairs",
    "note": "pairs",
    "guide": "pairs",
    "checkin": "risks",
    "riskflag": "risks",
    "pairaction": "risks",
    "kpisnapshot": "reporting",
    "successstory": "reporting",
    "sponsorask": "reporting",
}


def _relabel(apps, schema_editor, *, forward: bool) -> None:
    """Content types follow their models, so permissions granted on them, the admin's log
    and the outbox's rows about them (Notification.about) keep pointing at the same rows."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, app in MOVED.items():
        old, new = ("programmes", app) if forward else (app, "programmes")
        if content_type.objects.filter(app_label=new, model=model).exists():
            continue
        content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def relabel_forward(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, forward=True)


def relabel_backward(apps, schema_editor) -> None:
    _relabel(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("programmes", "0015_cohort_intake_closing"),
        ("surveys", "0005_meeting_moved_to_pairs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app owns them moves.
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name="checkin",
                    name="flag",
                ),
                migrations.RemoveField(
                    model_name="checkin",
                    name="pair",
                ),
                migrations.RemoveField(
                    model_name="checkin",
                    name="participant",
                ),
                migrations.RemoveField(
                    model_name="checkin",
                    name="trigger",
                ),
                migrations.RemoveField(
                    model_name="guide",
                    name="programme",
                ),
                migrations.RemoveField(
                    model_name="guide",
                    name="topic",
                ),
                migrations.RemoveField(
                    model_name="kpisnapshot",
                    name="cohort",
                ),
                migrations.RemoveField(
                    model_name="kpisnapshot",
                    name="programme",
                ),
                migrations.RemoveField(
                    model_name="meeting",
                    name="pair",
                ),
                migrations.RemoveField(
                    model_name="meeting",
                    name="topic",
                ),
                migrations.RemoveField(
                    model_name="note",
                    name="meeting",
                ),
                migrations.RemoveField(
                    model_name="note",
                    name="author",
                ),
                migrations.RemoveField(
                    model_name="note",
                    name="pair",
                ),
                migrations.RemoveField(
                    model_name="pair",
                    name="cohort",
                ),
                migrations.RemoveField(
                    model_name="pair",
                    name="mentee",
                ),
                migrations.RemoveField(
                    model_name="pair",
                    name="replaces",
                ),
                migrations.RemoveField(
                    model_name="pair",
                    name="reverse_mentor",
                ),
                migrations.RemoveField(
                    model_name="successstory",
                    name="pair",
                ),
                migrations.RemoveField(
                    model_name="pairaction",
                    name="new_pair",
                ),
                migrations.RemoveField(
                    model_name="pairaction",
                    name="pair",
                ),
                migrations.RemoveField(
                    model_name="riskflag",
                    name="pair",
                ),
                migrations.RemoveField(
                    model_name="pairaction",
                    name="by",
                ),
                migrations.RemoveField(
                    model_name="pairaction",
                    name="flag",
                ),
                migrations.RemoveField(
                    model_name="riskflag",
                    name="resolved_by",
                ),
                migrations.RemoveField(
                    model_name="sponsorask",
                    name="programme",
                ),
                migrations.RemoveField(
                    model_name="sponsorask",
                    name="written_by",
                ),
                migrations.RemoveField(
                    model_name="successstory",
                    name="written_by",
                ),
                migrations.DeleteModel(
                    name="Agreement",
                ),
                migrations.DeleteModel(
                    name="CheckIn",
                ),
                migrations.DeleteModel(
                    name="Guide",
                ),
                migrations.DeleteModel(
                    name="KpiSnapshot",
                ),
                migrations.DeleteModel(
                    name="Meeting",
                ),
                migrations.DeleteModel(
                    name="Note",
                ),
                migrations.DeleteModel(
                    name="Pair",
                ),
                migrations.DeleteModel(
                    name="PairAction",
                ),
                migrations.DeleteModel(
                    name="RiskFlag",
                ),
                migrations.DeleteModel(
                    name="SponsorAsk",
                ),
                migrations.DeleteModel(
                    name="SuccessStory",
                ),
            ],
        ),
        migrations.RunPython(relabel_forward, relabel_backward),
    ]

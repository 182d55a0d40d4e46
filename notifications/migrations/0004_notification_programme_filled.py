"""The outbox's rows asked before messages named their programme get it, from what each is
about, as ``Kind.programme_path`` reaches it today (copied here: a migration must not follow
the code as it changes). Rows about a record deleted since, and kinds about no one programme,
keep none: organisation administrators alone see those."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

# Kind -> (the model it is about, the path from that model to its programme).
ABOUT = {
    "intake_invitation": ("programmes.participant", "cohort__programme"),
    "intake_confirmation": ("programmes.participant", "cohort__programme"),
    "intake_reminder": ("programmes.participant", "cohort__programme"),
    "feedback_request": ("programmes.participant", "cohort__programme"),
    "agreement_proposed": ("pairs.agreement", "pair__cohort__programme"),
    "meeting_scheduled": ("pairs.meeting", "pair__cohort__programme"),
    "meeting_rescheduled": ("pairs.meeting", "pair__cohort__programme"),
    "meeting_cancelled": ("pairs.meeting", "pair__cohort__programme"),
    "meeting_marked": ("pairs.meeting", "pair__cohort__programme"),
    "session_reminder": ("pairs.meeting", "pair__cohort__programme"),
    "pair_ended": ("pairs.pair", "cohort__programme"),
    "agreement_reminder": ("pairs.pair", "cohort__programme"),
    "match_introduction": ("pairs.pair", "cohort__programme"),
    "checkin": ("risks.checkin", "pair__cohort__programme"),
    "checkin_manager": ("risks.checkin", "pair__cohort__programme"),
    "checkin_answer": ("risks.checkin", "pair__cohort__programme"),
    "pulse_request": ("surveys.pulserequest", "meeting__pair__cohort__programme"),
    "pulse_nudge": ("surveys.pulserequest", "meeting__pair__cohort__programme"),
    "rematch_alert": ("surveys.pulse", "meeting__pair__cohort__programme"),
    "story_consent": ("reporting.successstory", "pair__cohort__programme"),
    "sponsor_status": ("programmes.programme", "pk"),
}


def fill(apps, schema_editor) -> None:
    Notification = apps.get_model("notifications", "Notification")
    ContentType = apps.get_model("contenttypes", "ContentType")
    for kind, (label, path) in ABOUT.items():
        app_label, model_name = label.split(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model_name).first()
        if content_type is None:
            continue  # no row of that model was ever named
        about = apps.get_model(app_label, model_name)
        Notification.objects.filter(
            kind=kind, content_type=content_type, programme__isnull=True
        ).update(
            programme=Subquery(about.objects.filter(pk=OuterRef("object_id")).values(path)[:1])
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_programme"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("programmes", "0016_move_pairs_risks_reporting_out"),
        ("pairs", "0001_initial"),
        ("risks", "0001_initial"),
        ("surveys", "0005_meeting_moved_to_pairs"),
        ("reporting", "0001_initial"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]

from django.db import migrations, models


def keep_old_answers_private(apps, schema_editor):
    """The boundaries answers written so far were given under "it is never shown to your
    partner or to managers": they stay word for word, marked as not for the manager, so the
    promise their authors read still holds until they answer again."""
    Intake = apps.get_model("programmes", "Intake")
    Intake.objects.exclude(boundaries_text="").update(boundaries_text_for_manager=False)


class Migration(migrations.Migration):
    dependencies = [
        ("programmes", "0009_meeting_withdrawn"),
    ]

    operations = [
        migrations.AddField(
            model_name="intake",
            name="avoid",
            field=models.ManyToManyField(blank=True, related_name="+", to="programmes.person"),
        ),
        migrations.AlterField(
            model_name="intake",
            name="boundaries_text",
            field=models.TextField(
                blank=True,
                verbose_name="anything the programme team should know before matching you",
            ),
        ),
        migrations.AddField(
            model_name="intake",
            name="boundaries_text_for_manager",
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(keep_old_answers_private, migrations.RunPython.noop),
    ]

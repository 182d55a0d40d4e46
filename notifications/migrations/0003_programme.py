"""Messages and wording name their programme (issue #18). It depends on no more of programmes
than the programme itself (0001 already needs it), so that unwinding a later programmes
migration (the move of pairs out of it) leaves these columns alone."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_wording_without_others_free_text"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="messagetemplate",
            options={"ordering": ["kind", "language", "programme"]},
        ),
        migrations.RemoveConstraint(
            model_name="messagetemplate",
            name="message_template_once_per_language",
        ),
        migrations.AddField(
            model_name="messagetemplate",
            name="programme",
            field=models.ForeignKey(
                blank=True,
                help_text="Leave blank for the organisation's default wording.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="programmes.programme",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="programme",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="programmes.programme",
            ),
        ),
        migrations.AddConstraint(
            model_name="messagetemplate",
            constraint=models.UniqueConstraint(
                fields=("kind", "language", "programme"),
                name="message_template_once_per_programme_and_language",
            ),
        ),
        migrations.AddConstraint(
            model_name="messagetemplate",
            constraint=models.UniqueConstraint(
                condition=models.Q(("programme__isnull", True)),
                fields=("kind", "language"),
                name="message_template_once_per_language",
            ),
        ),
    ]

"""Pulses and pulse requests point at pairs.Meeting, the same table as before."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pairs", "0001_initial"),
        ("surveys", "0004_pulse_requests"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay as they are: only Django's idea of which app owns them moves.
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="pulse",
                    name="meeting",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pulses",
                        to="pairs.meeting",
                    ),
                ),
                migrations.AlterField(
                    model_name="pulserequest",
                    name="meeting",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pulse_requests",
                        to="pairs.meeting",
                    ),
                ),
            ],
        ),
    ]

"""Migration 0010 keeps every boundaries answer word for word, and keeps those written under
"never shown to managers" from the manager."""

from datetime import date

import pytest

from tests.programmes.test_migration_withdrawn import _migrate

BEFORE = [("programmes", "0009_meeting_withdrawn")]
AFTER = [("programmes", "0010_intake_boundaries")]


@pytest.mark.django_db(transaction=True)
def test_it_keeps_old_answers_unchanged_and_private_to_their_authors():
    try:
        apps = _migrate(BEFORE)
        Person = apps.get_model("programmes", "Person")
        Participant = apps.get_model("programmes", "Participant")
        programme = apps.get_model("programmes", "Programme").objects.create(
            name="P", slug="p", purpose="Why"
        )
        cohort = apps.get_model("programmes", "Cohort").objects.create(
            programme=programme, name="C", starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 1)
        )
        intakes = {}
        for n, text in enumerate(["Not my health, please.\nThank you.", ""]):
            person = Person.objects.create(full_name=f"P {n}", email=f"p{n}@x.org")
            participant = Participant.objects.create(cohort=cohort, person=person, role="mentee")
            intakes[text] = apps.get_model("programmes", "Intake").objects.create(
                participant=participant, boundaries_text=text
            )

        Intake = _migrate(AFTER).get_model("programmes", "Intake")

        old = Intake.objects.get(pk=intakes["Not my health, please.\nThank you."].pk)
        assert old.boundaries_text == "Not my health, please.\nThank you."
        assert old.boundaries_text_for_manager is False
        empty = Intake.objects.get(pk=intakes[""].pk)
        assert empty.boundaries_text_for_manager is True
    finally:
        _migrate()

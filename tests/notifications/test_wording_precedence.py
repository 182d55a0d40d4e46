"""Which wording a message is sent in (issue #18): its programme's own in the recipient's
language, else its programme's for all languages, else the organisation's in the language,
else the organisation's for all languages, else the files' wording. Another programme's
wording is never used. Each level is tested with every level below it present, through a
real send, so the programme comes from the message being sent."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import translation

from notifications.defaults import message_templates_seed
from notifications.kinds import KINDS
from notifications.models import MessageTemplate, Notification
from notifications.rendering import render_files, template_for
from notifications.sending import notification_send
from notifications.services import notify
from programmes.models import Cohort, Programme
from tests.factories import ParticipantFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

KIND = "intake_invitation"
# (whose, language) from the first choice to the last; None: the files.
LEVELS = [("programme", "fr"), ("programme", ""), ("organisation", "fr"), ("organisation", "")]


def _word(programme: Programme | None, language: str, subject: str) -> None:
    MessageTemplate.objects.update_or_create(
        kind=KIND,
        language=language,
        programme=programme,
        defaults={"subject": subject, "body_text": "{{ intake_url }}"},
    )


def _sent_subject(programme: Programme) -> str:
    participant = ParticipantFactory(
        cohort__programme=programme,
        cohort__status=Cohort.Status.INTAKE,
        person__language="fr",
    )
    notify(kind=KIND, key="k", to=participant.person, about=participant)
    assert notification_send(Notification.objects.get(key="k").pk) == "sent"
    [message] = mail.outbox
    return message.subject


@pytest.mark.parametrize("level", range(len(LEVELS) + 1))
def test_a_message_takes_the_first_wording_there_is(programme: Programme, level: int) -> None:
    MessageTemplate.objects.filter(kind=KIND).delete()
    other = ProgrammeFactory(name="Another programme")
    for language in ("fr", ""):  # another programme's, which must never be chosen
        _word(other, language, "Another programme's")
    for whose, language in LEVELS[level:]:
        _word(programme if whose == "programme" else None, language, f"{whose} {language or 'all'}")

    subject = _sent_subject(programme)

    if level < len(LEVELS):
        whose, language = LEVELS[level]
        assert subject == f"{whose} {language or 'all'}"
    else:
        message = KINDS[KIND].build(Notification.objects.get(key="k"))
        with translation.override("fr"):
            assert subject == render_files(KIND, message.context).subject


def test_a_message_of_no_programme_takes_the_organisation_s_wording(programme: Programme) -> None:
    _word(programme, "", "The programme's")

    row = template_for(KIND, "fr", None)

    assert row is not None
    assert row.programme_id is None


def test_a_regional_language_falls_back_to_its_base_within_each_level(
    programme: Programme,
) -> None:
    _word(programme, "fr", "The programme's French")
    _word(None, "fr-ca", "The organisation's Canadian French")

    row = template_for(KIND, "fr-ca", programme.pk)

    assert row is not None
    assert row.subject == "The programme's French"


def test_one_wording_per_kind_language_and_programme_the_organisation_s_included(
    programme: Programme,
) -> None:
    other = ProgrammeFactory(name="Another programme")
    for owner in (programme, other):  # the same kind and language for each programme
        _word(owner, "fr", "Their own")
    MessageTemplate.objects.create(kind=KIND, language="fr", subject="Ours", body_text="x")

    for owner in (programme, None):  # NULL is no exception for the organisation's row
        with pytest.raises(IntegrityError), transaction.atomic():
            MessageTemplate.objects.create(
                kind=KIND, language="fr", programme=owner, subject="Twice", body_text="x"
            )


def test_seeding_adds_the_organisation_s_default_even_where_a_programme_has_its_own(
    programme: Programme,
) -> None:
    MessageTemplate.objects.filter(kind=KIND).delete()
    _word(programme, "", "The programme's")

    assert KIND in message_templates_seed()

    assert MessageTemplate.objects.filter(kind=KIND, language="", programme=None).exists()
    assert MessageTemplate.objects.get(kind=KIND, programme=programme).subject == (
        "The programme's"
    )

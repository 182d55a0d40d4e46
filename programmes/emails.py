"""The e-mails of the intake stage. Each renders ``templates/emails/<name>_subject.txt`` and
``<name>.txt`` in the recipient's language and sends one message; the tasks call them."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from programmes.models import Participant
from surveys.links import Purpose, participant_url


def send_templated(
    *,
    to: str | list[str],
    name: str,
    context: dict,
    language: str,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> None:
    """``attachments`` are (filename, content, MIME type) triples."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
        body = render_to_string(f"emails/{name}.txt", context)
    recipients = [to] if isinstance(to, str) else list(to)
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    for filename, content, mimetype in attachments or []:
        message.attach(filename, content, mimetype)
    message.send()


def _participant_context(participant: Participant) -> dict:
    return {
        "participant": participant,
        "person": participant.person,
        "programme": participant.cohort.programme,
        "cohort": participant.cohort,
        "site_url": settings.SITE_URL,
    }


def _send_intake_email(participant: Participant, name: str) -> None:
    context = _participant_context(participant) | {
        "intake_url": participant_url(participant_id=participant.pk, purpose=Purpose.INTAKE),
    }
    send_templated(
        to=participant.person.email,
        name=name,
        context=context,
        language=participant.person.language,
    )


def send_intake_invitation(participant: Participant) -> None:
    _send_intake_email(participant, "intake_invitation")


def send_intake_confirmation(participant: Participant) -> None:
    _send_intake_email(participant, "intake_confirmation")

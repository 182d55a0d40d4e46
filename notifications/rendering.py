"""Turning a message's context into its subject and bodies, in the recipient's language: the
wording from the admin (MessageTemplate), its programme's or else the organisation's, where
there is one, else the project's own in ``templates/emails/<kind>_subject.txt``,
``<kind>.txt`` and optionally ``<kind>.html``.

Either way the template sees only what the kind declares (``Kind.project``): plain values and
read-only records, so a wording that asks for more (saved before the checks refused it) gets
an empty string there, never a model or what it links to."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.template import Context, Template, TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.kinds import KINDS
from notifications.models import MessageTemplate


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str = ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def template_for(
    kind: str, language: str, programme_id: int | None = None
) -> MessageTemplate | None:
    """The wording a message of ``programme_id`` gets in ``language``, in one query: the
    programme's own in the language (or its base language: "fr" for "fr-ca"), the
    programme's for all languages, the organisation's in the language, the organisation's
    for all languages; None when there is none (the files' wording is sent)."""
    rows = {
        (row.programme_id, row.language): row
        for row in MessageTemplate.objects.filter(
            Q(programme__isnull=True) | Q(programme=programme_id), kind=kind
        )
    }
    languages = (language, language.split("-")[0], "")
    owners = (programme_id, None) if programme_id is not None else (None,)
    for owner in owners:
        for code in languages:
            if (owner, code) in rows:
                return rows[owner, code]
    return None


def render_from(row: MessageTemplate, context: dict[str, Any]) -> Rendered:
    """``context`` as ``Kind.project`` makes it (render_message and the samples do)."""
    # Times show where the recipient lives (the context's ``zone``), so a manager's wording
    # needs no {% load tz %}{% timezone zone %}; the files set it themselves.
    with timezone.override(context.get("zone") or None):
        plain = Context(context, autoescape=False)
        subject = _one_line(Template(row.subject).render(plain))
        text = Template(row.body_text).render(plain)
        html = Template(row.body_html).render(Context(context)) if row.body_html.strip() else ""
    return Rendered(subject=subject, text=text, html=html)


def render_files(kind: str, context: dict[str, Any]) -> Rendered:
    subject = _one_line(render_to_string(f"emails/{kind}_subject.txt", context))
    text = render_to_string(f"emails/{kind}.txt", context)
    try:
        html: str = render_to_string(f"emails/{kind}.html", context)
    except TemplateDoesNotExist:
        html = ""
    return Rendered(subject=subject, text=text, html=html)


def render_message(
    kind: str, context: dict[str, Any], language: str, programme_id: int | None = None
) -> Rendered:
    """``programme_id``: the programme the message belongs to (``Notification.programme``),
    whose own wording comes first."""
    context = KINDS[kind].project(context)
    with translation.override(language or None):
        row = template_for(kind, language, programme_id)
        return render_from(row, context) if row else render_files(kind, context)

"""The organisation's default wording, which programmes' own wording overrides: one
MessageTemplate per kind, for no programme, in the default language, made from the project's
files in ``templates/emails/``.

Seeded after every ``migrate`` (see apps.py) rather than by a data migration, because the
list of kinds grows with the code: a kind added next month gets its default at the next
deploy, where a migration would have frozen the list it saw. Seeding only adds what is
missing, so an administrator's edits are never overwritten; a deleted default comes back with the
files' wording, which is what was being sent without it anyway.

The files wrap their text in ``{% load tz %}{% autoescape off %}{% timezone zone %}``. The
seeded wording leaves the wrapper out: rendering a manager's wording shows times in the
context's ``zone`` and leaves plain text unescaped already (notifications.rendering), so the
seeded row renders exactly what the file does, and managers, who may not load tag
libraries, can save it again unchanged.
"""

from dataclasses import dataclass
from typing import Any, cast

from django.db import models
from django.template import Template, TemplateDoesNotExist
from django.template.backends.django import Template as DjangoTemplate
from django.template.base import DebugLexer, TokenType
from django.template.loader import get_template

from notifications.kinds import KINDS
from notifications.models import MessageTemplate

# Wrapper tags dropped from the files' subject and plain text (with their end tags); HTML
# keeps its escaping. Anything else from the tz library stays, and then fails to compile:
# that kind is not seeded and keeps its files.
_WRAPPERS = {"timezone zone": "endtimezone", "autoescape off": "endautoescape"}
_SUBJECT_MAX = cast(int, MessageTemplate._meta.get_field("subject").max_length)


@dataclass(frozen=True)
class Wording:
    subject: str
    body_text: str
    body_html: str = ""


def _source(name: str) -> str | None:
    try:
        return cast(DjangoTemplate, get_template(name)).template.source
    except TemplateDoesNotExist:
        return None


def without_wrappers(source: str) -> str:
    """``source`` without ``{% load tz %}`` and the ``{% timezone zone %}`` and
    ``{% autoescape off %}`` blocks' own tags; everything between them is kept as it is."""
    kept = []
    open_tags: list[bool] = []  # per open timezone/autoescape block: is it being dropped?
    for token in DebugLexer(source).tokenize():
        start, end = cast(tuple[int, int], token.position)  # the DebugLexer sets it
        contents = " ".join(token.contents.split()) if token.token_type == TokenType.BLOCK else ""
        if contents == "load tz":
            continue
        if contents.startswith(("timezone", "autoescape")):
            dropped = contents in _WRAPPERS
            open_tags.append(dropped)
            if dropped:
                continue
        elif contents in ("endtimezone", "endautoescape") and open_tags and open_tags.pop():
            continue
        kept.append(source[start:end])
    return "".join(kept)


def default_wording(kind: str) -> Wording | None:
    """The files' wording of ``kind`` as a manager's would be written, or None when the kind
    has no files or they cannot be expressed without loading a tag library."""
    subject = _source(f"emails/{kind}_subject.txt")
    text = _source(f"emails/{kind}.txt")
    if subject is None or text is None:
        return None
    wording = Wording(
        subject=" ".join(without_wrappers(subject).split()),
        body_text=without_wrappers(text),
        body_html=_source(f"emails/{kind}.html") or "",
    )
    if len(wording.subject) > _SUBJECT_MAX:
        return None
    try:
        for source in (wording.subject, wording.body_text, wording.body_html):
            Template(source)
    except Exception:
        return None
    return wording


def message_templates_seed(
    *, model: type[models.Model] = MessageTemplate, using: str = "default"
) -> list[str]:
    """Adds the default wording of every kind that has none yet; returns the kinds added.
    Safe to run any number of times, and alongside another run. ``model`` is the historical
    model when called from post_migrate."""
    existing = set(
        model._default_manager.using(using)
        .filter(language="", programme__isnull=True)
        .values_list("kind", flat=True)
    )
    rows: list[Any] = []  # of ``model``, maybe the historical one
    for kind in KINDS:
        if kind in existing:
            continue
        wording = default_wording(kind)
        if wording is not None:
            rows.append(
                model(
                    kind=kind,
                    language="",
                    subject=wording.subject,
                    body_text=wording.body_text,
                    body_html=wording.body_html,
                )
            )
    # Another process seeding at the same moment: the organisation's unique (kind, language)
    # keeps one.
    model._default_manager.using(using).bulk_create(rows, ignore_conflicts=True)
    return [row.kind for row in rows]

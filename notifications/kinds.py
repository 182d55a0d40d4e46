"""The kinds of message the programme sends, as each app registers them.

Each kind names the function that builds its message when it is sent (in the app that owns
the subject: ``<app>/notices.py``), the variables its wording may use, and whether it waits
for a sensible local hour. A builder takes the Notification and returns a ``Message``, or
None when the message is no longer wanted (the session was moved again, the pair paused): the
row is then cancelled, not sent.

The variables are an allow-list (notifications/schema.py): each names what it offers, and for
a record the exact attributes a wording may read: names, dates, links, counts. Never a user
account, never a record that points back (intakes, notes, pulses), and never free text written
by someone other than the recipient (a cancellation's reason, a pair's end reason, a manager's
notes): a recipient's mail is often read by others (an executive's assistant), and such text
stays on the pages of the people it is meant for. ``Kind.build`` hands on only what is
declared, as plain values and read-only records, so no template ever holds a model instance.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from django.utils.module_loading import import_string

from notifications.schema import VALUE, ListOf, Row, Schema, context_project, fields

if TYPE_CHECKING:
    from notifications.models import Notification


@dataclass
class Message:
    context: dict[str, Any]
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    language: str = ""


@dataclass(frozen=True, eq=False)
class Kind:
    name: str
    label: str
    builder: str  # dotted path of ``(Notification) -> Message | None``
    # Variable name -> what it offers (notifications.schema); a tuple of names declares plain
    # values (text, dates, links, counts) only.
    placeholders: Mapping[str, Schema] | tuple[str, ...]
    # Participants' and sponsors' mail waits for 08:00–20:00 where they live; a message
    # someone has just asked for (their links) or that a manager must act on goes at once.
    quiet_hours: bool = True
    # Which programme a message belongs to, reached from the record it is about (``about``,
    # the model each ask of this kind names): a path of lookups such as "cohort__programme",
    # "" when it is about a programme itself, None when it belongs to no one programme (a
    # password reset, links sent again to a person, a digest of every programme a manager
    # runs). The outbox shows a programme's messages to its managers only, and sends them in
    # that programme's wording (notifications/rendering.py).
    programme_path: str | None = None

    def __post_init__(self) -> None:
        declared = self.placeholders
        if not isinstance(declared, Mapping):
            declared = dict.fromkeys(declared, VALUE)
        object.__setattr__(self, "placeholders", MappingProxyType(dict(declared)))

    def project(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """``context`` as a template may see it: only the declared variables, as plain values
        and read-only records (raises UndeclaredContext for anything else)."""
        placeholders = cast(Mapping[str, Schema], self.placeholders)  # made one in __post_init__
        return context_project(placeholders, context, kind=self.name)

    def build(self, notification: "Notification") -> Message | None:
        builder: Callable[[Notification], Message | None] = import_string(self.builder)
        message = builder(notification)
        if message is not None:
            message.context = self.project(message.context)
        return message


# What a message may say of the records every app's messages name. Each app declares the rest
# with its kinds (``<app>/kinds.py``). Free text appears only where the recipient is meant to
# read it and nobody else wrote it for someone else.
PERSON = fields("full_name")
PROGRAMME = fields("name")
COHORT = fields("name", "starts_on", "ends_on")
PARTICIPANT = fields("role", "get_role_display")
LINKS = ListOf(Row((VALUE, VALUE)))  # (label, url)

# What every message to a participant offers.
PARTICIPANT_MESSAGE: dict[str, Schema] = {
    "person": PERSON,
    "programme": PROGRAMME,
    "cohort": COHORT,
}
PARTICIPANT_MESSAGE |= {"site_url": VALUE}

# Every kind, by name, as the apps register them (``register`` in each app's ``ready``): the
# outbox knows a kind's wording rules and builder without importing the app that owns it.
KINDS: dict[str, Kind] = {}


def register(*kinds: Kind) -> None:
    """Add an app's kinds to ``KINDS``; a name may be registered once."""
    for kind in kinds:
        if KINDS.setdefault(kind.name, kind) is not kind:
            raise ValueError(f"Two kinds of message are named {kind.name!r}")

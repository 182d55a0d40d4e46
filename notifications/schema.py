"""What a message's wording may read, declared per kind (notifications/kinds.py), and the one
helper that turns a builder's context into exactly that.

A kind declares each variable it offers: a plain value (text, a number, a date, a link), a
record with named attributes (``partner`` offers ``full_name``), a list of either, or a row of
a fixed length (``{% for label, url in links %}``). The checks on a manager's wording
(notifications/template_checks.py) accept nothing else, and ``context_project`` builds the
context the renderer sees from the declaration alone: plain values, read-only ``Record``s and
tuples, never a model instance. So whatever the checks might miss, or a wording saved before
they existed asks for (``{{ story.written_by.password }}``), a template can only reach what
its kind declares: anything else renders empty.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from django.utils.functional import Promise


class UndeclaredContext(TypeError):
    """A builder handed over a variable or value its kind does not declare: a programming
    error, caught by the test that builds every kind (tests/notifications/test_template_reach)."""


@dataclass(frozen=True)
class Value:
    """A plain value: text, a number, a date or time, yes/no, or nothing."""

    def __repr__(self) -> str:
        return "VALUE"


VALUE = Value()


@dataclass(frozen=True)
class Fields:
    """A record: the attributes a wording may read, each with its own schema."""

    fields: Mapping[str, "Schema"]

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))

    def __hash__(self) -> int:
        return hash(tuple(self.fields.items()))


@dataclass(frozen=True)
class ListOf:
    """A list (for ``{% for %}``), each item with the same schema."""

    item: "Schema"


@dataclass(frozen=True)
class Row:
    """A tuple of a fixed length, unpacked by ``{% for a, b in … %}``."""

    items: tuple["Schema", ...]


Schema = Value | Fields | ListOf | Row


def fields(*paths: str, **nested: Schema) -> Fields:
    """A record from dotted paths of plain values, and records or lists given by name:
    ``fields("full_name", "topic.title")`` offers ``full_name`` and ``topic.title``."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        *parents, leaf = path.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node.setdefault(leaf, VALUE)

    def build(node: dict[str, Any]) -> Fields:
        return Fields({k: build(v) if isinstance(v, dict) else v for k, v in node.items()})

    record = build(tree)
    return Fields({**record.fields, **nested})


def offers(schema: Schema, name: str) -> list[str]:
    """What ``name`` offers a wording, as it would be written: ``partner.full_name``; a list
    says what each of its items offers."""
    if isinstance(schema, Fields):
        return [path for key, sub in schema.fields.items() for path in offers(sub, f"{name}.{key}")]
    if isinstance(schema, ListOf):
        item = schema.item
        if isinstance(item, Fields):
            inner = [path for key, sub in item.fields.items() for path in offers(sub, key)]
            return [f"{name} (a list; each item offers {', '.join(inner)})"]
        if isinstance(item, Row):
            names = ", ".join("abcdefgh"[: len(item.items)])
            return [f"{name} (a list of {len(item.items)} values each: {{% for {names} in … %}})"]
        return [f"{name} (a list)"]
    if isinstance(schema, Row):
        return [f"{name} (a row of {len(schema.items)} values)"]
    return [name]


class Record:
    """A read-only record of declared values: attributes and ``[]`` read them, and nothing
    else is there (no methods, no relations), so a template cannot reach past it."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", MappingProxyType(dict(values)))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Record is read-only")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and dict(self._values) == dict(other._values)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values)))

    def __repr__(self) -> str:
        return f"Record({dict(self._values)!r})"


# What a plain value may be. A datetime is a date; a bool is an int.
PLAIN = (str, int, float, Decimal, date, time, timedelta)


def _read(source: Any, name: str, where: str) -> Any:
    if isinstance(source, Mapping):
        if name not in source:
            raise UndeclaredContext(f"{where} has no “{name}”")
        return source[name]
    try:
        found = getattr(source, name)
    except AttributeError:
        raise UndeclaredContext(f"{where} has no “{name}”") from None
    # get_<field>_display, and any other declared reading that is a method
    return found() if callable(found) else found


def project(schema: Schema, value: Any, *, where: str) -> Any:
    """``value`` reduced to ``schema``: plain values, Records and tuples. Raises
    UndeclaredContext when ``value`` cannot be (a model where a plain value is declared)."""
    if value is None:
        return None
    if isinstance(schema, Value):
        if isinstance(value, Promise):  # a lazily translated label
            return str(value)
        if isinstance(value, str):
            return value[:]  # a plain str: never a SafeString that skips escaping
        if isinstance(value, PLAIN):
            return value
        raise UndeclaredContext(f"{where} must be a plain value, not {type(value).__name__}")
    if isinstance(schema, Fields):
        return Record(
            {
                name: project(sub, _read(value, name, where), where=f"{where}.{name}")
                for name, sub in schema.fields.items()
            }
        )
    if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
        raise UndeclaredContext(f"{where} must be a list, not {type(value).__name__}")
    items = list(value)
    if isinstance(schema, ListOf):
        return tuple(
            project(schema.item, item, where=f"{where}[{index}]")
            for index, item in enumerate(items)
        )
    if len(items) != len(schema.items):
        raise UndeclaredContext(f"{where} must have {len(schema.items)} items")
    return tuple(
        project(sub, item, where=f"{where}[{index}]")
        for index, (sub, item) in enumerate(zip(schema.items, items, strict=True))
    )


def context_project(
    variables: Mapping[str, Schema], context: Mapping[str, Any], *, kind: str
) -> dict[str, Any]:
    """A builder's ``context`` reduced to the ``variables`` its kind declares. A name the kind
    does not declare is a builder's mistake, refused rather than dropped, so the test that
    builds every kind finds it; a declared name the builder left out renders empty."""
    undeclared = sorted(set(context) - set(variables))
    if undeclared:
        raise UndeclaredContext(f"{kind} does not declare {', '.join(undeclared)}")
    return {
        name: project(schema, context[name], where=name)
        for name, schema in variables.items()
        if name in context
    }

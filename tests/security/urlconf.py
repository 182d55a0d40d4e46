"""Every URL the project serves, read from the URL conf, so that a new URL is noticed."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    key: str  # the URL's name with its namespace, or its pattern when it has no name
    pattern: str


def _walk(patterns: list, prefix: str, namespace: str) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace) if n)
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            if entry.name:
                key = f"{namespace}:{entry.name}" if namespace else entry.name
            else:
                key = pattern
            yield Route(key=key, pattern=pattern)


def routes() -> list[Route]:
    """Each URL once; a name that two patterns share (Django's own password reset views,
    which the project's replace) is one entry, since reverse() reaches only the first."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns, "", ""):
        seen.setdefault(route.key, route)
    return list(seen.values())

"""Reporting lines: who is in whose management chain.

Matching never pairs two people in one reporting line, at any depth, in either direction. The
functions work on a plain ``{person_id: manager_id}`` map, loaded in one query, so a whole
cohort (or an imported file not yet saved) is checked without a query per person.
"""

from collections.abc import Hashable, Mapping
from typing import Any

ManagerMap = Mapping[Any, Hashable | None]  # Any: a Mapping's key type is invariant


def chain_above(person: Hashable, managers: ManagerMap) -> list[Hashable]:
    """Everyone above ``person``, nearest first. Stops at a loop rather than running forever
    (``find_loops`` names loops; the directory refuses to save one)."""
    chain: list[Hashable] = []
    seen = {person}
    current = managers.get(person)
    while current is not None and current not in seen:
        chain.append(current)
        seen.add(current)
        current = managers.get(current)
    return chain


def find_loops(managers: ManagerMap) -> set[Hashable]:
    """Everyone who sits on a management loop (A manages B manages … manages A)."""
    on_loop: set[Hashable] = set()
    state: dict[Hashable, int] = {}  # 1: being walked, 2: done
    for start in managers:
        path: list[Hashable] = []
        node: Hashable | None = start
        while node is not None and node in managers and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = managers[node]
        if node is not None and state.get(node) == 1:
            on_loop.update(path[path.index(node) :])
        for walked in path:
            state[walked] = 2
    return on_loop


def tree_intervals(managers: ManagerMap) -> dict[Hashable, tuple[int, int]]:
    """Depth-first entry and exit numbers for everyone in the directory: B is in A's line
    (A above B) exactly when ``entry[A] <= entry[B]`` and ``exit[B] <= exit[A]``, so a whole
    cohort is checked with one broadcast comparison. People on a loop are treated as roots of
    their own (the directory refuses to save loops)."""
    children: dict[Hashable | None, list[Hashable]] = {}
    loops = find_loops(managers)
    for person, manager in managers.items():
        parent = None if person in loops or manager not in managers else manager
        children.setdefault(parent, []).append(person)
    intervals: dict[Hashable, tuple[int, int]] = {}
    entry: dict[Hashable, int] = {}
    clock = 0
    stack: list[tuple[Hashable, bool]] = [
        (root, False) for root in reversed(children.get(None, []))
    ]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            intervals[node] = (entry[node], clock)
            clock += 1
            continue
        entry[node] = clock
        clock += 1
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(children.get(node, [])))
    return intervals

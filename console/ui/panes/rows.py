"""The pods table's rows without any drawing: which pods pass the filter and in
what order, kept sorted incrementally so that an event storm over 10,000 pods
costs a binary search per changed pod, not a sort per batch.

Sorting follows k9s: every column sorts, the first press of a column's key
picks the direction a person looks for first (most restarts, youngest pods,
worst status, least ready), the next press reverses it; ties go by name, as
kubectl lists pods.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass
from typing import Callable

from console.cluster.printer import PodRow, status_class

# worst first: what a person must look at comes on top
SEVERITY = {"bad": 0, "warn": 1, "good": 2, "done": 3}


def _ready_share(row: PodRow) -> tuple:
    have, _, want = row.ready.partition("/")
    try:
        return (int(have) / int(want) if int(want) else 1.0, int(want))
    except ValueError:
        return (0.0, 0)


@dataclass(frozen=True)
class Sort:
    column: str           # one of columns.NAMES
    key: Callable[[PodRow], tuple]
    first_descending: bool = False   # the direction of the first press


SORTS = {s.column: s for s in (
    Sort("NAME", lambda r: (r.name,)),
    Sort("READY", _ready_share),
    Sort("STATUS", lambda r: (SEVERITY[status_class(r.status, r.ready)], r.status)),
    Sort("RESTARTS", lambda r: (r.restart_count, r.last_restart), first_descending=True),
    # AGE ascending is youngest first: the pods just created
    Sort("AGE", lambda r: (-(r.created or 0.0),)),
    Sort("NODE", lambda r: (r.node,)),
)}


def _flip(value):
    """A value that orders the other way: numbers negated, text by negated code
    points with a terminator that keeps "ab" after "abc"."""
    if isinstance(value, str):
        return tuple(-ord(c) for c in value) + (1,)
    return -value


def matches(row: PodRow, needle: str) -> bool:
    """The filter, as k9s's `/`: a case-insensitive substring of NAME, STATUS or NODE."""
    return not needle or any(needle in c.lower() for c in (row.name, row.status, row.node))


class PodRows:
    """uid -> row for every pod, and the shown ones (filter) in sort order."""

    def __init__(self) -> None:
        self.rows: dict[str, PodRow] = {}       # every pod the table knows
        self.shown: dict[str, PodRow] = {}      # the ones that pass the filter
        self.order: list[str] = []              # shown uids, sorted
        self.keys: dict[str, tuple] = {}        # shown uid -> its sort key
        self.sort = SORTS["NAME"]
        self.descending = False
        self.needle = ""

    def __len__(self) -> int:
        return len(self.order)

    def key(self, row: PodRow) -> tuple:
        primary = self.sort.key(row)
        if self.descending:
            primary = tuple(_flip(v) for v in primary)
        return (*primary, row.name, row.uid)

    def position(self, uid: str) -> int | None:
        key = self.keys.get(uid)
        if key is None:
            return None
        return bisect_left(self.order, key, key=self.keys.__getitem__)

    def put(self, uid: str, row: PodRow | None) -> tuple[int | None, int | None] | None:
        """Add, change (row) or remove (None) one pod. Returns None when the
        row kept its place (no search needed: the common case under a storm),
        else its positions before and after (None where not shown)."""
        if row is None:
            self.rows.pop(uid, None)
        else:
            self.rows[uid] = row
        key = self.key(row) if row is not None and matches(row, self.needle) else None
        old_key = self.keys.get(uid)
        if key is not None and key == old_key:
            self.shown[uid] = row
            return None
        old = None
        if old_key is not None:
            old = self.position(uid)
            del self.order[old]
            del self.keys[uid]
            del self.shown[uid]
        if key is None:
            return old, None
        self.keys[uid] = key
        self.shown[uid] = row
        insort(self.order, uid, key=self.keys.__getitem__)
        return old, self.position(uid)

    def rebuild(self) -> None:
        """Filter and sort everything again (a new filter or sort, a big list)."""
        self.shown = {u: r for u, r in self.rows.items() if matches(r, self.needle)}
        self.keys = {u: self.key(r) for u, r in self.shown.items()}
        self.order = sorted(self.keys, key=self.keys.__getitem__)

    def set_sort(self, column: str, descending: bool) -> None:
        self.sort, self.descending = SORTS[column], descending
        self.rebuild()

    def set_filter(self, text: str) -> None:
        self.needle = text.lower()
        self.rebuild()

    def clear(self) -> None:
        self.rows.clear()
        self.shown.clear()
        self.order.clear()
        self.keys.clear()

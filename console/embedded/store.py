"""The object store: every API object, one resourceVersion counter, watch fan-out.

Resources are named as kubectl names them with their group: "pods", "services",
"events", "deployments.apps", "replicasets.apps",
"horizontalpodautoscalers.autoscaling", "endpointslices.discovery.k8s.io",
"destinationrules.networking.istio.io" ...  Objects are plain JSON dicts in
their storage version.

All methods are synchronous and run on the cluster's one event loop, so each is
atomic. Objects handed out are the caller's own copies, except from `scan` and
`peek`, which are read-only fast paths. A stored object is never changed in
place (a write replaces it), so events, informers and watchers share it. The
store checks nothing about content: defaulting, validation and admission live
in `registry`.
"""

import asyncio
import bisect
import os
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import orjson

from console.embedded.seal import Seals

# watch events kept for resuming; older resourceVersions get 410 (tests shrink it)
HISTORY = int(os.environ.get("KUBELAB_WATCH_HISTORY") or 20_000)
WATCH_QUEUE = 50_000      # a watcher further behind than this is closed (it will relist)


class Expired(Exception):
    """The resourceVersion asked for is older than the history kept (HTTP 410)."""


class Conflict(Exception):
    """Create of an existing name, or update with a stale resourceVersion (HTTP 409)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason  # "AlreadyExists" or "Conflict"


class NotFound(Exception):
    pass


@dataclass
class Event:
    type: str          # ADDED, MODIFIED, DELETED (BOOKMARK/ERROR are made by the API layer)
    res: str
    obj: dict
    old: dict | None = None


@dataclass(eq=False)  # kept in sets: identity, not field equality
class Watcher:
    res: str
    namespace: str | None
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(WATCH_QUEUE))
    closed: bool = False
    reset: bool = False      # dropped as a broken connection would be, not ended cleanly

    def offer(self, ev: Event) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(ev)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        """Ends the stream: the consumer gets None next."""
        if not self.closed:
            self.closed = True
            while True:
                try:
                    self.queue.put_nowait(None)
                    return
                except asyncio.QueueFull:
                    self.queue.get_nowait()


# what orjson would turn into something else (a str, a dict) is refused instead
_EXACT = (orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
          | orjson.OPT_PASSTHROUGH_DATACLASS)


def clone(value):
    """A copy of a JSON value, every dict and list new: what copy.deepcopy gives
    for API objects, through orjson (a pod: ~15 us, deepcopy ~100 us). A value
    orjson cannot round-trip as it is (integers past 64 bits, keys that are not
    strings, datetimes) is copied walking it."""
    try:
        return orjson.loads(orjson.dumps(value, option=_EXACT))
    except TypeError:   # orjson.JSONEncodeError is one
        return _walk(value)


def _walk(value):
    if type(value) is dict:
        return {k: _walk(v) for k, v in value.items()}
    if type(value) is list:
        return [_walk(v) for v in value]
    return value


def _ns(obj: dict) -> str:
    return obj["metadata"].get("namespace") or ""


def _rv(obj: dict) -> int:
    return int(obj["metadata"].get("resourceVersion") or 0)


class Store:
    def __init__(self, journal=None):
        """journal: a persist.Journal (--data DIR): objects and the resourceVersion
        counter come from it, and every change goes to it."""
        self._objs: dict[str, dict[tuple[str, str], dict]] = {}
        self._keys: dict[str, list[tuple[str, str]]] = {}   # res -> its keys, sorted
        self._rv = 0
        self._history: deque[tuple[int, Event]] = deque(maxlen=HISTORY)
        self._watchers: dict[str, set[Watcher]] = {}
        self._listeners: list[Callable[[Event], None]] = []
        self.journal = journal
        self.seals = Seals.from_env()   # tests: stored objects checked never changed in place
        if journal is not None:
            self._objs, self._rv = journal.load()
            journal.attach(self)
        if self.seals is not None:
            for bucket in self._objs.values():
                for obj in bucket.values():
                    self.seals.seal(obj)

    # -- reading -----------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, res: str, namespace: str, name: str) -> dict | None:
        obj = self._objs.get(res, {}).get((namespace or "", name))
        return clone(obj) if obj is not None else None

    def peek(self, res: str, namespace: str, name: str) -> dict | None:
        """Read-only view of one object (no copy, for hot paths). Do not mutate."""
        return self._objs.get(res, {}).get((namespace or "", name))

    def list(self, res: str, namespace: str | None = None) -> list[dict]:
        return [clone(o) for o in self.scan(res, namespace)]

    def scan(self, res: str, namespace: str | None = None,
             after: tuple[str, str] | None = None) -> "list[dict]":
        """Read-only view, in name order within namespace. Do not mutate.
        after: only keys (namespace, name) past this one (a list's next page).
        A list (of the stored objects themselves): a page of 500 knows how many
        are left without walking them."""
        items = self._objs.get(res, {})
        keys = self._sorted(res)
        lo, hi = 0, len(keys)
        if namespace is not None:   # a namespace's keys are one run of the sorted list
            lo = bisect.bisect_left(keys, (namespace,))
            hi = bisect.bisect_left(keys, (namespace + "\0",), lo)
        if after is not None:
            lo = bisect.bisect_right(keys, after, lo, hi)
        return [items[k] for k in keys[lo:hi]]

    def _sorted(self, res: str) -> "list[tuple[str, str]]":
        keys = self._keys.get(res)
        if keys is None:
            keys = self._keys[res] = sorted(self._objs.get(res, {}))
        return keys

    def count(self, res: str) -> int:
        return len(self._objs.get(res, {}))

    def resources(self) -> "list[str]":
        """Every resource that has (or had) objects."""
        return list(self._objs)

    # -- writing -----------------------------------------------------------
    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def create(self, res: str, obj: dict, owned: bool = False) -> dict:
        """owned: obj is the caller's to give away (the store keeps it as it is; the
        caller must not touch it again), saving a copy; what comes back is then the
        stored object itself (read-only)."""
        key = (_ns(obj), obj["metadata"]["name"])
        bucket = self._objs.setdefault(res, {})
        if key in bucket:
            raise Conflict(f'{res} "{key[1]}" already exists', "AlreadyExists")
        if not owned:
            obj = clone(obj)
        obj["metadata"]["resourceVersion"] = self._next_rv()
        bucket[key] = obj
        if self.seals is not None:
            self.seals.seal(obj)
        keys = self._keys.get(res)
        if keys is not None:
            bisect.insort(keys, key)
        self._emit(Event("ADDED", res, obj))
        return obj if owned else clone(obj)

    def update(self, res: str, obj: dict, check_rv: bool = True, owned: bool = False) -> dict:
        """Replace an object. With check_rv, a resourceVersion that is set must match.
        owned: as for create (obj's metadata dict must be its own, the rest may be
        shared with stored objects, which nobody changes in place; the stored object
        comes back, read-only)."""
        key = (_ns(obj), obj["metadata"]["name"])
        old = self._objs.get(res, {}).get(key)
        if old is None:
            raise NotFound(f'{res} "{key[1]}" not found')
        want = obj["metadata"].get("resourceVersion")
        if check_rv and want and want != old["metadata"]["resourceVersion"]:
            raise Conflict(
                f'Operation cannot be fulfilled on {res} "{key[1]}": the object has been '
                "modified; please apply your changes to the latest version and try again",
                "Conflict",
            )
        if not owned:
            obj = clone(obj)
        obj["metadata"]["resourceVersion"] = self._next_rv()
        self._objs[res][key] = obj
        if self.seals is not None:
            self.seals.check(res, old)
            self.seals.seal(obj)
        self._emit(Event("MODIFIED", res, obj, old))
        return obj if owned else clone(obj)

    def delete(self, res: str, namespace: str, name: str) -> dict:
        key = (namespace or "", name)
        old = self._objs.get(res, {}).pop(key, None)
        if old is None:
            raise NotFound(f'{res} "{name}" not found')
        if self.seals is not None:
            self.seals.check(res, old)
        keys = self._keys.get(res)
        if keys is not None:
            i = bisect.bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                del keys[i]
        gone = dict(old)
        gone["metadata"] = dict(old["metadata"], resourceVersion=self._next_rv())
        self._emit(Event("DELETED", res, gone, old))
        return clone(gone)

    # -- watching ----------------------------------------------------------
    def watch(self, res: str, namespace: str | None, since: int | None) -> Watcher:
        """A stream of Events after resourceVersion `since`.

        since None: ADDED for every current object first (what rv "" or "0" means).
        Raises Expired when `since` is older than the kept history.
        """
        w = Watcher(res, namespace)
        if since is None:
            for obj in self.scan(res, namespace):
                w.offer(Event("ADDED", res, obj))
        elif since < self._rv:
            oldest = self._history[0][0] if self._history else self._rv + 1
            if since < oldest - 1:
                raise Expired(f"too old resource version: {since} ({oldest - 1})")
            for rv, ev in self._history:
                if rv > since and ev.res == res and (namespace is None or _ns(ev.obj) == namespace):
                    w.offer(ev)
        self._watchers.setdefault(res, set()).add(w)
        return w

    def stop_watch(self, w: Watcher) -> None:
        self._watchers.get(w.res, set()).discard(w)
        w.close()

    # -- for tests: what a flaky network and etcd compaction do to watchers ------
    def drop_watches(self, reset: bool = False) -> int:
        """End every watch stream now (clients resume from their last resourceVersion);
        reset: cut the connections instead of ending the streams."""
        dropped = 0
        for watchers in self._watchers.values():
            for w in list(watchers):
                w.reset = reset
                w.close()
                dropped += 1
            watchers.clear()
        return dropped

    def compact(self) -> int:
        """Forget the watch history, as etcd compaction does: a watch from any
        resourceVersion older than the current one gets 410 Expired."""
        self._history.clear()
        return self._rv

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """In-process listeners (controllers) see every change, synchronously."""
        self._listeners.append(listener)

    def _emit(self, ev: Event) -> None:
        if self.journal is not None:
            self.journal.record(ev.type, ev.res, ev.obj)
        self._history.append((_rv(ev.obj), ev))
        for w in list(self._watchers.get(ev.res, ())):
            if w.namespace is None or _ns(ev.obj) == w.namespace:
                w.offer(ev)
                if w.closed:
                    self._watchers[ev.res].discard(w)
        for listener in self._listeners:
            listener(ev)

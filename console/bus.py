"""A small typed event bus between producers (informers, metrics, load engine,
actions) and consumers (the UI, later the scenario runner and tapes).

Producers run in threads; `publish` is thread-safe. Each subscriber has a
bounded queue of one of two sorts:
- merging (the UI's, the default): events with a `merge_key` merge (the newest
  replaces an older one still waiting, so a burst on one object collapses to
  its last state); events without a key are kept in order and the oldest are
  dropped when the queue is full (counted in `dropped`); publish never blocks.
- ordered (`merge=False`, a tape recorder's): every event, in publication
  order, none merged or dropped; when `maxsize` events wait, the publisher
  waits for the reader (counted in `waited`), so memory stays bounded.

Every event is a dataclass with a wall-clock timestamp and round-trips
through `to_dict` / `from_dict`, which checks the fields' types (tapes are
read back from files people may edit).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any, ClassVar, get_type_hints

_KINDS: dict[str, type[Event]] = {}


@dataclass
class Event:
    ts: float = field(default_factory=time.time, kw_only=True)
    name: ClassVar[str] = "event"
    supersedes: ClassVar[bool] = False   # replaces everything published before it

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        # a field of that name would shadow the property: every such event would
        # merge with every other (StepStarted's console `key` once did)
        if "merge_key" in cls.__dict__.get("__annotations__", {}):
            raise TypeError(f"{cls.__name__}: a field may not be named merge_key")
        _KINDS[cls.name] = cls

    @property
    def merge_key(self) -> Any:
        """Events with the same key merge in a queue; None never merges."""
        return None

    def to_dict(self) -> dict:
        """The event as JSON-ready data (shallow: the values are the event's own)."""
        return {"event": self.name, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}}


def kind_of(name: str) -> type[Event] | None:
    """The event class published under `name` (None for a kind this version does not know)."""
    return _KINDS.get(name)


_JSON_TYPES = {str: (str,), int: (int,), float: (int, float), bool: (bool,),
               dict: (dict,), list: (list,)}


@functools.cache
def _field_types(cls: type[Event]) -> dict[str, tuple[tuple, bool]]:
    """field -> (the JSON types it takes, whether null is allowed), from the annotations."""
    out = {}
    hints = get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        args = getattr(hint, "__args__", None) or (hint,)
        origin = getattr(hint, "__origin__", None)
        if origin in (dict, list):
            args = (origin,)
        types = tuple(t for a in args for t in _JSON_TYPES.get(getattr(a, "__origin__", a), ()))
        out[f.name] = (types, type(None) in args)
    return out


def from_dict(data: dict) -> Event:
    """The event `to_dict` gave; unknown fields are ignored (a newer writer's),
    a field of the wrong type raises ValueError naming it."""
    data = dict(data)
    kind = data.pop("event", "")
    cls = _KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown event kind {kind!r}")
    types = _field_types(cls)
    kept = {}
    for k, v in data.items():
        if k not in types:
            continue
        allowed, nullable = types[k]
        if v is None and nullable:
            kept[k] = v
        elif allowed and (not isinstance(v, allowed) or (isinstance(v, bool) and bool not in allowed)):
            want = " or ".join(t.__name__ for t in allowed) + (" or null" if nullable else "")
            raise ValueError(f"field {k!r}: expected {want}, got {type(v).__name__}")
        else:
            kept[k] = v
    return cls(**kept)


@dataclass
class ObjectChanged(Event):
    """An informer saw an object ADDED, MODIFIED or DELETED (raw API JSON)."""
    name: ClassVar[str] = "object"
    kind: str = ""          # pods, deployments, replicasets, hpas, events, services, endpointslices
    type: str = "ADDED"
    obj: dict = field(default_factory=dict)

    @property
    def uid(self) -> str:
        meta = self.obj.get("metadata", {})
        return meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"

    @property
    def merge_key(self):
        # Kubernetes Events are a log: each one matters, never merge them.
        return None if self.kind == "events" else (self.kind, self.uid)


@dataclass
class Synced(Event):
    """A list finished: `uids` is the full current set, anything else is gone."""
    name: ClassVar[str] = "synced"
    kind: str = ""
    uids: list = field(default_factory=list)

    @property
    def merge_key(self):
        return ("synced", self.kind)


@dataclass
class WatchState(Event):
    """An informer's link to the API: live, reconnecting or stale."""
    name: ClassVar[str] = "connection"
    kind: str = ""
    state: str = "live"
    detail: str = ""

    @property
    def merge_key(self):
        return ("connection", self.kind)


@dataclass
class Metrics(Event):
    """metrics.k8s.io pod usage, CPU in millicores by pod name."""
    name: ClassVar[str] = "metrics"
    available: bool = True
    cpu: dict = field(default_factory=dict)
    memory: dict = field(default_factory=dict)
    hint: str = ""          # what kubectl says ("error: Metrics API not available")
    why: str = ""           # what that means for the lab, and what to do
    starting: str = ""      # installed, its pods not ready yet: "0 of 1 pods ready"
    pods: str = ""          # those pods' states then: "metrics-server-x: ErrImagePull 0/1"

    @property
    def merge_key(self):
        return "metrics"


@dataclass
class LoadSample(Event):
    """One snapshot of a running load test (cumulative + the last second)."""
    name: ClassVar[str] = "load.sample"
    run: str = ""
    data: dict = field(default_factory=dict)

    @property
    def merge_key(self):
        return ("load", self.run)


@dataclass
class LoadStarted(Event):
    """A load run began (from a key or a scenario): its siege command line."""
    name: ClassVar[str] = "load.started"
    run: str = ""
    command: str = ""
    seconds: float | None = None
    path: str = ""          # how the targets are reached: loopback, port-forward, siege-pod ...
    reason: str = ""        # why that way (console/cluster/route.py)


@dataclass
class LoadDone(Event):
    """A load run ended: siege's summary text and its figures."""
    name: ClassVar[str] = "load.done"
    run: str = ""
    summary: str = ""
    data: dict = field(default_factory=dict)


@dataclass
class Permissions(Event):
    """What this user may not do here (SelfSubjectRulesReview / AccessReview): the
    catalogue actions refused, each with why ("cannot patch deployments/scale in ...")."""
    name: ClassVar[str] = "permissions"
    user: str = ""
    namespace: str = ""
    refused: dict = field(default_factory=dict)
    detail: str = ""        # why the API could not be asked, when it could not

    @property
    def merge_key(self):
        return "permissions"


@dataclass
class ActionProgress(Event):
    """A long action says where it is (kubectl rollout status' lines, for one)."""
    name: ClassVar[str] = "action.progress"
    action: str = ""
    message: str = ""


@dataclass
class ActionDone(Event):
    """An action finished: ok, and the API's own message when not."""
    name: ClassVar[str] = "action"
    action: str = ""
    ok: bool = True
    message: str = ""


# --- scenario progress (console.scenario.runner): the console's scenario pane, the
# headless printer, the recorder and class mode all read these -------------------------
@dataclass
class ScenarioStarted(Event):
    name: ClassVar[str] = "scenario.started"
    run: str = ""                 # this run (several can share a bus: class mode)
    scenario: str = ""            # metadata.id
    title: str = ""
    mode: str = "run"             # run | play | learner
    namespace: str = ""
    steps: list = field(default_factory=list)    # [{"id", "title"}]


@dataclass
class StepStarted(Event):
    name: ClassVar[str] = "scenario.step"
    run: str = ""
    step: str = ""
    index: int = 0
    title: str = ""
    narration: str = ""
    command: str = ""             # what the lab has the learner type
    key: str = ""                 # the console key that does the same, if any
    gate: str = "auto"            # auto | learner: waiting for the person
    files: list = field(default_factory=list)   # the manifests the step applies, as paths here


@dataclass
class CheckResult(Event):
    """A check's outcome; with final=False, what a wait saw so far (these merge)."""
    name: ClassVar[str] = "scenario.check"
    run: str = ""
    step: str = ""
    phase: str = ""               # steady | wait | expect | errors | monitor | check
    check: str = ""               # what is checked, in words
    ok: bool = False
    observed: str = ""
    message: str = ""             # the scenario's own failure message, if any
    final: bool = True

    @property
    def merge_key(self):
        return None if self.final else ("check", self.run, self.step, self.check)


@dataclass
class HintShown(Event):
    name: ClassVar[str] = "scenario.hint"
    run: str = ""
    step: str = ""
    hint: str = ""


@dataclass
class StepFinished(Event):
    name: ClassVar[str] = "scenario.step.done"
    run: str = ""
    step: str = ""
    status: str = ""              # passed | failed | skipped | not-run
    seconds: float = 0.0
    failures: list = field(default_factory=list)


@dataclass
class ScenarioFinished(Event):
    name: ClassVar[str] = "scenario.done"
    run: str = ""
    scenario: str = ""
    status: str = ""              # passed | failed | interrupted
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)   # {"passed": n, "failed": n, ...}


@dataclass
class Marker(Event):
    """A step marker: a scenario step's end with its result (ok None: no
    check), or a moment marked by hand. Replays pause and seek at markers;
    exports take one picture per marker."""
    name: ClassVar[str] = "marker"
    id: str = ""
    title: str = ""
    ok: bool | None = None
    detail: str = ""


@dataclass
class Snapshot(Event):
    """The whole state the console shows, at once (a tape's keyframe, played
    when a replay seeks): `cluster` is ClusterState.snapshot(), `load` and
    `scenario` the events (as dicts) that redraw the Load and Lab panes. It
    supersedes every event still waiting in a merging queue."""
    name: ClassVar[str] = "snapshot"
    supersedes: ClassVar[bool] = True
    cluster: dict = field(default_factory=dict)
    load: list = field(default_factory=list)
    scenario: list = field(default_factory=list)


class Subscription:
    """Merging: the newest state per key, in place; plain events in order. A batch
    is in the order each entry was first queued, keyed and plain alike (a wait's
    last non-final check comes before the final one published after it)."""

    def __init__(self, bus: Bus, maxsize: int):
        self._bus = bus
        self._maxsize = maxsize
        self._keyed: OrderedDict[Any, tuple[int, Event]] = OrderedDict()
        self._plain: deque[tuple[int, Event]] = deque()
        self._seq = 0
        self._cond = threading.Condition()
        self._in_hand = 0        # events of the last batch, until the reader says done()
        self.dropped = 0
        self.merged = 0
        self.closed = False

    def put(self, event: Event) -> None:
        with self._cond:
            if event.supersedes and (self._keyed or self._plain):
                self.merged += len(self._keyed) + len(self._plain)
                self._keyed.clear()
                self._plain.clear()
            key = event.merge_key
            self._seq += 1
            if key is None:
                if len(self._plain) >= self._maxsize:
                    self._plain.popleft()
                    self.dropped += 1
                self._plain.append((self._seq, event))
            elif key in self._keyed:
                # keeps its place; the newest state wins
                self._keyed[key] = (self._keyed[key][0], event)
                self.merged += 1
            else:
                if len(self._keyed) >= self._maxsize:
                    self._keyed.popitem(last=False)
                    self.dropped += 1
                self._keyed[key] = (self._seq, event)
            self._cond.notify()

    def __len__(self) -> int:
        return len(self._keyed) + len(self._plain)

    def get_batch(self, timeout: float | None = None, limit: int = 10_000) -> list[Event]:
        """Everything waiting (up to `limit`), blocking up to `timeout` for the first."""
        with self._cond:
            if not self._keyed and not self._plain and not self.closed:
                self._cond.wait(timeout)
            out: list[Event] = []
            plain, keyed = self._plain, self._keyed
            while (plain or keyed) and len(out) < limit:
                # both are in queueing order: take the older head
                if plain and (not keyed or plain[0][0] < next(iter(keyed.values()))[0]):
                    out.append(plain.popleft()[1])
                else:
                    out.append(keyed.popitem(last=False)[1][1])
            self._in_hand = len(out)
            return out

    def done(self) -> None:
        """The reader has applied the last batch."""
        with self._cond:
            self._in_hand = 0

    @property
    def idle(self) -> bool:
        """Nothing waiting and the last batch done: all published so far is applied
        (a replay paced by its consumer waits for this)."""
        with self._cond:
            return not self._keyed and not self._plain and not self._in_hand

    def close(self) -> None:
        self._bus.unsubscribe(self)
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class Ordered:
    """Every event in publication order, none merged or dropped (a recorder's).

    Bounded without loss: when `maxsize` events wait, `put` waits for the
    reader (the time spent is added to `waited`); closing releases it."""

    def __init__(self, bus: Bus, maxsize: int):
        self._bus = bus
        self._maxsize = maxsize
        self._q: deque[Event] = deque()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)
        self.waited = 0.0
        self.high = 0            # the most events that ever waited at once
        self.closed = False
        self._in_hand = 0

    def put(self, event: Event) -> None:
        with self._lock:
            if len(self._q) >= self._maxsize and not self.closed:
                t0 = time.monotonic()
                while len(self._q) >= self._maxsize and not self.closed:
                    self._room.wait(1.0)
                self.waited += time.monotonic() - t0
            if self.closed:
                return
            self._q.append(event)
            self.high = max(self.high, len(self._q))
            self._ready.notify()

    def __len__(self) -> int:
        return len(self._q)

    def get_batch(self, timeout: float | None = None, limit: int = 10_000) -> list[Event]:
        """The oldest waiting events (up to `limit`), blocking up to `timeout` for the first."""
        with self._lock:
            if not self._q and not self.closed:
                self._ready.wait(timeout)
            n = min(limit, len(self._q))
            out = [self._q.popleft() for _ in range(n)]
            if out:
                self._room.notify_all()
            self._in_hand = n
            return out

    def done(self) -> None:
        with self._lock:
            self._in_hand = 0

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._q and not self._in_hand

    def close(self) -> None:
        """Stop receiving; what still waits can be read with get_batch."""
        self._bus.unsubscribe(self)
        with self._lock:
            self.closed = True
            self._ready.notify_all()
            self._room.notify_all()


class Bus:
    def __init__(self):
        self._subs: list[Subscription | Ordered] = []
        self._lock = threading.Lock()

    def subscribe(self, maxsize: int = 20_000, merge: bool = True) -> Subscription | Ordered:
        """A merging queue (the UI's), or with merge=False an ordered lossless one."""
        sub = Subscription(self, maxsize) if merge else Ordered(self, maxsize)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, event: Event) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub.put(event)


# the events a pane is drawn from, by pane (the console, and a tape's fold)
LOAD_EVENTS = (LoadStarted, LoadSample, LoadDone)
SCENARIO_EVENTS = (ScenarioStarted, StepStarted, CheckResult, HintShown, StepFinished, ScenarioFinished)

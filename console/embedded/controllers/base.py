"""What the controllers share: one store listener that keeps indexes (the
"informer"), and a deduplicating work queue per controller (client-go style).

The store calls listeners synchronously inside every write, so handlers only
enqueue keys; the work happens later in each controller's own loop. Objects
held in the indexes are the store's own dicts: read them, never change them
(the store replaces an object on every write, it never edits one in place).
"""

import asyncio
import logging
from collections import defaultdict
from typing import Awaitable, Callable

from console.embedded.store import Event

log = logging.getLogger("kubelab.controllers")

Key = tuple  # (namespace, name) for most queues


def owner_refs(obj: dict) -> list[dict]:
    return obj["metadata"].get("ownerReferences") or []


def controller_ref(obj: dict) -> dict | None:
    for ref in owner_refs(obj):
        if ref.get("controller"):
            return ref
    return None


def key_of(obj: dict) -> tuple[str, str]:
    return obj["metadata"].get("namespace") or "", obj["metadata"]["name"]


def terminating(obj: dict) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def pod_ready(pod: dict) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def set_condition(status: dict, typ: str, value: str, reason: str, message: str, now: str,
                  probe: bool = False) -> None:
    """setConditionInList (HPA, Job): the condition updated in place, or added;
    lastTransitionTime moves only when its status does; probe: lastProbeTime too."""
    conds = status.setdefault("conditions", [])
    cond = next((c for c in conds if c.get("type") == typ), None)
    if cond is None:
        cond = {"type": typ}
        conds.append(cond)
    if cond.get("status") != value:
        cond["lastTransitionTime"] = now
    cond.update(status=value, reason=reason, message=message)
    if probe:
        cond["lastProbeTime"] = now


def write_status(cluster, res: str, obj: dict, status: dict) -> None:
    """Write obj's status through the /status subresource, unless it is already that."""
    if (obj.get("status") or {}) == status:
        return

    def fn(o):
        if o.get("status") == status:
            return False
        o["status"] = status
    cluster.registry.mutate(res, *key_of(obj), fn, subresource="status")


def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions). Empty matches all."""
    selector = selector or {}
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def map_matches(selector: dict | None, labels: dict | None) -> bool:
    """A plain map selector (Service.spec.selector, nodeSelector)."""
    labels = labels or {}
    for k, v in (selector or {}).items():   # a loop, not all(): every pod change asks
        if labels.get(k) != v:
            return False
    return True


class Informer:
    """Indexes over the whole store, kept current by one listener:
    objects by resource/namespace/name, by uid, dependents by owner uid, and
    by controller uid per resource (what ReplicaSets and Services list on
    every sync: 5,000 pods looked up, not scanned)."""

    def __init__(self, store):
        self.store = store
        self.objs: dict[str, dict[str, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
        self.uids: dict[str, tuple[str, str, str]] = {}
        self.owned: dict[str, dict[tuple[str, str, str], None]] = defaultdict(dict)
        # controller uid -> resource -> {(namespace, name): None}
        self.ctrl: dict[str, dict[str, dict[tuple[str, str], None]]] = {}
        self._handlers: dict[str, list[Callable[[Event], None]]] = defaultdict(list)
        self._any: list[Callable[[Event], None]] = []

    def start(self) -> None:
        resources = self.store.resources()
        for res in resources:
            for obj in self.store.scan(res):
                self._index(res, obj, None)
        self.store.subscribe(self._on_event)

    def on(self, res: str | None, handler: Callable[[Event], None]) -> None:
        """handler(event) for one resource, or for every resource with res None."""
        (self._any if res is None else self._handlers[res]).append(handler)

    # -- reads ---------------------------------------------------------------
    def get(self, res: str, namespace: str, name: str) -> dict | None:
        return self.objs[res].get(namespace or "", {}).get(name)

    def in_namespace(self, res: str, namespace: str) -> list[dict]:
        return list(self.objs[res].get(namespace or "", {}).values())

    def all(self, res: str) -> list[dict]:
        return [o for bucket in self.objs[res].values() for o in bucket.values()]

    def by_uid(self, uid: str) -> tuple[str, str, str] | None:
        return self.uids.get(uid)

    def dependents(self, uid: str, res: str | None = None) -> list[tuple[str, dict]]:
        """(resource, object) pairs that name `uid` in their ownerReferences."""
        out = []
        for r, ns, name in list(self.owned.get(uid, ())):
            if res is None or r == res:
                obj = self.get(r, ns, name)
                if obj is not None:
                    out.append((r, obj))
        return out

    def controlled(self, uid: str, res: str) -> list[dict]:
        """Objects of `res` whose controller reference is `uid`."""
        bucket = self.objs[res]
        out = []
        for ns, name in (self.ctrl.get(uid) or {}).get(res, ()):
            obj = bucket.get(ns, {}).get(name)
            if obj is not None:
                out.append(obj)
        return out

    # -- upkeep --------------------------------------------------------------
    def _index(self, res: str, obj: dict, old: dict | None) -> None:
        ns, name = key_of(obj)
        self.objs[res][ns][name] = obj
        uid = obj["metadata"].get("uid")
        if uid:
            self.uids[uid] = (res, ns, name)
        self._reindex_owners(res, ns, name, old, obj)

    def _unindex(self, res: str, obj: dict) -> None:
        ns, name = key_of(obj)
        bucket = self.objs[res].get(ns)
        if bucket is not None:
            bucket.pop(name, None)
            if not bucket:
                del self.objs[res][ns]
        uid = obj["metadata"].get("uid")
        if uid and self.uids.get(uid) == (res, ns, name):
            del self.uids[uid]
        self._reindex_owners(res, ns, name, obj, None)

    def _reindex_owners(self, res, ns, name, old, new) -> None:
        was = (controller_ref(old) or {}).get("uid") if old else None
        now = (controller_ref(new) or {}).get("uid") if new else None
        if was != now:
            if was:
                by_res = self.ctrl.get(was)
                if by_res is not None:
                    keys = by_res.get(res)
                    if keys is not None:
                        keys.pop((ns, name), None)
                        if not keys:
                            del by_res[res]
                    if not by_res:
                        del self.ctrl[was]
            if now:
                self.ctrl.setdefault(now, {}).setdefault(res, {})[(ns, name)] = None
        if (old and owner_refs(old)) == (new and owner_refs(new)):
            return
        before = {r.get("uid") for r in owner_refs(old)} if old else set()
        after = {r.get("uid") for r in owner_refs(new)} if new else set()
        for uid in before - after:
            deps = self.owned.get(uid)
            if deps is not None:
                deps.pop((res, ns, name), None)
                if not deps:
                    del self.owned[uid]
        for uid in after - before:
            self.owned[uid][(res, ns, name)] = None

    def _on_event(self, ev: Event) -> None:
        if ev.type == "DELETED":
            self._unindex(ev.res, ev.obj)
        else:
            self._index(ev.res, ev.obj, ev.old)
        for handler in [*self._handlers.get(ev.res, ()), *self._any]:
            try:
                handler(ev)
            except Exception:  # a bad handler must not break the writer's request
                log.exception("handler for %s failed", ev.res)


class WorkQueue:
    """Keys to reconcile, each at most once in the queue, one processed at a time.

    A key added while it is being processed runs again afterwards. A sync that
    raises is retried with exponential back-off (5 ms doubling to 1000 s,
    simulated time, as client-go's default rate limiter), and never stops the loop.

    A key whose sync was expensive (a Service with 1,000 pods) rests for
    COOLDOWN times as long in real time before it runs again, so a burst of
    pod changes folds into a few syncs and the loop keeps serving the API
    (and the kubelets: with 5,000 pods each such key takes at most a tenth).
    A sync that returns True has more to do at once (a ReplicaSet past its
    burst of creates): it runs again without resting.

    Keys run back to back for up to SLICE of real time before the loop is let go
    to the others: one key per turn of a loop that also runs 5,000 pods' kubelet
    tasks bound ~250 pods a second; client-go's workers do not wait for a turn.
    """

    COOLDOWN = 9.0
    SLICE = 0.005

    def __init__(self, cluster, name: str, sync: Callable[[Key], Awaitable[None]]):
        self.cluster = cluster
        self.name = name
        self._sync = sync
        self._pending: dict[Key, None] = {}
        self._wake = asyncio.Event()
        self._failures: dict[Key, int] = {}
        self._timers: dict[Key, asyncio.TimerHandle] = {}
        self._rest: dict[Key, float] = {}        # key -> loop time it may run again
        self._resting: dict[Key, asyncio.TimerHandle] = {}

    def add(self, key: Key) -> None:
        if key in self._pending or key in self._resting:
            return
        until = self._rest.get(key)
        if until is not None:
            loop = asyncio.get_running_loop()
            if until > loop.time():
                self._resting[key] = loop.call_at(until, self._wake_rested, key)
                return
            del self._rest[key]
        self._pending[key] = None
        self._wake.set()

    def _wake_rested(self, key: Key) -> None:
        self._resting.pop(key, None)
        self._rest.pop(key, None)
        self.add(key)

    def add_after(self, key: Key, sim_seconds: float) -> None:
        """Add later; an earlier pending timer for the key wins."""
        timer = self._timers.get(key)
        due = asyncio.get_running_loop().time() + self.cluster.clock.real(sim_seconds)
        if timer is not None and not timer.cancelled() and timer.when() <= due:
            return
        if timer is not None:
            timer.cancel()
        self._timers[key] = self.cluster.clock.call_later(sim_seconds, self._fire, key)

    def _fire(self, key: Key) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def __len__(self) -> int:
        """Keys waiting to run, resting ones included."""
        return len(self._pending) + len(self._resting)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        turn = loop.time()
        try:
            while True:
                if not self._pending:
                    self._wake.clear()
                    await self._wake.wait()
                    turn = loop.time()
                key = next(iter(self._pending))
                del self._pending[key]
                started = loop.time()
                try:
                    again = await self._sync(key)
                    self._failures.pop(key, None)
                    took = loop.time() - started
                    if again is True:
                        self._rest.pop(key, None)
                        self._pending[key] = None
                    elif took > 0.002:
                        if len(self._rest) > 10_000:
                            now = loop.time()
                            self._rest = {k: t for k, t in self._rest.items() if t > now}
                        self._rest[key] = loop.time() + self.COOLDOWN * took
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    n = self._failures.get(key, 0)
                    self._failures[key] = n + 1
                    delay = min(0.005 * 2 ** min(n, 20), 1000.0)
                    level = logging.WARNING if n < 3 else logging.ERROR
                    log.log(level, "%s: sync %s failed (retry in %.3gs): %s",
                            self.name, key, delay, exc, exc_info=n >= 3)
                    self.add_after(key, delay)
                if loop.time() - turn >= self.SLICE:
                    await asyncio.sleep(0)  # let the API server and the others breathe
                    turn = loop.time()
        finally:
            for timer in [*self._timers.values(), *self._resting.values()]:
                timer.cancel()
            self._timers.clear()
            self._resting.clear()

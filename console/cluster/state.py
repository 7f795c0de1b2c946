"""The namespace as the informers last reported it, folded from bus events.

The UI and (later) the scenario runner read from here; nothing in this module
talks to the API or draws anything, so it is tested with plain dicts.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass

from console import bus
from console.cluster.printer import hpa_row, images, parse_time, revision

# Event reasons the probe pane shows (kubelet and controller reasons).
PROBE_REASONS = {"Unhealthy", "Killing", "BackOff", "Failed", "ProbeWarning",
                 "Started", "Pulling", "Pulled", "Created", "Scheduled"}
HISTORY = 240          # points kept per chart series


@dataclass
class EventLine:
    ts: float
    type: str
    reason: str
    obj: str
    message: str
    count: int


@dataclass
class Rollout:
    name: str
    revision: int
    image: str
    desired: int
    updated: int
    ready: int
    available: int
    complete: bool
    history: list          # [(revision, image, replicas)] oldest first


class ClusterState:
    def __init__(self):
        self.objects: dict[str, dict[str, dict]] = {k: {} for k in (
            "pods", "deployments", "replicasets", "hpas", "events", "services", "endpointslices")}
        self.links: dict[str, tuple[str, str]] = {}
        self.metrics = bus.Metrics(available=False, hint="")
        self.metrics_seen = False
        self.events: deque[EventLine] = deque(maxlen=500)
        self._event_rv: dict[str, tuple[str, int]] = {}
        self.hpa_history: dict[str, deque] = {}
        self.version = 0
        self.synced: set[str] = set()
        self.new_lines: list[EventLine] = []
        self._ready: dict[str, bool] = {}

    def apply(self, ev: bus.Event) -> set[str]:
        """Fold one event in; return the kinds that changed."""
        self.version += 1
        if isinstance(ev, bus.ObjectChanged):
            store = self.objects.setdefault(ev.kind, {})
            if ev.type == "DELETED":
                store.pop(ev.uid, None)
            else:
                store[ev.uid] = ev.obj
                if ev.kind == "events":
                    return {"events"} if self._event(ev.obj, ev.ts) else set()
                if ev.kind == "hpas":
                    self._hpa_point(ev.obj, ev.ts)
            if ev.kind == "pods":
                self._ready_change(ev.uid, ev.ts)
            return {ev.kind}
        if isinstance(ev, bus.Synced):
            store = self.objects.setdefault(ev.kind, {})
            self.synced.add(ev.kind)
            keep = set(ev.uids)
            for uid in [u for u in store if u not in keep]:
                del store[uid]
            return {ev.kind}
        if isinstance(ev, bus.WatchState):
            self.links[ev.kind] = (ev.state, ev.detail)
            return {"links"}
        if isinstance(ev, bus.Metrics):
            self.metrics, self.metrics_seen = ev, True
            return {"metrics"}
        if isinstance(ev, bus.Snapshot):
            self.restore(ev.cluster)
            return set(self.objects) | {"links", "metrics"}
        return set()

    # --- the whole state at once (a tape's keyframe) --------------------------------
    def snapshot(self) -> dict:
        """Everything apply() has folded in, as plain JSON: restore() of it
        gives a state whose panes draw the same, history included."""
        return {
            "objects": {kind: dict(store) for kind, store in self.objects.items()},
            "synced": sorted(self.synced),
            "links": {k: list(v) for k, v in self.links.items()},
            "metrics": {k: v for k, v in dataclasses.asdict(self.metrics).items()},
            "metrics_seen": self.metrics_seen,
            "lines": [dataclasses.astuple(line) for line in self.events],
            "seen_events": {uid: list(v) for uid, v in self._event_rv.items()},
            "hpa_history": {name: [list(p) for p in points] for name, points in self.hpa_history.items()},
            "ready": dict(self._ready),
        }

    def restore(self, snap: dict) -> None:
        """Replace everything with a snapshot(); its log lines count as new
        (a console redraws its log from them)."""
        self.objects = {k: {} for k in self.objects}
        for kind, store in (snap.get("objects") or {}).items():
            self.objects[kind] = dict(store)
        self.synced = set(snap.get("synced") or ())
        self.links = {k: (v[0], v[1]) for k, v in (snap.get("links") or {}).items()}
        self.metrics = bus.Metrics(**snap["metrics"]) if snap.get("metrics") else \
            bus.Metrics(available=False, hint="")
        self.metrics_seen = bool(snap.get("metrics_seen"))
        self.events = deque((EventLine(*line) for line in snap.get("lines") or ()),
                            maxlen=self.events.maxlen)
        self._event_rv = {uid: (v[0], v[1]) for uid, v in (snap.get("seen_events") or {}).items()}
        self.hpa_history = {name: deque((tuple(p) for p in points), maxlen=HISTORY)
                            for name, points in (snap.get("hpa_history") or {}).items()}
        self._ready = dict(snap.get("ready") or {})
        self.new_lines = list(self.events)
        self.version += 1

    def _event(self, obj: dict, seen: float) -> bool:
        """A Kubernetes Event becomes a log line once per (uid, count)."""
        meta = obj.get("metadata", {})
        uid, count = meta.get("uid", ""), int(obj.get("count") or 1)
        if self._event_rv.get(uid, ("", 0))[1] >= count:
            return False
        self._event_rv[uid] = (meta.get("resourceVersion", ""), count)
        if len(self._event_rv) > 5000:
            for key in list(self._event_rv)[:1000]:
                del self._event_rv[key]
        inv = obj.get("involvedObject") or obj.get("regarding") or {}
        ts = (parse_time(obj.get("lastTimestamp")) or parse_time(obj.get("eventTime"))
              or parse_time(meta.get("creationTimestamp")) or seen)
        self._line(EventLine(ts, obj.get("type", "Normal"), obj.get("reason", ""),
                             f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}",
                             (obj.get("message") or obj.get("note") or "").strip(), count))
        return True

    def _line(self, line: EventLine) -> None:
        self.events.append(line)
        self.new_lines.append(line)
        del self.new_lines[:-500]

    def take_new_lines(self) -> list[EventLine]:
        out, self.new_lines = self.new_lines, []
        return out

    def _ready_change(self, uid: str, seen: float) -> None:
        """Readiness flips have no Event of their own: make a line for each, in
        the order the pod's changes come (so a log reads the same however the
        events were batched)."""
        pod = self.objects["pods"].get(uid)
        if pod is None:
            self._ready.pop(uid, None)
            return
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in pod.get("status", {}).get("conditions") or [])
        before = self._ready.get(uid)
        self._ready[uid] = ready
        if before is not None and before != ready:
            cond = next((c for c in pod["status"].get("conditions") or []
                         if c.get("type") == "Ready"), {})
            ts = parse_time(cond.get("lastTransitionTime")) or seen
            self._line(EventLine(ts, "Normal", "Ready" if ready else "NotReady",
                                 f"pod/{pod['metadata']['name']}",
                                 "pod is ready" if ready else "pod is not ready", 1))

    def _hpa_point(self, obj: dict, ts: float) -> None:
        row = hpa_row(obj, ts)
        series = self.hpa_history.setdefault(row.name, deque(maxlen=HISTORY))
        series.append((ts, row.replicas, row.utilization, row.target))

    # --- queries --------------------------------------------------------------
    @property
    def pods(self) -> list[dict]:
        return list(self.objects["pods"].values())

    def hpas(self) -> list[dict]:
        return sorted(self.objects["hpas"].values(), key=lambda o: o["metadata"]["name"])

    def deployments(self) -> list[dict]:
        return sorted(self.objects["deployments"].values(), key=lambda o: o["metadata"]["name"])

    def deployment_names(self) -> list[str]:
        return [d["metadata"]["name"] for d in self.deployments()]

    def service_names(self) -> list[str]:
        return sorted(s["metadata"]["name"] for s in self.objects["services"].values()
                      if s["metadata"]["name"] != "kubernetes")

    def owner_deployment(self, pod: dict) -> str | None:
        """Pod -> ReplicaSet -> Deployment name, from ownerReferences."""
        for ref in pod.get("metadata", {}).get("ownerReferences") or []:
            if ref.get("kind") == "ReplicaSet":
                rs = self.objects["replicasets"].get(ref.get("uid"))
                for r2 in (rs or {}).get("metadata", {}).get("ownerReferences") or []:
                    if r2.get("kind") == "Deployment":
                        return r2.get("name")
                name = ref.get("name", "")
                return name.rsplit("-", 1)[0] if "-" in name else None
        return None

    def rollout(self, name: str) -> Rollout | None:
        dep = next((d for d in self.objects["deployments"].values()
                    if d["metadata"]["name"] == name), None)
        if dep is None:
            return None
        spec, st = dep.get("spec", {}), dep.get("status", {})
        uid = dep["metadata"].get("uid")
        sets = sorted((rs for rs in self.objects["replicasets"].values()
                       if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or [])),
                      key=revision)
        desired = int(spec.get("replicas", 1))
        updated = int(st.get("updatedReplicas") or 0)
        available = int(st.get("availableReplicas") or 0)
        complete = (st.get("observedGeneration", 0) >= dep["metadata"].get("generation", 0)
                    and updated == desired and available == desired
                    and int(st.get("replicas") or 0) == desired)
        return Rollout(name, revision(dep), images(spec.get("template", {})), desired, updated,
                       int(st.get("readyReplicas") or 0), available, complete,
                       [(revision(rs), images(rs["spec"].get("template", {})),
                         int(rs.get("status", {}).get("replicas") or 0)) for rs in sets])

    def link_summary(self) -> tuple[str, str]:
        """The worst link state over all informers, and why."""
        order = {"live": 0, "connecting": 1, "reconnecting": 2, "stale": 3, "refused": 4}
        if not self.links:
            return "connecting", ""
        return max(self.links.values(), key=lambda sd: order.get(sd[0], 1))

"""ReplicaSet controller: keeps `spec.replicas` pods alive for each ReplicaSet.

As kube-controller-manager's: pods named <rs>-<5 chars> with a controller
ownerReference, created in slow-start batches (1, 2, 4 ...), at most 500 per
sync; on scale-down the least valuable pods go first (unscheduled, pending,
not ready, doubled up on a node, ready the shortest time, most restarts,
newest). Terminating and finished pods do not count.
"""

import asyncio
import copy
from datetime import datetime

from console.embedded.controllers.base import (
    Informer, WorkQueue, controller_ref, key_of, pod_ready, selector_matches, terminating,
)
from console.embedded.store import Conflict, NotFound

RES = "replicasets.apps"
COMPONENT = "replicaset-controller"
BURST = 500


def pod_active(pod: dict) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not terminating(pod)


def epoch(stamp: str | None) -> float:
    if not stamp:
        return 0.0
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def pod_from_template(rs: dict, kind: str = "ReplicaSet", api_version: str = "apps/v1") -> dict:
    """A pod of the owner's spec.template (a ReplicaSet's, a DaemonSet's, a Job's),
    named <owner>-<5 chars>, controlled by the owner."""
    template = rs["spec"].get("template") or {}
    tmeta = template.get("metadata") or {}
    meta = {
        "generateName": rs["metadata"]["name"] + "-",
        "namespace": rs["metadata"].get("namespace") or "default",
        "labels": dict(tmeta.get("labels") or {}),
        "ownerReferences": [{
            "apiVersion": api_version, "kind": kind, "name": rs["metadata"]["name"],
            "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True,
        }],
    }
    for k in ("annotations", "finalizers"):
        if tmeta.get(k):
            meta[k] = copy.deepcopy(tmeta[k])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": copy.deepcopy(template.get("spec") or {})}


class Tally:
    """One ReplicaSet's pods as its sync counts them, kept current by the pod
    handler: each pod's facts (active, ready, selected, fully labelled) against the
    ReplicaSet's spec of `whose` (uid, generation), and their sums over the active
    pods. A sync reads the sums, not 5,000 pods; a new generation counts again."""

    def __init__(self, rs: dict, pods: list[dict]):
        meta, spec = rs["metadata"], rs["spec"]
        self.whose = (meta.get("uid"), meta.get("generation"))
        self.selector = spec.get("selector")
        self.want = tuple((((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}).items())
        self.facts: dict[str, tuple[bool, bool, bool, bool]] = {}   # pod uid -> facts
        self.active = self.ready = self.claimed = self.labelled = 0   # claimed: selected
        for pod in pods:
            self.put(pod)

    def put(self, pod: dict) -> None:
        labels = pod["metadata"].get("labels") or {}
        new = (pod_active(pod), pod_ready(pod), selector_matches(self.selector, labels),
               all(labels.get(k) == v for k, v in self.want))
        uid = pod["metadata"].get("uid", "")
        old = self.facts.get(uid)
        if old != new:
            self._add(old, -1)
            self.facts[uid] = new
            self._add(new, 1)

    def drop(self, uid: str) -> None:
        self._add(self.facts.pop(uid, None), -1)

    def _add(self, f: tuple | None, sign: int) -> None:
        if f is not None and f[0]:
            self.active += sign
            self.ready += sign * f[1]
            self.claimed += sign * f[2]
            self.labelled += sign * f[3]

    def pods(self, informer: Informer, *want: int) -> list[dict]:
        """The active pods whose facts at each index in `want` hold (a walk: for
        the rarer syncs that need the pods themselves)."""
        out = []
        for pod in informer.controlled(self.whose[0], "pods"):
            f = self.facts.get(pod["metadata"].get("uid", ""))
            if f is not None and f[0] and all(f[i] for i in want):
                out.append(pod)
        return out


class ReplicaSetController:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "replicaset", self.sync)
        self._ready_since: dict[str, float] = {}   # pod uid -> simulated time first seen Ready
        self._orphans: dict[str, dict[str, None]] = {}   # namespace -> pod names without controller
        self._tallies: dict[str, Tally] = {}   # ReplicaSet uid -> its pods counted
        for pod in informer.all("pods"):
            self._track(pod, pod)  # already Ready: no transition seen
        informer.on(RES, self._on_rs)
        informer.on("pods", self._on_pod)
        for rs in informer.all(RES):
            self.queue.add(key_of(rs))

    # -- events --------------------------------------------------------------
    def _on_rs(self, ev) -> None:
        if ev.type != "DELETED":
            self.queue.add(key_of(ev.obj))
        else:
            self._tallies.pop(ev.obj["metadata"].get("uid", ""), None)

    def _on_pod(self, ev) -> None:
        pod = ev.obj
        if ev.type == "DELETED":
            self._track(None, pod)
        else:
            self._track(pod, ev.old)
        self._count(ev)
        for obj in (pod, ev.old):
            if obj is None:
                continue
            ref = controller_ref(obj)
            if ref is not None:
                if ref.get("kind") == "ReplicaSet":
                    found = self.inf.by_uid(ref.get("uid", ""))
                    if found and found[0] == RES:
                        self.queue.add(found[1:])
            elif ev.type != "DELETED":
                ns = pod["metadata"].get("namespace") or ""
                for rs in self.inf.in_namespace(RES, ns):
                    if selector_matches(rs["spec"].get("selector"), pod["metadata"].get("labels")):
                        self.queue.add(key_of(rs))

    def _track(self, pod: dict | None, old: dict | None) -> None:
        """Orphan index, and when each pod was first seen Ready (pods Ready before
        we started fall back to their condition's lastTransitionTime)."""
        ref = pod or old
        ns, name = key_of(ref)
        uid = ref["metadata"].get("uid", "")
        orphans = self._orphans.setdefault(ns, {})
        if pod is None:
            orphans.pop(name, None)
            self._ready_since.pop(uid, None)
            return
        if controller_ref(pod) is None:
            orphans[name] = None
        else:
            orphans.pop(name, None)
        if pod_ready(pod):
            if old is None or not pod_ready(old):   # the moment it became Ready
                self._ready_since.setdefault(uid, self.cluster.clock.elapsed())
        else:
            self._ready_since.pop(uid, None)

    def _count(self, ev) -> None:
        """The pod into its controller's Tally (and out of the one it left)."""
        was = (controller_ref(ev.old) or {}).get("uid") if ev.old is not None else None
        now = None if ev.type == "DELETED" else (controller_ref(ev.obj) or {}).get("uid")
        if was and was != now and was in self._tallies:
            self._tallies[was].drop(ev.obj["metadata"].get("uid", ""))
        if now and now in self._tallies:
            self._tallies[now].put(ev.obj)

    def _tally(self, rs: dict) -> Tally:
        meta = rs["metadata"]
        tally = self._tallies.get(meta["uid"])
        if tally is None or tally.whose != (meta["uid"], meta.get("generation")):
            tally = self._tallies[meta["uid"]] = Tally(rs, self.inf.controlled(meta["uid"], "pods"))
        return tally

    # -- availability ----------------------------------------------------------
    def ready_for(self, pod: dict) -> float:
        """Simulated seconds the pod has been Ready (0 when it is not)."""
        if not pod_ready(pod):
            return 0.0
        since = self._ready_since.get(pod["metadata"].get("uid", ""))
        if since is not None:
            return self.cluster.clock.elapsed() - since
        for c in pod["status"].get("conditions") or []:
            if c.get("type") == "Ready" and c.get("lastTransitionTime"):
                wall = self.cluster.clock.now().timestamp() - epoch(c["lastTransitionTime"])
                return max(0.0, wall * self.cluster.clock.speed)
        return 0.0

    def available(self, pod: dict, min_ready: int) -> bool:
        return pod_ready(pod) and (min_ready <= 0 or self.ready_for(pod) >= min_ready)

    # -- reconcile -------------------------------------------------------------
    async def sync(self, key) -> bool:
        """True when more pods are to be created or deleted than one burst does."""
        ns, name = key
        rs = self.inf.get(RES, ns, name)
        if rs is None:
            return False
        failure = None
        more = False
        if not terminating(rs):
            # released and adopted pods leave and join the tally as they are written
            self._release(rs, self._tally(rs))
            self._adopt(rs)
            tally = self._tally(rs)
            more = abs(tally.claimed - rs["spec"].get("replicas", 1)) > BURST
            try:
                await self._manage(rs, tally)
            except Exception as exc:
                failure = exc  # reported in the status first, then retried with back-off
            rs = self.inf.get(RES, ns, name)
            if rs is None:
                return False
        self._write_status(rs, self._tally(rs), failure)
        if failure is not None:
            raise failure
        return more

    def _release(self, rs: dict, tally: Tally) -> None:
        """A pod relabelled out of the selector is let go (and replaced), as
        ClaimPods does: a common way to take a pod aside for debugging."""
        if tally.claimed == tally.active:
            return
        uid = rs["metadata"]["uid"]
        for pod in tally.pods(self.inf):
            if tally.facts[pod["metadata"].get("uid", "")][2]:
                continue

            def drop(p):
                refs = [r for r in p["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                if len(refs) == len(p["metadata"].get("ownerReferences") or []):
                    return False
                if refs:
                    p["metadata"]["ownerReferences"] = refs
                else:
                    p["metadata"].pop("ownerReferences", None)
            self.cluster.registry.mutate("pods", *key_of(pod), drop)

    def _adopt(self, rs: dict) -> None:
        ns = rs["metadata"].get("namespace") or ""
        selector = rs["spec"].get("selector")
        if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
            return
        for pname in list(self._orphans.get(ns, {})):
            pod = self.inf.get("pods", ns, pname)
            if pod is None or not pod_active(pod) or controller_ref(pod) is not None:
                continue
            if not selector_matches(selector, pod["metadata"].get("labels")):
                continue
            ref = pod_from_template(rs)["metadata"]["ownerReferences"][0]

            def own(p):
                if controller_ref(p) is not None:
                    return False
                p["metadata"]["ownerReferences"] = (p["metadata"].get("ownerReferences") or []) + [ref]
            self.cluster.registry.mutate("pods", ns, pname, own)

    async def _manage(self, rs: dict, tally: Tally) -> None:
        want = rs["spec"].get("replicas", 1)
        diff = tally.claimed - want
        if diff < 0:
            await self._create(rs, min(-diff, BURST))
        elif diff > 0:
            for pod in self._victims(tally.pods(self.inf, 2), min(diff, BURST)):
                pns, pname = key_of(pod)
                try:
                    self.cluster.registry.delete("pods", pns, pname)
                except NotFound:
                    continue
                self.cluster.event(rs, "SuccessfulDelete", f"Deleted pod: {pname}",
                                   component=COMPONENT)

    async def _create(self, rs: dict, count: int) -> None:
        batch, done = 1, 0
        while done < count:
            for _ in range(min(batch, count - done)):
                try:
                    pod = self._create_one(rs)
                except Exception as exc:
                    self.cluster.event(rs, "FailedCreate", f"Error creating: {exc}", "Warning",
                                       component=COMPONENT)
                    raise
                done += 1
                self.cluster.event(rs, "SuccessfulCreate",
                                   f"Created pod: {pod['metadata']['name']}", component=COMPONENT)
            batch *= 2
            await asyncio.sleep(0)

    def _create_one(self, rs: dict) -> dict:
        # A generated name can collide (27^5 names); the API server since 1.32
        # retries that itself, so a collision is not a failure here either.
        for attempt in range(8):
            try:
                return self.cluster.registry.create("pods", pod_from_template(rs), owned=True)
            except Conflict:
                if attempt == 7:
                    raise

    def _victims(self, pods: list[dict], n: int) -> list[dict]:
        per_node: dict[str, int] = {}
        for p in pods:
            node = p["spec"].get("nodeName") or ""
            per_node[node] = per_node.get(node, 0) + 1
        phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}

        def rank(p):
            node = p["spec"].get("nodeName") or ""
            status = p.get("status") or {}
            restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
            return (
                1 if node else 0,
                phase_rank.get(status.get("phase"), 0),
                1 if pod_ready(p) else 0,
                -(per_node[node] if node else 0),
                self.ready_for(p),
                -restarts,
                -epoch(p["metadata"].get("creationTimestamp")),
                p["metadata"]["name"],
            )
        return sorted(pods, key=rank)[:n]

    def _write_status(self, rs: dict, tally: Tally, failure: Exception | None = None) -> None:
        spec = rs["spec"]
        min_ready = spec.get("minReadySeconds") or 0
        ready = tally.pods(self.inf, 1) if min_ready > 0 else []
        new = {
            "replicas": tally.active,
            "fullyLabeledReplicas": tally.labelled,
            "readyReplicas": tally.ready,
            "availableReplicas": tally.ready if min_ready <= 0 else
            sum(1 for p in ready if self.available(p, min_ready)),
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if min_ready > 0 and new["readyReplicas"] > new["availableReplicas"]:
            # A pod becomes available by the passing of time alone: look again then.
            waits = [min_ready - self.ready_for(p) for p in ready if not self.available(p, min_ready)]
            self.queue.add_after(key_of(rs), max(0.0, min(waits)) + 0.001)
        old = rs.get("status") or {}
        conds = list(old.get("conditions") or [])
        failing = next((c for c in conds if c.get("type") == "ReplicaFailure"), None)
        if failure is not None and failing is None:
            # Set once, as k8s does; rewriting it each try would wake this controller in a loop.
            conds.append({"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                          "message": str(failure), "lastTransitionTime": self.cluster.clock.stamp()})
        elif failure is None and failing is not None:
            conds.remove(failing)
        if conds:
            new["conditions"] = conds
        # Zero counts are omitted, as the Go structs' omitempty does.
        new = {k: v for k, v in new.items() if v or k == "replicas"}
        if new == old:
            return

        def fn(obj):
            if obj.get("status") == new:
                return False
            obj["status"] = new
        self.cluster.registry.mutate(RES, *key_of(rs), fn, subresource="status")

"""DaemonSet controller: one pod per node that should run it, as
kube-controller-manager's (pkg/controller/daemon).

A node should run the pod when the template's nodeSelector and node affinity
select it and its NoSchedule/NoExecute taints are tolerated (the controller adds
the tolerations every daemon pod gets). Pods are bound by the default scheduler
through a required node affinity on metadata.name, labelled with
controller-revision-hash and pod-template-generation; failed pods are replaced
(FailedDaemonPod), pods on nodes that should not run them are deleted, and a
template change rolls out node by node within maxUnavailable (RollingUpdate) or
waits for deletions (OnDelete); each template is kept as a ControllerRevision
(`kubectl rollout history/undo ds`). Status and events as the real controller's.
"""

import copy

from console.embedded.controllers import deployutil as du
from console.embedded.controllers.base import (Informer, WorkQueue, controller_ref, key_of,
                                               pod_ready, selector_matches, terminating,
                                               write_status)
from console.embedded.controllers.replicaset import pod_active, pod_from_template
from console.embedded.controllers.scheduler import affinity_matches, tolerates
from console.embedded.store import NotFound

RES = "daemonsets.apps"
REVISIONS = "controllerrevisions.apps"
COMPONENT = "daemonset-controller"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# util.AddOrUpdateDaemonPodTolerations
TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
NETWORK = {"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
           "effect": "NoSchedule"}


def _node_of(pod: dict) -> str:
    """The node a daemon pod is for: its binding, or the name its affinity asks for."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    terms = ((((spec.get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
             .get("nodeSelectorTerms") or [])
    for term in terms:
        for f in term.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("values"):
                return f["values"][0]
    return ""


def daemon_pod_spec(template_spec: dict, node: str) -> dict:
    spec = copy.deepcopy(template_spec)
    tolerations = list(spec.get("tolerations") or [])
    wanted = TOLERATIONS + ([NETWORK] if spec.get("hostNetwork") else [])
    for t in wanted:
        if not any(x.get("key") == t["key"] and x.get("effect") == t["effect"] for x in tolerations):
            tolerations.append(dict(t))
    spec["tolerations"] = tolerations
    affinity = spec.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
    return spec


def should_run(template_spec: dict, node: dict) -> bool:
    """NodeShouldRunDaemonPod: selector, affinity and taints (with the daemon tolerations)."""
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (template_spec.get("nodeSelector") or {}).items()):
        return False
    if not affinity_matches(template_spec, node):
        return False
    tolerations = list(template_spec.get("tolerations") or []) + TOLERATIONS
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            return False
    return True


class DaemonSetController:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "daemonset", self.sync)
        informer.on(RES, self._on_ds)
        informer.on("pods", self._on_pod)
        informer.on("nodes", self._on_node)
        for ds in informer.all(RES):
            self.queue.add(key_of(ds))

    def _on_ds(self, ev) -> None:
        if ev.type != "DELETED":
            self.queue.add(key_of(ev.obj))

    def _on_pod(self, ev) -> None:
        for obj in (ev.obj, ev.old):
            ref = controller_ref(obj) if obj else None
            if ref and ref.get("kind") == "DaemonSet":
                found = self.inf.by_uid(ref.get("uid", ""))
                if found and found[0] == RES:
                    self.queue.add(found[1:])

    def _on_node(self, ev) -> None:
        for ds in self.inf.all(RES):
            self.queue.add(key_of(ds))

    def _event(self, ds, reason, message, type_="Normal") -> None:
        self.cluster.event(ds, reason, message, type_, component=COMPONENT)

    async def sync(self, key) -> None:
        ds = self.inf.get(RES, *key)
        if ds is None or terminating(ds):
            return
        ns = key[0]
        spec = ds.get("spec") or {}
        template = spec.get("template") or {}
        tspec = template.get("spec") or {}
        revision = du.template_hash(template, spec.get("collisionCount"))
        self._history(ds, revision)
        generation = ds["metadata"].get("generation", 1)
        pods = [p for p in self.inf.controlled(ds["metadata"]["uid"], "pods")
                if not terminating(p) and selector_matches(spec.get("selector"),
                                                            p["metadata"].get("labels"))]
        by_node: dict[str, list[dict]] = {}
        for p in pods:
            by_node.setdefault(_node_of(p), []).append(p)
        nodes = {n["metadata"]["name"]: n for n in self.inf.all("nodes")}
        wanted = [name for name, n in sorted(nodes.items()) if should_run(tspec, n)]
        deletes = []
        creates = []
        for name in wanted:
            here = by_node.get(name, [])
            failed = [p for p in here if (p.get("status") or {}).get("phase") == "Failed"]
            for p in failed:
                self._event(ds, "FailedDaemonPod", f"Found failed daemon pod {ns}/"
                            f"{p['metadata']['name']} on node {name}, will try to kill it",
                            "Warning")
            deletes += failed
            alive = [p for p in here if pod_active(p)]
            if not alive:
                creates.append(name)
            deletes += sorted(alive, key=lambda p: p["metadata"].get("creationTimestamp") or "")[1:]
        for name, here in by_node.items():
            if name not in wanted:
                deletes += here
        if not deletes and not creates:
            deletes = self._roll(ds, wanted, by_node, revision)
        for p in deletes:
            try:
                self.cluster.registry.delete("pods", ns, p["metadata"]["name"])
            except NotFound:
                continue
            self._event(ds, "SuccessfulDelete", f"Deleted pod: {p['metadata']['name']}")
        for name in creates:
            pod = pod_from_template(ds, kind="DaemonSet")
            pod["metadata"]["labels"].update({"controller-revision-hash": revision,
                                              "pod-template-generation": str(generation)})
            pod["spec"] = daemon_pod_spec(tspec, name)
            try:
                created = self.cluster.registry.create("pods", pod)
            except Exception as exc:
                self._event(ds, "FailedCreate", f"Error creating: {exc}", "Warning")
                raise
            self._event(ds, "SuccessfulCreate", f"Created pod: {created['metadata']['name']}")
        self._status(ds, wanted, revision)

    def _history(self, ds, revision: str) -> None:
        """ControllerRevisions (what `kubectl rollout history/undo ds` reads): one per
        template, named <ds>-<hash>; the current one gets the highest number; beyond
        revisionHistoryLimit the oldest go."""
        ns, name, uid = ds["metadata"].get("namespace") or "", ds["metadata"]["name"], \
            ds["metadata"]["uid"]
        mine = sorted(self.inf.controlled(uid, REVISIONS), key=lambda r: r.get("revision", 0))
        top = mine[-1].get("revision", 0) if mine else 0
        current = next((r for r in mine if r["metadata"]["name"] == f"{name}-{revision}"), None)
        cause = (ds["metadata"].get("annotations") or {}).get(CHANGE_CAUSE)
        if current is None:
            tmpl = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
            tmpl["$patch"] = "replace"
            labels = dict(((ds.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})
            labels["controller-revision-hash"] = revision
            meta = {"name": f"{name}-{revision}", "namespace": ns, "labels": labels,
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                                         "name": name, "uid": uid, "controller": True,
                                         "blockOwnerDeletion": True}]}
            if cause:
                meta["annotations"] = {CHANGE_CAUSE: cause}
            self.cluster.registry.create(REVISIONS, {
                "apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": meta,
                "data": {"spec": {"template": tmpl}}, "revision": top + 1})
            mine = sorted(self.inf.controlled(uid, REVISIONS), key=lambda r: r.get("revision", 0))
        elif current.get("revision", 0) != top:     # back to an older template: it is newest
            def bump(r):
                r["revision"] = top + 1
            self.cluster.registry.mutate(REVISIONS, ns, current["metadata"]["name"], bump)
        limit = (ds.get("spec") or {}).get("revisionHistoryLimit", 10)
        old = [r for r in mine if r["metadata"]["name"] != f"{name}-{revision}"]
        for r in old[:max(0, len(old) - limit)]:
            try:
                self.cluster.registry.delete(REVISIONS, ns, r["metadata"]["name"])
            except NotFound:
                pass

    def _roll(self, ds, wanted, by_node, revision) -> list[dict]:
        """RollingUpdate: old pods go while no more than maxUnavailable are unavailable."""
        strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate" or not wanted:
            return []
        budget = du.scaled_value((strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1),
                                 len(wanted), True) or 1
        unavailable, old = 0, []
        for name in wanted:
            pods = [p for p in by_node.get(name, []) if pod_active(p)]
            if not pods or not pod_ready(pods[0]):
                unavailable += 1
            elif (pods[0]["metadata"].get("labels") or {}).get("controller-revision-hash") != revision:
                old.append(pods[0])
        return old[:max(0, budget - unavailable)]

    def _status(self, ds, wanted, revision) -> None:
        pods = [p for p in self.inf.controlled(ds["metadata"]["uid"], "pods") if pod_active(p)]
        on = {}
        for p in pods:
            on.setdefault(_node_of(p), []).append(p)
        scheduled = [n for n in wanted if n in on]
        ready = [n for n in scheduled if any(pod_ready(p) for p in on[n])]
        updated = [n for n in scheduled if any((p["metadata"].get("labels") or {}).get(
            "controller-revision-hash") == revision for p in on[n])]
        new = {"currentNumberScheduled": len(scheduled),
               "numberMisscheduled": len([n for n in on if n not in wanted]),
               "desiredNumberScheduled": len(wanted), "numberReady": len(ready),
               "observedGeneration": ds["metadata"].get("generation", 1),
               "updatedNumberScheduled": len(updated), "numberAvailable": len(ready)}
        new["numberUnavailable"] = len(wanted) - len(ready)
        # the Go struct's omitempty fields
        new = {k: v for k, v in new.items() if v or k in (
            "currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled",
            "numberReady")}
        write_status(self.cluster, RES, ds, new)

"""Pod garbage collector: pods bound to a Node that no longer exists are
removed 40 s (simulated) after the node went, as kube-controller-manager's
PodGC does with orphaned pods (they could never run or finish otherwise)."""

from console.embedded.controllers.base import Informer, WorkQueue, key_of
from console.embedded.store import NotFound

QUARANTINE = 40.0  # simulated seconds a node may be gone before its pods go


class PodGC:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "pod-garbage-collector", self.sync)
        informer.on("nodes", self._on_node)
        nodes = {n["metadata"]["name"] for n in informer.all("nodes")}
        for pod in informer.all("pods"):
            node = (pod.get("spec") or {}).get("nodeName")
            if node and node not in nodes:
                self.queue.add_after(node, QUARANTINE)

    def _on_node(self, ev) -> None:
        if ev.type == "DELETED":
            self.queue.add_after(ev.obj["metadata"]["name"], QUARANTINE)

    async def sync(self, node: str) -> None:
        if self.inf.get("nodes", "", node) is not None:
            return  # it came back
        for pod in self.inf.all("pods"):
            if (pod.get("spec") or {}).get("nodeName") != node:
                continue
            ns, name = key_of(pod)

            def mark(p):
                st = p.setdefault("status", {})
                conds = [c for c in st.get("conditions") or [] if c.get("type") != "DisruptionTarget"]
                conds.append({"type": "DisruptionTarget", "status": "True", "reason": "DeletionByPodGC",
                              "message": "PodGC: node no longer exists",
                              "lastTransitionTime": self.cluster.clock.stamp()})
                st["conditions"] = conds
                if st.get("phase") not in ("Succeeded", "Failed"):
                    st["phase"] = "Failed"
            try:
                self.cluster.registry.mutate("pods", ns, name, mark, subresource="status")
                self.cluster.registry.delete("pods", ns, name, grace_seconds=0)
            except NotFound:
                pass

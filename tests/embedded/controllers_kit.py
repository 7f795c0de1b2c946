"""Test helpers for the controller tests: an in-process Cluster with only the
control plane running, Node objects, and a stand-in kubelet for tests only.

`TestKubelet` is NOT the product's kubelet: it just marks bound pods Running
(and Ready unless their image says "broken") and finishes graceful deletions,
so the controllers can be tested alone.
"""

import asyncio

from console.embedded import controllers
from console.embedded.cluster import Cluster
from waits import until


def add_node(cluster: Cluster, name: str, cpu: str = "2", memory: str = "4Gi", pods: str = "110",
             ready: bool = True, labels: dict | None = None, unschedulable: bool = False) -> dict:
    reg = cluster.registry
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"unschedulable": True} if unschedulable else {}}
    reg.create("nodes", node)
    status = {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
              "capacity": {"cpu": cpu, "memory": memory, "pods": pods},
              "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                              "reason": "KubeletReady"}]}
    return reg.mutate("nodes", "", name, lambda o: o.__setitem__("status", status), subresource="status")


class TestKubelet:
    """Marks bound pods Running/Ready through the registry; removes terminating pods."""

    def __init__(self, cluster: Cluster, ready: bool = True):
        self.cluster = cluster
        self.ready = ready
        self.ip = 0
        self.pending: set = set()
        self.hold: set = set()  # pod names whose graceful deletion is left unfinished
        cluster.store.subscribe(self._on)

    def _on(self, ev) -> None:
        if ev.res != "pods" or ev.type == "DELETED":
            return
        key = (ev.obj["metadata"].get("namespace"), ev.obj["metadata"]["name"])
        if key not in self.pending:
            self.pending.add(key)
            asyncio.get_running_loop().call_soon(self._work, key)

    def _work(self, key) -> None:
        self.pending.discard(key)
        reg = self.cluster.registry
        pod = reg.get("pods", *key)
        if pod is None or not pod["spec"].get("nodeName"):
            return
        if pod["metadata"].get("deletionTimestamp"):
            if key[1] in self.hold:
                return
            try:
                reg.delete("pods", *key, grace_seconds=0)
            except Exception:
                pass
            return
        status = pod.get("status") or {}
        broken = any("broken" in (c.get("image") or "") for c in pod["spec"]["containers"])
        ready = self.ready and not broken
        if status.get("phase") == "Running":
            return
        self.ip += 1
        now = self.cluster.clock.stamp()

        def run(obj):
            st = obj.setdefault("status", {})
            st["phase"] = "Running"
            st["podIP"] = f"10.244.{self.ip // 250}.{self.ip % 250 + 1}"
            conds = [c for c in st.get("conditions") or [] if c.get("type") not in ("Ready", "ContainersReady")]
            conds.append({"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": now})
            st["conditions"] = conds
            st["containerStatuses"] = [{"name": c["name"], "ready": ready, "restartCount": 0,
                                        "image": c.get("image", "")} for c in obj["spec"]["containers"]]
        reg.mutate("pods", *key, run, subresource="status")


def set_ready(cluster: Cluster, ns: str, name: str, ready: bool) -> None:
    def fn(obj):
        for c in obj["status"]["conditions"]:
            if c["type"] == "Ready":
                c["status"] = "True" if ready else "False"
    cluster.registry.mutate("pods", ns, name, fn, subresource="status")


async def start(speed: float = 50, nodes: int = 2, kubelet: bool = True, ready: bool = True,
                only: list[str] | None = None, **node_kw) -> Cluster:
    cluster = Cluster(speed=speed, nodes=nodes)
    for ns in ("default", "kube-system"):
        cluster.registry.create("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": ns}})
    for i in range(1, nodes + 1):
        add_node(cluster, f"node-{i}", **node_kw)
    if kubelet:
        cluster.test_kubelet = TestKubelet(cluster, ready)
    cluster.spawn(controllers.run(cluster, only), "controllers")
    await until(lambda: getattr(cluster, "controllers", None) is not None, what="controllers")
    return cluster


def pods(cluster: Cluster, ns: str = "default", prefix: str = "") -> list[dict]:
    return [p for p in cluster.store.list("pods", ns) if p["metadata"]["name"].startswith(prefix)]


def events(cluster: Cluster, ns: str = "default", reason: str | None = None) -> list[dict]:
    return [e for e in cluster.store.list("events", ns) if reason is None or e["reason"] == reason]


def deployment(name: str = "web", replicas: int = 3, image: str = "nginx:1.25", **spec) -> dict:
    labels = {"app": name}
    body = {"replicas": replicas, "selector": {"matchLabels": labels},
            "progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "app", "image": image,
                                                  "ports": [{"name": "http", "containerPort": 80}]}]}}}
    body.update(spec)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"}, "spec": body}

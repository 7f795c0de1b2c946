"""Nodes register; a bound pod reaches Running and Ready; deletion removes it."""

from kubelet_helpers import cstatus, kubelet_cluster, pod, status
from waits import until


async def test_nodes_registered():
    async with kubelet_cluster(nodes=3) as cluster:
        nodes = cluster.registry.list("nodes")
        assert [n["metadata"]["name"] for n in nodes] == [
            "kubelab-node-1", "kubelab-node-2", "kubelab-node-3"]
        n = nodes[0]
        assert n["status"]["allocatable"]["cpu"] == "4"
        assert n["status"]["nodeInfo"]["kubeletVersion"] == cluster.version
        ready = [c for c in n["status"]["conditions"] if c["type"] == "Ready"][0]
        assert ready["status"] == "True"
        reasons = [e["reason"] for e in cluster.registry.list("events", "default")
                   if e["involvedObject"]["name"] == "kubelab-node-1"]
        assert {"Starting", "NodeReady"} <= set(reasons)


async def test_max_pods_is_each_nodes_pod_capacity():
    async with kubelet_cluster(nodes=1) as cluster:
        assert cluster.registry.get("nodes", "", "kubelab-node-1")["status"]["capacity"]["pods"] == "110"
    async with kubelet_cluster(nodes=1, max_pods=250) as cluster:   # kubelet --max-pods=250
        status = cluster.registry.get("nodes", "", "kubelab-node-1")["status"]
        assert status["capacity"]["pods"] == status["allocatable"]["pods"] == "250"


async def test_pod_runs_and_is_ready():
    async with kubelet_cluster() as cluster:
        cluster.registry.create("pods", pod("web", node="kubelab-node-2"))
        await until(lambda: status(cluster, "web").get("phase") == "Running", what="Running")
        await until(lambda: cstatus(cluster, "web").get("ready"), what="ready")
        s = status(cluster, "web")
        assert s["podIP"].startswith("10.244.2.")
        assert s["hostIP"] == "172.18.0.3"
        conds = {c["type"]: c["status"] for c in s["conditions"]}
        assert conds["Ready"] == "True" and conds["ContainersReady"] == "True"
        assert "running" in cstatus(cluster, "web")["state"]


async def test_unbound_pod_is_left_alone():
    async with kubelet_cluster() as cluster:
        cluster.registry.create("pods", pod("waiting", node=""))
        cluster.registry.create("pods", pod("bound"))
        await until(lambda: status(cluster, "bound").get("phase") == "Running")
        assert "containerStatuses" not in status(cluster, "waiting")
        assert "podIP" not in status(cluster, "waiting")


async def test_deleted_pod_stops():
    async with kubelet_cluster() as cluster:
        cluster.registry.create("pods", pod("web"))
        await until(lambda: status(cluster, "web").get("phase") == "Running")
        cluster.registry.delete("pods", "default", "web")
        await until(lambda: not cluster.kubelet.workers, what="worker gone")


async def test_readiness_gate_holds_ready_until_its_condition_is_true():
    async with kubelet_cluster() as cluster:
        cluster.registry.create("pods", pod("gated", readinessGates=[{"conditionType": "example.com/lb"}]))
        await until(lambda: cstatus(cluster, "gated").get("ready"), what="container ready")

        def ready():
            return next(c for c in status(cluster, "gated")["conditions"] if c["type"] == "Ready")
        assert ready()["status"] == "False" and ready()["reason"] == "ReadinessGatesNotReady"

        def add_gate(obj):
            obj["status"]["conditions"].append({"type": "example.com/lb", "status": "True"})
        cluster.registry.mutate("pods", "default", "gated", add_gate, subresource="status")
        await until(lambda: ready()["status"] == "True", what="Ready with the gate")

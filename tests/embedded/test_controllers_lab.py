"""The control plane with the product's kubelet, in process: a rolling update of
a one-replica Deployment with a readiness probe never leaves its Service
without a ready endpoint (lab L2's point), and the old pod goes only after."""

from controllers_kit import deployment
from waits import until

from console.embedded.cluster import Cluster


async def test_rollout_keeps_a_ready_endpoint_throughout():
    cluster = Cluster(speed=20, nodes=2)
    await cluster.start()
    ready_counts = []

    def watch(ev):
        if ev.res == "endpoints" and ev.obj["metadata"]["name"] == "web":
            ready_counts.append(sum(len(s.get("addresses") or []) for s in ev.obj.get("subsets") or []))
    try:
        d = deployment("web", replicas=1, image="nginx:1.25")
        d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
            "httpGet": {"path": "/", "port": 80}, "initialDelaySeconds": 5, "periodSeconds": 5}
        cluster.registry.create("deployments.apps", d)
        cluster.registry.create("services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 8080, "targetPort": "http"}]}})

        def status():
            return cluster.store.get("deployments.apps", "default", "web").get("status") or {}
        await until(lambda: status().get("availableReplicas") == 1, timeout=90, what="first pod ready")
        await until(lambda: sum(len(s.get("addresses") or []) for s in
                                (cluster.store.get("endpoints", "default", "web") or {}).get("subsets") or [])
                    == 1, what="endpoint ready")
        cluster.store.subscribe(watch)

        def new_image(o):
            c = o["spec"]["template"]["spec"]["containers"][0]
            c["image"] = "nginx:1.17.0"
        cluster.registry.mutate("deployments.apps", "default", "web", new_image)
        await until(lambda: status().get("observedGeneration") == 2 and status().get("updatedReplicas") == 1
                    and status().get("replicas") == 1 and status().get("availableReplicas") == 1,
                    timeout=90, what="rollout done")
        await until(lambda: len(cluster.store.list("pods", "default")) == 1, timeout=90, what="old pod gone")
        assert ready_counts and min(ready_counts) >= 1, ready_counts
        (pod,) = cluster.store.list("pods", "default")
        assert pod["spec"]["containers"][0]["image"] == "nginx:1.17.0"
    finally:
        await cluster.stop()

"""1,000 pods through the whole control plane, in process (no timing asserted:
the point is that it finishes and stays consistent; figures go to the report)."""

from controllers_kit import deployment, start
from waits import until

SLICES = "endpointslices.discovery.k8s.io"


async def test_thousand_pods_roll_out_and_are_all_endpoints():
    n = 1000
    cluster = await start(speed=50, nodes=4, cpu="64", pods="300")
    try:
        cluster.registry.create("deployments.apps", deployment("big", replicas=n))
        cluster.registry.create("services", {
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "big", "namespace": "default"},
            "spec": {"selector": {"app": "big"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})

        def status():
            return cluster.store.get("deployments.apps", "default", "big").get("status") or {}
        await until(lambda: status().get("availableReplicas") == n, timeout=240, what="1000 available")
        await until(lambda: cluster.controllers.idle(), timeout=120, what="queues idle")
        per_node = {}
        for p in cluster.store.scan("pods", "default"):
            per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
        assert sorted(per_node.values()) == [250, 250, 250, 250]   # 300 pods per node at most
        ep = cluster.store.get("endpoints", "default", "big")
        assert sum(len(s.get("addresses", [])) for s in ep["subsets"]) == n
        slices = [s for s in cluster.store.list(SLICES, "default")]
        sizes = [len(s["endpoints"]) for s in slices]   # filled as the IPs came: never repacked
        assert sum(sizes) == n and len(sizes) >= 10 and max(sizes) <= 100, sizes
        cluster.registry.mutate("deployments.apps", "default", "big",
                                lambda o: o["spec"].__setitem__("replicas", 0))
        await until(lambda: cluster.store.count("pods") == 0, timeout=240, what="all pods gone")
    finally:
        await cluster.stop()

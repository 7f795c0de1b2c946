"""Endpoints and EndpointSlices, in process."""

from controllers_kit import set_ready, start
from waits import until

SLICES = "endpointslices.discovery.k8s.io"


def pod(name, labels, port_name="web", port=8080):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "nginx",
                                     "ports": [{"name": port_name, "containerPort": port}]}]}}


def service(name="svc", selector=None, target="web"):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default",
                                                                "labels": {"team": "a"}},
            "spec": {"selector": selector or {"app": "a"},
                     "ports": [{"name": "http", "port": 80, "targetPort": target, "protocol": "TCP"}]}}


def endpoints(cluster, name="svc"):
    return cluster.store.get("endpoints", "default", name)


def slices(cluster, name="svc"):
    return [s for s in cluster.store.list(SLICES, "default")
            if s["metadata"]["labels"].get("kubernetes.io/service-name") == name]


def addrs(ep, field="addresses"):
    return sorted(a["targetRef"]["name"] for s in (ep or {}).get("subsets") or [] for a in s.get(field) or [])


async def test_ready_and_not_ready_addresses_with_named_port():
    cluster = await start()
    try:
        svc = cluster.registry.create("services", service())
        for n in ("a1", "a2", "a3"):
            cluster.registry.create("pods", pod(n, {"app": "a"}))
        cluster.registry.create("pods", pod("other", {"app": "b"}))
        await until(lambda: addrs(endpoints(cluster)) == ["a1", "a2", "a3"], what="3 ready addresses")
        set_ready(cluster, "default", "a2", False)
        await until(lambda: addrs(endpoints(cluster), "notReadyAddresses") == ["a2"], what="a2 not ready")
        ep = endpoints(cluster)
        assert addrs(ep) == ["a1", "a3"]
        assert ep["subsets"][0]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
        assert ep["metadata"]["labels"] == {"team": "a", "endpoints.kubernetes.io/managed-by": "endpoint-controller"}
        assert ep["metadata"]["annotations"]["endpoints.kubernetes.io/last-change-trigger-time"]
        a = ep["subsets"][0]["addresses"][0]
        assert a["nodeName"].startswith("node-") and a["targetRef"]["kind"] == "Pod" and a["ip"]

        await until(lambda: sum(len(s["endpoints"]) for s in slices(cluster)) == 3, what="slice")
        (sl,) = slices(cluster)
        assert sl["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
        assert sl["metadata"]["name"].startswith("svc-") and sl["addressType"] == "IPv4"
        assert sl["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]
        assert sl["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
        by_name = {e["targetRef"]["name"]: e["conditions"] for e in sl["endpoints"]}
        assert by_name["a2"] == {"ready": False, "serving": False, "terminating": False}
        assert by_name["a1"] == {"ready": True, "serving": True, "terminating": False}
    finally:
        await cluster.stop()


async def test_terminating_pod_leaves_endpoints_but_shows_in_slice():
    cluster = await start()
    try:
        cluster.registry.create("services", service())
        for n in ("a1", "a2"):
            cluster.registry.create("pods", pod(n, {"app": "a"}))
        await until(lambda: addrs(endpoints(cluster)) == ["a1", "a2"], what="2 addresses")
        cluster.test_kubelet.hold.add("a1")   # stays Terminating
        got = cluster.registry.delete("pods", "default", "a1")
        assert got["metadata"]["deletionTimestamp"]
        await until(lambda: addrs(endpoints(cluster)) == ["a2"], what="a1 out of Endpoints")
        await until(lambda: any(e["conditions"]["terminating"] for s in slices(cluster) for e in s["endpoints"]),
                    what="a1 terminating in slice")
        eps = {e["targetRef"]["name"]: e["conditions"] for s in slices(cluster) for e in s["endpoints"]}
        assert eps["a1"] == {"ready": False, "serving": True, "terminating": True}
    finally:
        await cluster.stop()


async def test_empty_service_placeholder_slice_and_deletion():
    cluster = await start()
    try:
        cluster.registry.create("services", service(selector={"app": "nobody"}))
        await until(lambda: endpoints(cluster) is not None and slices(cluster), what="objects")
        assert "subsets" not in endpoints(cluster)
        (sl,) = slices(cluster)
        assert sl["endpoints"] == [] and "ports" not in sl
        cluster.registry.delete("services", "default", "svc")
        await until(lambda: endpoints(cluster) is None, what="endpoints removed")
        await until(lambda: not slices(cluster), what="slices collected with their owner")
    finally:
        await cluster.stop()


async def test_many_pods_split_into_slices_of_100():
    cluster = await start(cpu="100", pods="500")
    try:
        cluster.registry.create("services", service(target=8080))
        for i in range(150):
            cluster.registry.create("pods", pod(f"p{i:03}", {"app": "a"}))
        # how full each is depends on how the pods' IPs arrived (the reconciler never repacks)
        await until(lambda: sum(len(s["endpoints"]) for s in slices(cluster)) == 150
                    and len(addrs(endpoints(cluster))) == 150, what="150 endpoints")
        sizes = [len(s["endpoints"]) for s in slices(cluster)]
        assert len(sizes) >= 2 and max(sizes) <= 100, sizes
    finally:
        await cluster.stop()


async def test_publish_not_ready_addresses_makes_ready_but_not_serving():
    """podToEndpoint: serving is the pod's Ready condition whatever the Service says;
    publishNotReadyAddresses forces only `ready`."""
    cluster = await start()
    try:
        svc = service()
        svc["spec"]["publishNotReadyAddresses"] = True
        cluster.registry.create("services", svc)
        cluster.registry.create("pods", pod("a1", {"app": "a"}))
        await until(lambda: sum(len(s["endpoints"]) for s in slices(cluster)) == 1, what="slice")
        set_ready(cluster, "default", "a1", False)
        await until(lambda: [e["conditions"] for s in slices(cluster) for e in s["endpoints"]]
                    == [{"ready": True, "serving": False, "terminating": False}], what="not serving")
    finally:
        await cluster.stop()

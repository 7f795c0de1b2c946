"""default-scheduler, in process: binding, fit by requests, FailedScheduling."""

from controllers_kit import add_node, deployment, events, pods, start
from waits import until

from console.embedded.controllers.scheduler import quantity, requests


def pod(name, cpu="100m", memory="64Mi", **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx",
                                     "resources": {"requests": {"cpu": cpu, "memory": memory}}}], **spec}}


def get(cluster, name):
    return cluster.store.get("pods", "default", name)


def scheduled_cond(p):
    return next((c for c in (p.get("status") or {}).get("conditions") or [] if c["type"] == "PodScheduled"), {})


def test_quantities():
    assert quantity("250m") == 0.25 and quantity("2") == 2 and quantity(3) == 3
    assert quantity("128Mi") == 128 * 2 ** 20 and quantity("1G") == 1e9 and quantity("1.5Gi") == 1.5 * 2 ** 30
    p = pod("x", cpu="300m", memory="1Gi")
    p["spec"]["initContainers"] = [{"name": "i", "resources": {"requests": {"cpu": "1"}}}]
    assert requests(p) == (1.0, 2 ** 30)


async def test_binds_and_spreads_over_nodes():
    cluster = await start(kubelet=False, cpu="1")
    try:
        for i in range(4):
            cluster.registry.create("pods", pod(f"p{i}", cpu="200m"))
        await until(lambda: all(get(cluster, f"p{i}")["spec"].get("nodeName") for i in range(4)), what="bound")
        nodes = [get(cluster, f"p{i}")["spec"]["nodeName"] for i in range(4)]
        assert sorted(nodes) == ["node-1", "node-1", "node-2", "node-2"]
        assert scheduled_cond(get(cluster, "p0"))["status"] == "True"
        msgs = {e["message"] for e in events(cluster, reason="Scheduled")}
        assert f"Successfully assigned default/p0 to {nodes[0]}" in msgs
        assert all(e["source"]["component"] == "default-scheduler" for e in events(cluster, reason="Scheduled"))
    finally:
        await cluster.stop()


async def test_replicas_spread_over_the_nodes_even_where_one_node_is_busier():
    """PodTopologySpread's default constraint outweighs least-allocated: a node that
    already runs other pods still gets its share of a ReplicaSet's replicas (the
    embedded node-1 holds metrics-server and a coredns, as a real cluster's may)."""
    cluster = await start(kubelet=False, cpu="4")
    try:
        for i in range(3):
            cluster.registry.create("pods", {**pod(f"busy{i}", cpu="300m"),
                                             "spec": {**pod("x")["spec"], "nodeName": "node-1"}})
        cluster.registry.create("deployments.apps", deployment("web", replicas=4))
        await until(lambda: len([p for p in pods(cluster, prefix="web-") if p["spec"].get("nodeName")]) == 4,
                    what="4 replicas bound")
        nodes = sorted(p["spec"]["nodeName"] for p in pods(cluster, prefix="web-"))
        assert nodes == ["node-1", "node-1", "node-2", "node-2"]
        # a bare pod (no controller) is not spread: least-allocated picks the idler node
        cluster.registry.create("pods", pod("solo"))
        await until(lambda: get(cluster, "solo")["spec"].get("nodeName"), what="solo bound")
        assert get(cluster, "solo")["spec"]["nodeName"] == "node-2"
    finally:
        await cluster.stop()


async def test_insufficient_cpu_then_fits_when_a_node_comes():
    cluster = await start(kubelet=False, cpu="1")
    try:
        cluster.registry.create("pods", pod("big", cpu="1500m"))
        await until(lambda: scheduled_cond(get(cluster, "big")).get("reason") == "Unschedulable", what="unschedulable")
        msg = "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: " \
              "2 No preemption victims found for incoming pod.."
        assert scheduled_cond(get(cluster, "big"))["message"] == msg
        (ev,) = events(cluster, reason="FailedScheduling")
        assert ev["message"] == msg and ev["type"] == "Warning"
        assert get(cluster, "big")["status"]["phase"] == "Pending"
        seen = []
        cluster.store.subscribe(lambda ev: seen.append(ev) if ev.res == "pods" else None)
        add_node(cluster, "node-3", cpu="4")
        await until(lambda: get(cluster, "big")["spec"].get("nodeName") == "node-3", what="bound to node-3")
        # BindingREST: nodeName and the condition in one write, the False one replaced
        (bound,) = [ev for ev in seen if ev.obj["spec"].get("nodeName")]
        assert bound.type == "MODIFIED" and not bound.old["spec"].get("nodeName")
        (cond,) = [c for c in bound.obj["status"]["conditions"] if c["type"] == "PodScheduled"]
        assert cond["status"] == "True" and "reason" not in cond and "message" not in cond
    finally:
        await cluster.stop()


async def test_binding_is_one_write_a_watcher_sees_as_one_modified():
    cluster = await start(kubelet=False, cpu="1")
    try:
        seen = []
        cluster.store.subscribe(lambda ev: seen.append(ev) if ev.res == "pods" else None)
        cluster.registry.create("pods", pod("p"))
        await until(lambda: get(cluster, "p")["spec"].get("nodeName"), what="bound")
        await until(lambda: cluster.controllers.idle(), what="the scheduler idle")
        assert [ev.type for ev in seen] == ["ADDED", "MODIFIED"]
        got = seen[1].obj
        assert scheduled_cond(got)["status"] == "True" and scheduled_cond(got)["lastTransitionTime"]
        assert got["status"]["phase"] == "Pending"
        uid = got["metadata"]["uid"]
        assert cluster.registry.bind("default", "p", uid, "node-2") is None      # bound already
        assert cluster.registry.bind("default", "p", "other-uid", "node-2") is None
        assert len(seen) == 2
    finally:
        await cluster.stop()


async def test_room_freed_by_a_deleted_pod_is_reused():
    cluster = await start(kubelet=False, nodes=1, cpu="1")
    try:
        cluster.registry.create("pods", pod("a", cpu="800m"))
        await until(lambda: get(cluster, "a")["spec"].get("nodeName"), what="a bound")
        cluster.registry.create("pods", pod("b", cpu="800m"))
        await until(lambda: scheduled_cond(get(cluster, "b")).get("reason") == "Unschedulable", what="b waits")
        cluster.registry.delete("pods", "default", "a", grace_seconds=0)
        await until(lambda: get(cluster, "b")["spec"].get("nodeName") == "node-1", what="b bound")
    finally:
        await cluster.stop()


async def test_node_selector_unschedulable_and_not_ready_nodes_are_skipped():
    cluster = await start(kubelet=False, nodes=0)
    try:
        add_node(cluster, "cordoned", unschedulable=True)
        add_node(cluster, "down", ready=False)
        add_node(cluster, "plain")
        add_node(cluster, "ssd", labels={"disk": "ssd"})
        cluster.registry.create("pods", pod("want-ssd", nodeSelector={"disk": "ssd"}))
        await until(lambda: get(cluster, "want-ssd")["spec"].get("nodeName") == "ssd", what="ssd")
        cluster.registry.create("pods", pod("want-gpu", nodeSelector={"gpu": "yes"}))
        await until(lambda: scheduled_cond(get(cluster, "want-gpu")).get("reason") == "Unschedulable", what="gpu")
        assert scheduled_cond(get(cluster, "want-gpu"))["message"] == (
            "0/4 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, "
            "1 node(s) were unschedulable, 2 node(s) didn't match Pod's node affinity/selector. "
            "preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling..")
    finally:
        await cluster.stop()


async def test_required_node_affinity():
    cluster = await start(kubelet=False, nodes=0)
    try:
        add_node(cluster, "small", labels={"size": "2"})
        add_node(cluster, "large", labels={"size": "8", "zone": "b"})
        terms = [{"matchExpressions": [{"key": "size", "operator": "Gt", "values": ["4"]},
                                       {"key": "zone", "operator": "In", "values": ["a", "b"]}]},
                 {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["nowhere"]}]}]
        cluster.registry.create("pods", pod("aff", affinity={"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}))
        await until(lambda: get(cluster, "aff")["spec"].get("nodeName") == "large", what="on large")
        terms[0]["matchExpressions"][1]["operator"] = "DoesNotExist"
        cluster.registry.create("pods", pod("none", affinity={"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}))
        await until(lambda: scheduled_cond(get(cluster, "none")).get("reason") == "Unschedulable", what="none fits")
        assert "2 node(s) didn't match Pod's node affinity/selector" in scheduled_cond(get(cluster, "none"))["message"]
    finally:
        await cluster.stop()


async def test_no_nodes_at_all_then_one_registers():
    cluster = await start(kubelet=False, nodes=0)
    try:
        cluster.registry.create("pods", pod("early"))
        await until(lambda: scheduled_cond(get(cluster, "early")).get("message") == "no nodes available to schedule pods",
                    what="no nodes")
        add_node(cluster, "late")
        await until(lambda: get(cluster, "early")["spec"].get("nodeName") == "late", what="bound when a node came")
    finally:
        await cluster.stop()


async def test_mixed_reasons_and_preemption_summary():
    cluster = await start(kubelet=False, nodes=0)
    try:
        add_node(cluster, "tiny", cpu="100m", labels={"pool": "a"})
        add_node(cluster, "other", cpu="8", labels={"pool": "b"})
        cluster.registry.create("pods", pod("p", cpu="500m", nodeSelector={"pool": "a"}))
        await until(lambda: scheduled_cond(get(cluster, "p")).get("reason") == "Unschedulable", what="unschedulable")
        assert scheduled_cond(get(cluster, "p"))["message"] == (
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector. "
            "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
            "1 Preemption is not helpful for scheduling..")
    finally:
        await cluster.stop()

"""ReplicaSet controller, in process: pods made, replaced, removed, status kept."""

from controllers_kit import events, pods, set_ready, start
from waits import until

from console.embedded.controllers.base import controller_ref
from console.embedded.registry import _SUFFIX


def replicaset(name="rs", replicas=3, **spec):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, **spec}}


def rs_status(cluster, name="rs"):
    return cluster.store.get("replicasets.apps", "default", name).get("status") or {}


async def test_creates_named_owned_pods_and_reports_status():
    cluster = await start()
    try:
        rs = cluster.registry.create("replicasets.apps", replicaset(replicas=3))
        await until(lambda: rs_status(cluster).get("readyReplicas") == 3, what="3 ready")
        got = pods(cluster, prefix="rs-")
        assert len(got) == 3
        for p in got:
            suffix = p["metadata"]["name"][len("rs-"):]
            assert len(suffix) == 5 and all(ch in _SUFFIX for ch in suffix)
            ref = controller_ref(p)
            assert ref["uid"] == rs["metadata"]["uid"] and ref["kind"] == "ReplicaSet"
            assert ref["blockOwnerDeletion"] is True
        st = rs_status(cluster)
        assert st["replicas"] == 3 and st["fullyLabeledReplicas"] == 3
        assert st["availableReplicas"] == 3 and st["observedGeneration"] == 1
        created = sorted(e["message"] for e in events(cluster, reason="SuccessfulCreate"))
        assert created == sorted(f"Created pod: {p['metadata']['name']}" for p in got)
        assert all(e["source"]["component"] == "replicaset-controller"
                   for e in events(cluster, reason="SuccessfulCreate"))
    finally:
        await cluster.stop()


async def test_deleted_pod_is_replaced():
    cluster = await start()
    try:
        cluster.registry.create("replicasets.apps", replicaset(replicas=2))
        await until(lambda: rs_status(cluster).get("readyReplicas") == 2, what="2 ready")
        victim = pods(cluster, prefix="rs-")[0]["metadata"]["name"]
        cluster.registry.delete("pods", "default", victim)
        await until(lambda: victim not in [p["metadata"]["name"] for p in pods(cluster)]
                    and len(pods(cluster, prefix="rs-")) == 2
                    and rs_status(cluster).get("readyReplicas") == 2, what="replacement")
    finally:
        await cluster.stop()


async def test_scale_down_removes_not_ready_pods_first():
    cluster = await start()
    try:
        cluster.registry.create("replicasets.apps", replicaset(replicas=4))
        await until(lambda: rs_status(cluster).get("readyReplicas") == 4, what="4 ready")
        names = sorted(p["metadata"]["name"] for p in pods(cluster, prefix="rs-"))
        unready = names[1:3]
        for n in unready:
            set_ready(cluster, "default", n, False)
        await until(lambda: rs_status(cluster).get("readyReplicas") == 2, what="2 unready seen")
        cluster.registry.mutate("replicasets.apps", "default", "rs",
                                lambda o: o["spec"].__setitem__("replicas", 2))
        await until(lambda: len(pods(cluster, prefix="rs-")) == 2, what="scale down")
        left = sorted(p["metadata"]["name"] for p in pods(cluster, prefix="rs-"))
        assert left == sorted(set(names) - set(unready))
        deleted = sorted(e["message"] for e in events(cluster, reason="SuccessfulDelete"))
        assert deleted == sorted(f"Deleted pod: {n}" for n in unready)
    finally:
        await cluster.stop()


async def test_orphan_pod_matching_selector_is_adopted():
    cluster = await start()
    try:
        cluster.registry.create("pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "stray", "namespace": "default", "labels": {"app": "rs"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        rs = cluster.registry.create("replicasets.apps", replicaset(replicas=2))
        await until(lambda: rs_status(cluster).get("readyReplicas") == 2, what="2 ready")
        stray = cluster.store.get("pods", "default", "stray")
        assert controller_ref(stray)["uid"] == rs["metadata"]["uid"]
        assert len(pods(cluster)) == 2
    finally:
        await cluster.stop()


async def test_min_ready_seconds_delays_available():
    cluster = await start(speed=20)
    seen = []
    cluster.store.subscribe(lambda ev: ev.res == "replicasets.apps" and seen.append(
        dict(ev.obj.get("status") or {})))
    try:
        cluster.registry.create("replicasets.apps", replicaset(replicas=1, minReadySeconds=100))
        await until(lambda: rs_status(cluster).get("availableReplicas") == 1, what="available")
        # It was Ready before it counted as available (100 simulated seconds later).
        assert any(s.get("readyReplicas") == 1 and not s.get("availableReplicas") for s in seen)
    finally:
        await cluster.stop()


async def test_relabelled_pod_is_released_and_replaced():
    cluster = await start()
    try:
        cluster.registry.create("replicasets.apps", replicaset(replicas=2))
        await until(lambda: rs_status(cluster).get("readyReplicas") == 2, what="2 ready")
        name = pods(cluster, prefix="rs-")[0]["metadata"]["name"]
        cluster.registry.mutate("pods", "default", name,
                                lambda o: o["metadata"]["labels"].__setitem__("app", "debug"))
        await until(lambda: len(pods(cluster, prefix="rs-")) == 3 and rs_status(cluster).get("readyReplicas") == 2,
                    what="replacement")
        assert "ownerReferences" not in cluster.store.get("pods", "default", name)["metadata"]
    finally:
        await cluster.stop()

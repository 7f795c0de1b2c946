"""Garbage collector and namespace deletion, in process."""

from controllers_kit import deployment, pods, start
from waits import until

RS = "replicasets.apps"
DEP = "deployments.apps"


async def rolled_out(cluster, replicas=2):
    cluster.registry.create(DEP, deployment(replicas=replicas))
    await until(lambda: len([p for p in pods(cluster) if (p.get("status") or {}).get("phase") == "Running"])
                == replicas, what="pods running")


async def test_background_deletion_removes_replicasets_and_pods():
    cluster = await start()
    try:
        await rolled_out(cluster)
        cluster.registry.delete(DEP, "default", "web")
        await until(lambda: not cluster.store.list(RS, "default") and not pods(cluster), what="all gone")
    finally:
        await cluster.stop()


async def test_foreground_deletion_waits_for_dependents():
    cluster = await start()
    seen = []
    try:
        await rolled_out(cluster)
        cluster.store.subscribe(lambda ev: ev.res == DEP and ev.type == "DELETED" and seen.append(
            (len(cluster.store.list(RS, "default")), len(pods(cluster)))))
        got = cluster.registry.delete(DEP, "default", "web", propagation="Foreground")
        assert got["metadata"]["deletionTimestamp"] and "foregroundDeletion" in got["metadata"]["finalizers"]
        await until(lambda: cluster.store.get(DEP, "default", "web") is None, what="deployment gone")
        assert seen == [(0, 0)]   # it went last, after its ReplicaSet and pods
    finally:
        await cluster.stop()


async def test_orphan_deletion_keeps_dependents_without_owner():
    cluster = await start()
    try:
        await rolled_out(cluster)
        cluster.registry.delete(DEP, "default", "web", propagation="Orphan")
        await until(lambda: cluster.store.get(DEP, "default", "web") is None, what="deployment gone")
        (rs,) = cluster.store.list(RS, "default")
        assert not rs["metadata"].get("ownerReferences")
        assert len(pods(cluster)) == 2
        # The ReplicaSet keeps its pods; a re-created Deployment adopts it again.
        cluster.registry.create(DEP, deployment(replicas=2))
        await until(lambda: (cluster.store.list(RS, "default")[0]["metadata"].get("ownerReferences") or [{}])[0]
                    .get("kind") == "Deployment", what="adopted")
        assert len(cluster.store.list(RS, "default")) == 1
    finally:
        await cluster.stop()


async def test_dangling_owner_reference_on_create_is_collected():
    cluster = await start()
    try:
        cluster.registry.create("configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cm", "namespace": "default", "ownerReferences": [
                {"apiVersion": "v1", "kind": "Service", "name": "ghost", "uid": "no-such-uid"}]}})
        await until(lambda: cluster.store.get("configmaps", "default", "cm") is None, what="collected")
    finally:
        await cluster.stop()


async def test_namespace_is_emptied_then_removed():
    cluster = await start()
    try:
        cluster.registry.create("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": "lab"}})
        d = deployment(replicas=2)
        d["metadata"]["namespace"] = "lab"
        cluster.registry.create(DEP, d)
        await until(lambda: len(pods(cluster, "lab")) == 2, what="pods in lab")
        got = cluster.registry.delete("namespaces", "", "lab")
        assert got["status"]["phase"] == "Terminating"
        await until(lambda: cluster.store.get("namespaces", "", "lab") is None, what="namespace gone")
        for res in (DEP, RS, "pods", "events"):
            assert cluster.store.list(res, "lab") == []
    finally:
        await cluster.stop()


async def test_object_with_a_live_owner_left_only_loses_the_dangling_reference():
    cluster = await start()
    try:
        def cm(name):
            return cluster.registry.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                                          "metadata": {"name": name, "namespace": "default"}})
        a, b = cm("owner-a"), cm("owner-b")
        refs = [{"apiVersion": "v1", "kind": "ConfigMap", "name": o["metadata"]["name"],
                 "uid": o["metadata"]["uid"]} for o in (a, b)]
        cluster.registry.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap",
                                               "metadata": {"name": "child", "namespace": "default",
                                                            "ownerReferences": refs}})
        cluster.registry.delete("configmaps", "default", "owner-a")
        await until(lambda: [r["name"] for r in cluster.store.get("configmaps", "default", "child")
                             ["metadata"].get("ownerReferences", [])] == ["owner-b"], what="ref dropped")
        cluster.registry.delete("configmaps", "default", "owner-b")
        await until(lambda: cluster.store.get("configmaps", "default", "child") is None, what="child collected")
    finally:
        await cluster.stop()


async def test_events_expire_after_an_hour_of_wall_clock():
    from datetime import datetime, timedelta, timezone

    cluster = await start(only=["event-ttl"])
    try:
        def event(name, age):
            stamp = (datetime.now(timezone.utc) - timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ")
            cluster.registry.create("events", {
                "apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "default"},
                "involvedObject": {"kind": "Pod", "name": "x", "namespace": "default"},
                "reason": "Test", "message": "m", "type": "Normal", "count": 1,
                "firstTimestamp": stamp, "lastTimestamp": stamp})
        event("old", 3700)
        event("fresh", 60)
        # The first sweep runs at start; restart the sweep so it sees these two.
        cluster.controllers.controllers["event-ttl"].queue.add_after("sweep", 0)
        await until(lambda: cluster.store.get("events", "default", "old") is None, what="old event expired")
        assert cluster.store.get("events", "default", "fresh") is not None
    finally:
        await cluster.stop()


async def test_namespace_reports_what_holds_it():
    cluster = await start()
    try:
        cluster.registry.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "held"}})
        cluster.registry.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "pinned", "namespace": "held", "finalizers": ["example.com/keep"]}})
        cluster.registry.delete("namespaces", "", "held")

        def conds():
            ns = cluster.store.get("namespaces", "", "held")
            return {c["type"]: c["message"] for c in (ns.get("status") or {}).get("conditions") or []}
        await until(lambda: "NamespaceFinalizersRemaining" in conds(), what="conditions")
        assert conds()["NamespaceContentRemaining"] == "Some resources are remaining: configmaps. has 1 resource instances"
        assert conds()["NamespaceFinalizersRemaining"] == \
            "Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances"
        cluster.registry.mutate("configmaps", "held", "pinned", lambda o: o["metadata"].__setitem__("finalizers", []))
        await until(lambda: cluster.store.get("namespaces", "", "held") is None, what="namespace gone")
    finally:
        await cluster.stop()


async def test_pods_of_a_deleted_node_are_collected_and_replaced():
    cluster = await start(nodes=2)
    try:
        await rolled_out(cluster, replicas=4)
        on_1 = [p["metadata"]["name"] for p in pods(cluster) if p["spec"]["nodeName"] == "node-1"]
        assert on_1
        cluster.registry.delete("nodes", "", "node-1")
        await until(lambda: not set(on_1) & {p["metadata"]["name"] for p in pods(cluster)}, what="orphans removed")
        await until(lambda: len([p for p in pods(cluster) if p["spec"].get("nodeName") == "node-2"
                                 and (p.get("status") or {}).get("phase") == "Running"]) == 4, what="replaced on node-2")
    finally:
        await cluster.stop()

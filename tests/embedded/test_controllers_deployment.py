"""Deployment controller, in process: ReplicaSets per template, rollouts, revisions."""

import copy

from controllers_kit import deployment, events, pods, start
from waits import until

from console.embedded.controllers import deployutil as du
from console.embedded.controllers.base import controller_ref

RS = "replicasets.apps"
DEP = "deployments.apps"


def dep(cluster, name="web"):
    return cluster.store.get(DEP, "default", name)


def rss(cluster, name="web"):
    d = dep(cluster, name)
    return sorted((r for r in cluster.store.list(RS, "default")
                   if (controller_ref(r) or {}).get("uid") == d["metadata"]["uid"]),
                  key=lambda r: du.revision(r))


def cond(d, type_):
    return du.condition(d.get("status") or {}, type_) or {}


def complete(cluster, name="web"):
    d = dep(cluster, name)
    return d and du.complete(d, d.get("status") or {}) and \
        cond(d, "Progressing").get("reason") == "NewReplicaSetAvailable" and d


def set_image(cluster, image, name="web", annotations=None):
    def fn(o):
        o["spec"]["template"]["spec"]["containers"][0]["image"] = image
        if annotations:
            o["metadata"].setdefault("annotations", {}).update(annotations)
    cluster.registry.mutate(DEP, "default", name, fn)


def test_hash_and_fenceposts():
    assert du.fnv32a(b"a") == 0xE40C292C and du.fnv32a(b"foobar") == 0xBF9CF968   # FNV-1a test vectors
    assert du.safe_encode("1234567890") == "56789bcdf4"   # rand.SafeEncodeString's alphabet
    t = deployment()["spec"]["template"]
    h = du.template_hash(t, None)
    assert h == du.template_hash(copy.deepcopy(t), None)
    assert 1 <= len(h) <= 10 and all(c in "bcdfghjklmnpqrstvwxz2456789" for c in h)
    assert du.template_hash(t, 1) != h
    t2 = copy.deepcopy(t)
    t2["spec"]["containers"][0]["image"] = "nginx:1.17.0"
    assert du.template_hash(t2, None) != h
    # k8s rounds surge up and unavailable down.
    assert du.fenceposts(deployment(replicas=3)) == (1, 0)
    assert du.fenceposts(deployment(replicas=10)) == (3, 2)
    d = deployment(replicas=4, strategy={"type": "RollingUpdate",
                                         "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}})
    assert du.fenceposts(d) == (0, 1)


async def test_create_makes_replicaset_and_reports_available():
    cluster = await start()
    try:
        cluster.registry.create(DEP, deployment(replicas=3))
        d = await until(lambda: complete(cluster), what="rollout complete")
        (rs,) = rss(cluster)
        h = rs["metadata"]["labels"]["pod-template-hash"]
        assert rs["metadata"]["name"] == f"web-{h}"
        assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": h}
        ann = rs["metadata"]["annotations"]
        assert ann[du.REVISION] == "1" and ann[du.DESIRED] == "3" and ann[du.MAX] == "4"
        assert d["metadata"]["annotations"][du.REVISION] == "1"
        st = d["status"]
        assert (st["replicas"], st["updatedReplicas"], st["readyReplicas"], st["availableReplicas"]) == (3, 3, 3, 3)
        assert st["observedGeneration"] == d["metadata"]["generation"]
        assert cond(d, "Available")["reason"] == "MinimumReplicasAvailable"
        assert cond(d, "Progressing")["message"] == f'ReplicaSet "web-{h}" has successfully progressed.'
        assert [e["message"] for e in events(cluster, reason="ScalingReplicaSet")] == \
            [f"Scaled up replica set web-{h} from 0 to 3"]
        assert all(p["metadata"]["labels"]["pod-template-hash"] == h for p in pods(cluster))
    finally:
        await cluster.stop()


async def test_rolling_update_respects_surge_and_unavailable_then_undo():
    cluster = await start()
    total_seen, avail_seen = [], []

    def watch(ev):
        if ev.res == RS:
            owned = [r for r in cluster.store.scan(RS, "default") if r["metadata"]["name"].startswith("web-")]
            total_seen.append(sum(r["spec"].get("replicas", 0) for r in owned))
            avail_seen.append(sum((r.get("status") or {}).get("availableReplicas", 0) for r in owned))
    try:
        cluster.registry.create(DEP, deployment(replicas=4))
        await until(lambda: complete(cluster), what="first rollout")
        cluster.store.subscribe(watch)
        first = rss(cluster)[0]
        set_image(cluster, "nginx:1.17.0", annotations={"kubernetes.io/change-cause": "image 1.17.0"})
        await until(lambda: len(rss(cluster)) == 2 and complete(cluster)
                    and dep(cluster)["status"]["observedGeneration"] == 2, what="second rollout")
        old, new = rss(cluster)
        assert old["metadata"]["uid"] == first["metadata"]["uid"] and old["spec"]["replicas"] == 0
        assert new["spec"]["replicas"] == 4 and du.revision(new) == 2
        assert new["metadata"]["annotations"]["kubernetes.io/change-cause"] == "image 1.17.0"
        assert max(total_seen) <= 4 + 1          # maxSurge 25 % of 4, rounded up
        assert min(avail_seen[1:]) >= 4 - 1      # maxUnavailable 25 % of 4, rounded down
        msgs = [e["message"] for e in events(cluster, reason="ScalingReplicaSet")]
        assert f"Scaled up replica set {new['metadata']['name']} from 0 to 1" in msgs
        # How far the first step down goes depends on how soon the new pod is ready (3 or 2).
        assert any(m.startswith(f"Scaled down replica set {old['metadata']['name']} from 4 to ") for m in msgs)
        # kubectl rollout undo: the template goes back; the old ReplicaSet becomes revision 3.
        set_image(cluster, "nginx:1.25")
        await until(lambda: complete(cluster) and dep(cluster)["status"]["observedGeneration"] == 3
                    and du.revision(rss(cluster)[-1]) == 3, what="undo")
        back = rss(cluster)[-1]
        assert back["metadata"]["uid"] == first["metadata"]["uid"] and back["spec"]["replicas"] == 4
        assert back["metadata"]["annotations"][du.REVISION_HISTORY] == "1"
        assert dep(cluster)["metadata"]["annotations"][du.REVISION] == "3"
        assert len(rss(cluster)) == 2
    finally:
        await cluster.stop()


async def test_recreate_scales_old_to_zero_before_new():
    cluster = await start()
    order = []
    try:
        cluster.registry.create(DEP, deployment(replicas=2, strategy={"type": "Recreate"}))
        await until(lambda: complete(cluster), what="first rollout")
        old_name = rss(cluster)[0]["metadata"]["name"]
        cluster.store.subscribe(lambda ev: ev.res == "pods" and ev.type == "ADDED" and order.append(
            ("new", len([p for p in cluster.store.scan("pods", "default")
                         if p["metadata"]["name"].startswith(old_name)]))))
        set_image(cluster, "nginx:1.17.0")
        await until(lambda: len(rss(cluster)) == 2 and complete(cluster), what="recreate")
        # Every new pod appeared when no old pod was left at all.
        assert order and all(n == 0 for _, n in order)
    finally:
        await cluster.stop()


async def test_scale_and_history_limit():
    cluster = await start()
    try:
        cluster.registry.create(DEP, deployment(replicas=1, revisionHistoryLimit=1))
        await until(lambda: complete(cluster), what="rollout")
        for tag in ("1.1", "1.2", "1.3"):
            set_image(cluster, f"nginx:{tag}")
            await until(lambda: complete(cluster) and
                        rss(cluster)[-1]["spec"]["template"]["spec"]["containers"][0]["image"] == f"nginx:{tag}",
                        what=f"rollout {tag}")
        await until(lambda: len(rss(cluster)) == 2, what="history cleaned to 1 old RS")
        assert [du.revision(r) for r in rss(cluster)] == [3, 4]
        cluster.registry.mutate(DEP, "default", "web", lambda o: o["spec"].__setitem__("replicas", 5))
        await until(lambda: complete(cluster) and dep(cluster)["status"]["availableReplicas"] == 5, what="scale")
        assert rss(cluster)[-1]["metadata"]["annotations"][du.DESIRED] == "5"
    finally:
        await cluster.stop()


async def test_progress_deadline_exceeded_when_pods_never_ready():
    cluster = await start(speed=50)
    try:
        cluster.registry.create(DEP, deployment(replicas=1, image="broken:1", progressDeadlineSeconds=60))
        await until(lambda: cond(dep(cluster), "Progressing").get("reason") == "ProgressDeadlineExceeded",
                    what="deadline exceeded")
        d = dep(cluster)
        assert cond(d, "Progressing")["status"] == "False"
        assert cond(d, "Available")["reason"] == "MinimumReplicasUnavailable"
        assert d["status"]["unavailableReplicas"] == 1
    finally:
        await cluster.stop()


async def test_paused_deployment_does_not_roll_out():
    cluster = await start()
    try:
        cluster.registry.create(DEP, deployment(replicas=2))
        await until(lambda: complete(cluster), what="rollout")
        cluster.registry.mutate(DEP, "default", "web", lambda o: o["spec"].__setitem__("paused", True))
        await until(lambda: cond(dep(cluster), "Progressing").get("reason") == "DeploymentPaused", what="paused")
        set_image(cluster, "nginx:1.17.0")
        await until(lambda: dep(cluster)["status"]["observedGeneration"] == dep(cluster)["metadata"]["generation"],
                    what="observed")
        assert len(rss(cluster)) == 1
        cluster.registry.mutate(DEP, "default", "web", lambda o: o["spec"].__setitem__("paused", False))
        await until(lambda: len(rss(cluster)) == 2 and complete(cluster), what="resumed rollout")
    finally:
        await cluster.stop()


def sizes(cluster):
    return [r["spec"]["replicas"] for r in rss(cluster)]


async def test_scaling_mid_rollout_is_proportional():
    cluster = await start(cpu="32")
    try:
        cluster.registry.create(DEP, deployment(replicas=10))
        await until(lambda: complete(cluster), what="rollout")
        set_image(cluster, "broken:2")   # new pods never become ready: the rollout stalls
        # 25 % of 10: surge 3, unavailable 2 -> old 8 (8 must stay available), new 5 (13 in all).
        await until(lambda: sizes(cluster) == [8, 5], what="stalled rollout at 8 + 5")
        cluster.registry.mutate(DEP, "default", "web", lambda o: o["spec"].__setitem__("replicas", 20))
        # 12 more (20 + surge 5 - 13) shared in proportion: 8*25/13 -> +7, the remaining 5 to the new one.
        await until(lambda: sizes(cluster) == [15, 10], what="proportional scale")
        assert all(r["metadata"]["annotations"][du.DESIRED] == "20" and
                   r["metadata"]["annotations"][du.MAX] == "25" for r in rss(cluster))
    finally:
        await cluster.stop()


async def test_surge_only_and_unavailable_only_bounds():
    for surge, unavailable, top, floor in ((0, 1, 4, 3), ("100%", 0, 8, 4)):
        cluster = await start(cpu="32")
        totals, avail = [], []

        def watch(ev):
            if ev.res == RS:
                owned = [r for r in cluster.store.scan(RS, "default")]
                totals.append(sum(r["spec"].get("replicas", 0) for r in owned))
                avail.append(sum((r.get("status") or {}).get("availableReplicas", 0) for r in owned))
        try:
            cluster.registry.create(DEP, deployment(replicas=4, strategy={
                "type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}))
            await until(lambda: complete(cluster), what="rollout")
            cluster.store.subscribe(watch)
            set_image(cluster, "nginx:2")
            await until(lambda: len(rss(cluster)) == 2 and complete(cluster)
                        and dep(cluster)["status"]["observedGeneration"] == 2, what="second rollout")
            assert max(totals) == top, (surge, unavailable, totals)
            assert min(avail) >= floor, (surge, unavailable, avail)
        finally:
            await cluster.stop()


async def test_pods_that_cannot_be_created_show_as_replica_failure():
    cluster = await start()

    def deny(obj, old):
        if obj["spec"]["containers"][0].get("image") == "forbidden:1":
            return [("spec.containers[0].image", "Forbidden: not on this cluster")]
        return []
    cluster.registry.admission.add("validate", "pods", deny)  # this cluster's alone
    try:
        cluster.registry.create(DEP, deployment(replicas=1, image="forbidden:1"))
        await until(lambda: cond(dep(cluster), "ReplicaFailure").get("reason") == "FailedCreate", what="failure")
        assert "Forbidden: not on this cluster" in cond(dep(cluster), "ReplicaFailure")["message"]
        (ev, *_) = events(cluster, reason="FailedCreate")
        assert ev["type"] == "Warning" and ev["message"].startswith("Error creating: ")
        set_image(cluster, "nginx:1.25")
        await until(lambda: complete(cluster) and not cond(dep(cluster), "ReplicaFailure"), what="recovered")
    finally:
        await cluster.stop()

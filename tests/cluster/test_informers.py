"""Informers and metrics against the embedded cluster over real HTTPS."""

import json

from console import bus
from console.cluster import actions, informers, metrics, rest
from console.cluster.printer import pod_row
from tests.cluster.helpers import Watched, namespace_conn

MANIFEST = "manifests/order.yaml"


def running_ready(state, n):
    rows = [pod_row(p, 0) for p in state.pods]
    return len(rows) == n and all(r.ready == "1/1" and r.status == "Running" for r in rows)


def test_list_then_watch_sees_pods_come_up_and_go(cluster):
    conn = namespace_conn(cluster)
    b = bus.Bus()
    w = Watched(b)
    infs = informers.Informers(conn.api, conn.namespace, b).start()
    try:
        w.until(lambda s: {"pods", "deployments", "events"} <= s.synced, what="first lists")
        assert actions.apply(conn, MANIFEST).ok
        readies = set()

        def up(s):
            readies.update(pod_row(p, 0).ready for p in s.pods)
            return running_ready(s, 2)
        w.until(up, what="2 pods Running 1/1")
        assert "0/1" in readies   # the readiness probe holds them back while the app boots
        w.until(lambda s: s.rollout("order") and s.rollout("order").complete, what="rollout complete")
        w.until(lambda s: sum(e.reason == "Ready" for e in s.events) >= 2, what="readiness changes logged")
        assert any(isinstance(e, bus.ObjectChanged) and e.kind == "endpointslices" for e in w.seen)
        assert "order" in w.state.service_names()
        assert {e.reason for e in w.state.events} >= {"Scheduled", "Started"}
        assert all(s == "live" for s, _ in w.state.links.values())
        assert actions.scale(conn, "order", 0).ok
        w.until(lambda s: not s.pods, what="pods deleted")
        assert [i.relists for i in infs.items] == [1] * len(infs.items)
    finally:
        infs.stop()
        infs.join(30)
    assert not any(i.thread.is_alive() for i in infs.items)   # stop() unblocks the watch reads


def test_resume_from_resource_version_and_relist_on_410(start_cluster, monkeypatch):
    monkeypatch.setenv("KUBELAB_WATCH_HISTORY", "40")   # the server keeps little history
    c = start_cluster(speed=20)
    conn = namespace_conn(c)
    listed = rest.call(conn.api, "GET", rest.path_for("Pod", conn.namespace))
    rv = listed["metadata"]["resourceVersion"]
    b = bus.Bus()
    w = Watched(b)
    resumed = informers.Informer(conn.api, conn.namespace, "pods", b, resource_version=rv).start()
    try:
        assert actions.apply(conn, MANIFEST).ok
        w.until(lambda s: running_ready(s, 2), what="pods seen through the resumed watch")
        assert resumed.relists == 0                      # resumed: no list at all
        for i in range(30):                              # push rv past the kept history
            rest.create_or_update(conn.api, {"apiVersion": "v1", "kind": "ConfigMap",
                                             "metadata": {"name": f"cm{i}"}}, conn.namespace)
        b2 = bus.Bus()
        w2 = Watched(b2)
        old = informers.Informer(conn.api, conn.namespace, "pods", b2, resource_version=rv).start()
        try:
            w2.until(lambda s: "pods" in s.synced and running_ready(s, 2), what="relist after 410")
            assert old.relists == 1
        finally:
            old.stop()
    finally:
        resumed.stop()


def test_connection_lost_is_reported_then_stale(start_cluster):
    c = start_cluster(speed=20)
    conn = namespace_conn(c)
    b = bus.Bus()
    w = Watched(b, merge=False)    # every state said: merged, a late pump saw "stale" alone
    inf = informers.Informer(conn.api, conn.namespace, "pods", b, stale_after=1.0).start()
    try:
        w.until(lambda s: s.links.get("pods", ("",))[0] == "live", what="live")
        c.stop()
        w.until(lambda s: s.links["pods"][0] == "stale", what="stale")
        # the states in the order they were said
        said = [(e.state, e.detail) for e in w.seen if isinstance(e, bus.WatchState)]
        after = said[[s for s, _ in said].index("live") + 1:]
        assert after[0][0] == "reconnecting" and after[0][1]
        assert "Traceback" not in json.dumps(w.state.links)
    finally:
        inf.stop()


def test_metrics_answer_or_say_why(cluster):
    conn = namespace_conn(cluster)
    m = metrics.fetch(conn.api, conn.namespace)
    if m.available:
        assert isinstance(m.cpu, dict)
    else:
        assert m.hint == "error: Metrics API not available" or m.hint.startswith("metrics: ")
    assert metrics.millicores("250m") == 250 and metrics.millicores("1") == 1000
    assert metrics.millicores("1500000n") == 2 and metrics.quantity("64Mi") == 64 * 2**20

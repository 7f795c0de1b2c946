"""Load at in-cluster names by each path (route.py) against the embedded cluster over
real HTTP: the loopback listeners (its default), a port-forward through the API
server that follows the Service's ready pods under churn, the lab's siege pod
(exec, siege's own output), a LoadBalancer address; the same figures each way,
the path on the bus and in the run log; refusals said in one line."""

import json

import pytest

from console import bus
from console.cluster import actions, rest
from console.cluster.session import Session
from console.errors import UsageError
from console.loadgen import pool, runlog
from tests.cluster.helpers import namespace_conn, ready_pods, wait_for

FIGURES = {"done", "availability", "transactions", "failures", "requests", "elapsed", "codes",
           "errors", "path", "p50", "p99"}


@pytest.fixture(scope="module")
def lab(cluster, tmp_path_factory):
    import os
    saved = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))   # a run log of our own
    conn = namespace_conn(cluster, "paths")
    assert actions.apply(conn, "manifests/order.yaml").ok
    assert actions.apply(conn, "manifests/siege.yaml").ok
    assert actions.scale(conn, "order", 3).ok
    wait_for(lambda: len(ready_pods(conn, "app=order")) == 3, 120, "3 ready order pods")
    wait_for(lambda: (rest.get(conn.api, "Pod", conn.namespace, "siege").get("status") or {})
             .get("phase") == "Running", 120, "the siege pod")
    session = Session(conn)
    yield session
    session.close(disconnect=False)
    if saved is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = saved


def run(session, text, **kw):
    sub = session.bus.subscribe()
    r = session.load.start(text, **kw)
    assert r.done.wait(180), "the run did not end"
    events = sub.get_batch(timeout=1)
    sub.close()
    return r, events


def test_the_embedded_cluster_goes_by_loopback_and_says_so(lab):
    r, events = run(lab, "-c2 -t3S http://order:8080/orders")
    started = next(e for e in events if isinstance(e, bus.LoadStarted))
    assert started.path == "loopback" and "kubelab.dev/host-ports" in started.reason
    f = r.figures()
    assert FIGURES <= set(f) and f["path"] == "loopback" and f["transactions"] > 0
    assert r.result["workers"] == min(2, pool.cores())  # the console's runs use every core
    logged = [x for x in runlog.read() if x.get("path", {}).get("kind") == "loopback"]
    assert logged and logged[-1]["result"]["transactions"] == f["transactions"]


def test_a_port_forward_follows_the_ready_pods_under_churn(lab, capsys):
    conn = lab.conn
    r = lab.load.start("-c4 -t40S http://order:8080/orders", via="port-forward")
    wait_for(lambda: r.last and r.last["transactions"] > 50, 60, "load going")
    marks, hub = [], lab.forwarder()
    for _ in range(3):              # kill the pod with most connections, wait for its replacement
        wait_for(lambda: hub.stats(conn.namespace, "order", 8080)["in_use"], 30, "a connection")
        in_use = hub.stats(conn.namespace, "order", 8080)["in_use"]
        victim = max(in_use, key=in_use.get)
        before = r.last["transactions"]
        assert actions.delete_pod(conn, victim).ok
        wait_for(lambda: victim not in ready_pods(conn, "app=order")
                 and len(ready_pods(conn, "app=order")) == 3, 120, "a replacement")
        # the load went on through the other pods meanwhile
        wait_for(lambda: r.last["transactions"] > before + 20, 60, "load after the kill")
        marks.append(r.last["failed"])
        wait_for(lambda: victim not in hub.stats(conn.namespace, "order", 8080)["in_use"], 60,
                 "its connections gone")
        if not r.running:
            break
    lab.load.stop(r.name)
    assert r.done.wait(60)
    f = r.figures()
    fwd = r.result["path"]["forwards"][0]
    with capsys.disabled():
        print(f"\n[port-forward under churn] {f['transactions']} ok, {f['failures']} failed "
              f"(after each kill: {marks}); connections {fwd['connections']}, re-targets "
              f"{fwd['retargets']}, refused {fwd['refused']}, dropped {fwd['dropped']}")
    assert f["path"] == "port-forward" and f["done"]
    assert fwd["retargets"] >= 3            # each pod it used that went away
    assert f["availability"] > 90           # a few in-flight requests at most
    assert set(fwd["pods"]) == set(ready_pods(conn, "app=order"))


def test_siege_in_the_siege_pod_gives_the_same_figures(lab):
    r, events = run(lab, "-c2 -t4S http://order:8080/orders", via="siege-pod")
    started = next(e for e in events if isinstance(e, bus.LoadStarted))
    assert started.path == "siege-pod" and "pod siege" in started.reason
    samples = [e for e in events if isinstance(e, bus.LoadSample)]
    assert samples and samples[-1].data["transactions"] > 0       # the -v lines, live
    f = r.figures()
    assert FIGURES <= set(f) and f["path"] == "siege-pod" and f["transactions"] > 0
    assert f["codes"] == {"200": f["transactions"]} and f["p50"] is not None
    assert r.summary.startswith("Transactions:") and "Availability:" in r.summary
    done = next(e for e in events if isinstance(e, bus.LoadDone))
    assert done.data["siege"]["summary"] and done.data["path"]["pod"] == "siege"
    logged = [x for x in runlog.read() if x.get("source") == "siege-pod"]
    assert logged and logged[-1]["result"]["transactions"] == f["transactions"]


def test_stopping_a_siege_pod_run_still_gives_sieges_summary(lab):
    r = lab.load.start("-c1 -t120S http://order:8080/orders", via="siege-pod")
    wait_for(lambda: r.last and r.last["transactions"] > 5, 60, "siege going")
    lab.load.stop(r.name)
    assert r.done.wait(60)
    assert r.result is not None and r.result["interrupted"]
    assert r.result["elapsed_time"] < 60 and "Transactions:" in r.summary


def test_a_load_balancer_address_is_used_directly(lab):
    conn = lab.conn
    svc = json.loads(json.dumps(rest.load_manifest("manifests/order.yaml")[1]))
    svc["metadata"]["name"] = "order-lb"
    svc["spec"]["type"] = "LoadBalancer"
    assert actions.apply(conn, [svc]).ok
    wait_for(lambda: ((rest.get(conn.api, "Service", conn.namespace, "order-lb").get("status") or {})
                      .get("loadBalancer") or {}).get("ingress"), 60, "an EXTERNAL-IP")
    r, events = run(lab, "-c2 -t2S http://order-lb:8080/orders", via="direct")
    assert r.route.kind == "load-balancer" and "answers from here" in r.route.reason
    assert r.figures()["transactions"] > 0


def test_refusals_say_what_was_tried(lab, start_cluster):
    with pytest.raises(UsageError) as e:
        lab.load.start("-c1 -t1S http://nothere:8080/", via="port-forward")
    assert "service nothere not found in namespace" in str(e.value)
    c = start_cluster(users=["viewer=view"])
    from console.cluster.connect import from_kubeconfig
    admin = from_kubeconfig(str(c.kubeconfig))
    assert actions.apply(admin, "manifests/order.yaml").ok
    viewer = Session(from_kubeconfig(str(c.kubeconfig), context="kubelab-viewer"))
    try:
        with pytest.raises(UsageError) as e:
            viewer.load.start("-c1 -t1S http://order:8080/orders", via="port-forward")
        assert "cannot create pods/portforward in namespace default" in str(e.value)
        viewer.load_path = "auto"
        # auto on the embedded cluster: loopback needs no permission
        assert viewer.load.prepare("-c1 -t1S http://order:8080/orders")[1].kind == "loopback"
        with pytest.raises(UsageError) as e:
            viewer.load.prepare("-c1 -t1S http://order:8080/orders", via="siege-pod")
        assert "siege pod: none running in namespace default" in str(e.value)
    finally:
        viewer.close()
        admin.close()


def test_a_fault_and_a_check_reach_the_service_the_same_way(lab):
    """liveness.down's PUT and a scenario's http check go by the session's path too."""
    lab.load_path = "port-forward"
    try:
        assert lab.reach("order", 8080) == lab.forwarder().forward(lab.conn.namespace, "order", 8080)
        res = lab.act("liveness.up", service="order", port=8080)
        assert res.ok, res.message
        from console.scenario.conditions import HttpCheck
        from types import SimpleNamespace
        seen = HttpCheck(url="http://order:8080/orders").observe(
            SimpleNamespace(conn=lab.conn, load=lab.load))
        assert seen.ok and seen.observed.startswith("200"), seen
    finally:
        lab.load_path = "auto"
    assert lab.reach("order", 8080)[0] == "127.0.0.1"      # loopback again

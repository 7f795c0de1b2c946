"""When a Service has no ready pod left but some still serve while they terminate
(a deleted pod whose replacement is not ready yet, a scale-down to zero — here held
by a preStop hook), kube-proxy sends new connections to those rather than dropping
them (ProxyTerminatingEndpoints); the console's port-forward and the embedded
cluster's Service proxy do the same, and go back to the ready pods once there are.
Against the embedded cluster over real HTTP, under load with a new connection per
request (so every one is routed afresh)."""

import json
import urllib.request

import pytest

from console.cluster import actions, rest
from console.cluster.session import Session
from tests.cluster.helpers import namespace_conn, ready_pods, wait_for

HOLD = 3600      # the preStop hook keeps a terminating pod serving this long (cluster seconds)

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "drain"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "drain"}},
             "template": {"metadata": {"labels": {"app": "drain"}}, "spec": {
                 "terminationGracePeriodSeconds": HOLD,
                 "containers": [{
                     "name": "web", "image": "kubelab/http:1",
                     "ports": [{"containerPort": 8080}],
                     # a replacement is not ready for a while: the window to fall back in
                     "readinessProbe": {"httpGet": {"path": "/", "port": 8080},
                                        "initialDelaySeconds": 100, "periodSeconds": 5},
                     "lifecycle": {"preStop": {"sleep": {"seconds": HOLD}}}}]}}}}
SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "drain"},
           "spec": {"selector": {"app": "drain"}, "ports": [{"port": 80, "targetPort": 8080}]}}


@pytest.fixture()
def drain(cluster):
    conn = namespace_conn(cluster, "drain")
    for obj in (DEPLOYMENT, SERVICE):
        rest.create_or_update(conn.api, obj, conn.namespace)
    wait_for(lambda: len(ready_pods(conn, "app=drain")) == 1, 120, "the drain pod ready")
    session = Session(conn)
    yield session
    session.load.stop_all(wait=30)
    for pod in rest.call(conn.api, "GET", rest.path_for("Pod", conn.namespace)).get("items") or []:
        rest.call(conn.api, "DELETE", rest.path_for("Pod", conn.namespace, pod["metadata"]["name"]),
                  body={"gracePeriodSeconds": 0})
    actions.delete(conn, "Namespace", conn.namespace)
    session.close(disconnect=False)


def slice_conditions(conn) -> dict:
    """pod -> (ready, serving, terminating), from the Service's EndpointSlices."""
    body = rest.call(conn.api, "GET", f"/apis/discovery.k8s.io/v1/namespaces/{conn.namespace}/"
                     "endpointslices", query=[("labelSelector", "kubernetes.io/service-name=drain")])
    return {ep["targetRef"]["name"]: tuple(ep["conditions"][k] for k in ("ready", "serving", "terminating"))
            for sl in body.get("items") or [] for ep in sl.get("endpoints") or []}


def through_the_service_proxy(conn) -> str:
    """GET through the embedded cluster's Service proxy (its loopback listener): who answered."""
    svc = rest.get(conn.api, "Service", conn.namespace, "drain")
    addr = json.loads(svc["metadata"]["annotations"]["kubelab.dev/host-ports"])["80"]
    with urllib.request.urlopen(f"http://{addr}/", timeout=30) as resp:
        return json.loads(resp.read())["pod"]


def test_no_ready_pod_the_forward_goes_to_the_terminating_ones_as_kube_proxy(drain, capsys):
    conn, hub = drain.conn, drain.forwarder()
    (first,) = ready_pods(conn, "app=drain")
    r = drain.load.start("-c2 -t300S --no-keepalive http://drain/", via="port-forward")
    wait_for(lambda: r.last and r.last["transactions"] > 20, 60, "load going")

    def stats():
        return hub.stats(conn.namespace, "drain", 80)

    def goes_on(what):
        before = r.last["transactions"]
        wait_for(lambda: r.last["transactions"] > before + 20, 60, what)

    # 1. the only pod deleted: its replacement boots, it serves on while its hook holds it
    assert actions.delete_pod(conn, first).ok
    wait_for(lambda: slice_conditions(conn).get(first) == (False, True, True), 60,
             "ready=false serving=true terminating=true in its EndpointSlice")
    wait_for(lambda: stats()["terminating"] and stats()["pods"] == [first], 30, "the fallback")
    goes_on("load through the terminating pod")
    assert through_the_service_proxy(conn) == first       # the embedded kube-proxy: the same

    # 2. the replacement ready: only it gets new connections, the terminating one none
    second = wait_for(lambda: ready_pods(conn, "app=drain"), 120, "the replacement ready")[0]
    wait_for(lambda: stats()["pods"] == [second] and not stats()["terminating"], 30, "back to ready")
    sent = stats()["to_terminating"]
    assert sent > 0
    goes_on("load through the replacement")
    assert stats()["to_terminating"] == sent and through_the_service_proxy(conn) == second

    # 3. scaled to zero: both serve on while they terminate, and the load with them
    assert actions.scale(conn, "drain", 0).ok
    wait_for(lambda: stats()["terminating"] and set(stats()["pods"]) == {first, second}, 60,
             "the fallback to both")
    goes_on("load through the terminating pods")
    assert through_the_service_proxy(conn) in (first, second)

    drain.load.stop(r.name)
    assert r.done.wait(60)
    f, fwd = r.figures(), r.result["path"]["forwards"][0]
    with capsys.disabled():
        print(f"\n[port-forward, no ready pod] {f['transactions']} ok, {f['failures']} failed; "
              f"connections {fwd['connections']}, to terminating pods {fwd['to_terminating']}, "
              f"refused {fwd['refused']}, dropped {fwd['dropped']}, re-targets {fwd['retargets']}")
    assert f["path"] == "port-forward" and f["done"] and not f["aborted"]
    # without the fallback each new connection in those windows is reset (siege: a failure)
    assert fwd["refused"] <= 2 and f["availability"] > 99


def test_the_rule_as_kube_proxy_reads_the_conditions():
    """Absent conditions mean ready, serving, not terminating; the fallback is taken
    only when no endpoint is ready, and then only serving-and-terminating ones."""
    from console.endpoints import usable
    ready, old, gone, bare = ({"conditions": {"ready": True}}, {"conditions": {
        "ready": False, "serving": True, "terminating": True}}, {"conditions": {
        "ready": False, "serving": False, "terminating": True}}, {})
    assert usable([ready, old, gone]) == ([ready], False)
    assert usable([bare, old]) == ([bare], False)
    assert usable([old, gone]) == ([old], True)
    assert usable([gone, {"conditions": {"ready": False, "serving": True}}]) == ([], False)

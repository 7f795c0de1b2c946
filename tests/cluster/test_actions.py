"""Every action against the embedded cluster: it does what it says, or returns the API's words."""

import pytest

from console.cluster import actions, faults, rest
from tests.cluster.helpers import namespace_conn, wait_for

MANIFEST = "manifests/order.yaml"


@pytest.fixture
def conn(cluster):
    c = namespace_conn(cluster, "act")
    assert actions.apply(c, MANIFEST).ok
    return c


def dep(conn):
    return rest.get(conn.api, "Deployment", conn.namespace, "order")


def image(conn):
    return dep(conn)["spec"]["template"]["spec"]["containers"][0]["image"]


def test_apply_twice_is_unchanged_then_configured(conn):
    # The controllers write the Deployment's status meanwhile: apply must not lose to them.
    wait_for(lambda: dep(conn).get("status", {}).get("observedGeneration"), what="a status write")
    for _ in range(3):
        res = actions.apply(conn, MANIFEST)
        assert res.ok and res.message == "deployment.apps/order unchanged; service/order unchanged", res.message
    docs = rest.load_manifest(MANIFEST)
    docs[0]["spec"]["replicas"] = 3
    res = actions.apply(conn, docs)
    assert res.ok and res.message == "deployment.apps/order configured; service/order unchanged", res.message
    assert dep(conn)["spec"]["replicas"] == 3
    assert rest.get(conn.api, "Service", conn.namespace, "order")["spec"].get("clusterIP")


def test_apply_creates_like_kubectl(cluster):
    c = namespace_conn(cluster, "new")
    res = actions.apply(c, MANIFEST)
    assert res.ok and res.message == "deployment.apps/order created; service/order created", res.message


def test_scale_set_image_and_undo_like_kubectl(conn):
    assert actions.scale(conn, "order", 3).message == "deployment.apps/order scaled to 3"
    assert actions.scale_by(conn, "order", -1).ok and dep(conn)["spec"]["replicas"] == 2
    wait_for(lambda: dep(conn)["metadata"].get("annotations", {}).get(
        "deployment.kubernetes.io/revision") == "1", what="revision 1")
    assert actions.set_image(conn, "order", "jinyoung/order:canary").ok
    wait_for(lambda: len(actions.history(conn, "order")) == 2, what="two revisions")
    res = actions.rollout_undo(conn, "order")
    assert res.ok and res.message == "deployment.apps/order rolled back to revision 1"
    assert image(conn) == "ghcr.io/acmexii/order-liveness:latest"
    wait_for(lambda: [r for r, *_ in actions.history(conn, "order")] == [2, 3], what="revision 3")
    res = actions.rollout_undo(conn, "order", to_revision=3)
    assert res.ok and res.message.startswith("skipped rollback")
    assert not actions.rollout_undo(conn, "order", to_revision=9).ok


def test_autoscale_then_delete(conn):
    res = actions.autoscale(conn, "order", 1, 3, 50)
    assert res.ok, res.message
    hpa = rest.get(conn.api, "HorizontalPodAutoscaler", conn.namespace, "order")
    assert hpa["spec"]["maxReplicas"] == 3
    assert actions.autoscale(conn, "order", 2, 5, 20).message.endswith("configured (min 2, max 5, cpu 20%)")
    assert not actions.autoscale(conn, "order", 4, 2, 50).ok
    assert actions.delete_hpa(conn, "order").ok
    res = actions.delete_hpa(conn, "order")
    assert not res.ok and res.message == 'horizontalpodautoscalers.autoscaling "order" not found'


def test_errors_are_the_api_servers_own_words(conn):
    assert actions.scale(conn, "nope", 1).message == 'deployments.apps "nope" not found'
    assert actions.delete_pod(conn, "nope").message == 'pods "nope" not found'
    bad = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "Bad_Name"},
            "spec": {}}]
    res = actions.apply(conn, bad)
    assert not res.ok and "Bad_Name" in res.message and "\n" not in res.message
    res = actions.apply(conn, "manifests/missing.yaml")
    assert not res.ok and "manifests/missing.yaml" in res.message


def test_faults_and_their_undo(conn):
    res = faults.readiness_break(conn, "order")
    assert res.ok, res.message
    probe = dep(conn)["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe["httpGet"]["path"] == faults.BROKEN_PATH
    assert faults.readiness_fix(conn, "order").ok
    probe = dep(conn)["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe["httpGet"]["path"] == "/actuator/health"   # the manifest's own, back
    assert not faults.readiness_fix(conn, "order").ok

    assert faults.dependency_down(conn, "order").message == "order down (was 2 replicas)"
    assert dep(conn)["spec"]["replicas"] == 0
    assert faults.dependency_up(conn, "order").ok and dep(conn)["spec"]["replicas"] == 2

    for fn in (faults.circuit_breaker, faults.retries, faults.delay, faults.abort):
        res = fn(conn, "order")
        assert res.ok and res.message.endswith(     # a test namespace outside the mesh
            f"; namespace {conn.namespace} is not labelled istio-injection=enabled, so only "
            "traffic from pods with an istio-proxy sidecar obeys it"), res.message
    vs = rest.call(conn.api, "GET", rest.path_for("VirtualService", conn.namespace, "order-kubelab"))
    route = vs["spec"]["http"][0]
    assert route["retries"]["attempts"] == 3 and set(route["fault"]) == {"delay", "abort"}
    assert faults.mesh_clear(conn, "order").message == \
        "deleted destinationrule/order-kubelab, virtualservice/order-kubelab"


def test_liveness_down_goes_through_the_services_loopback_port(conn):
    def published():
        try:
            return faults.service_address(conn, "order", 8080)
        except LookupError:
            return None
    wait_for(published, what="published port")
    wait_for(lambda: dep(conn).get("status", {}).get("readyReplicas") == 2, 90, "2 ready")
    first = faults.liveness_down(conn, "order")     # may find the app still booting
    assert first.ok or "(is the app still booting?)" in first.message
    wait_for(lambda: faults.liveness_down(conn, "order").ok, 90, "PUT /actuator/down answered")
    assert not faults.liveness_down(conn, "nosuch").ok

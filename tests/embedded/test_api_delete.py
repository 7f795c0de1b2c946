"""Deletion as the real server does it: graceful pods (Terminating), grace 0,
propagationPolicy via finalizers with the garbage collector, custom finalizers,
namespaces going Terminating."""

import uuid

from kubernetes import client

from apihelp import call
from waits import wait_for

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


def _ns(api) -> str:
    name = f"d-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


def _pod(name, **spec):
    return {"metadata": {"name": name, "labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec}}


def _exists(cluster, path) -> bool:
    return call(cluster, "GET", path)[0] == 200


def test_graceful_pod_deletion_shows_terminating_then_goes(cluster, api):
    ns = _ns(api)
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, _pod("web"))
    path = f"/api/v1/namespaces/{ns}/pods/web"
    wait_for(lambda: core.read_namespaced_pod("web", ns).spec.node_name, what="scheduling")
    code, _, pod = call(cluster, "DELETE", path)
    assert code == 200 and pod["kind"] == "Pod"
    assert pod["metadata"]["deletionTimestamp"] and pod["metadata"]["deletionGracePeriodSeconds"] == 30
    code, _, table = call(cluster, "GET", path, accept=TABLE)
    if code == 200:  # the kubelet may already have finished it
        assert table["rows"][0]["cells"][2] == "Terminating"
    wait_for(lambda: not _exists(cluster, path), what="the kubelet to finish the pod")


def test_unscheduled_pod_and_grace_zero_go_at_once(cluster, api):
    ns = _ns(api)
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, _pod("nowhere", nodeSelector={"no": "such-node"}))
    code, _, pod = call(cluster, "DELETE", f"/api/v1/namespaces/{ns}/pods/nowhere")
    assert code == 200 and not _exists(cluster, f"/api/v1/namespaces/{ns}/pods/nowhere")
    core.create_namespaced_pod(ns, _pod("now"))
    wait_for(lambda: core.read_namespaced_pod("now", ns).spec.node_name, what="scheduling")
    code, _, _ = call(cluster, "DELETE", f"/api/v1/namespaces/{ns}/pods/now?gracePeriodSeconds=0")
    assert code == 200 and not _exists(cluster, f"/api/v1/namespaces/{ns}/pods/now")
    code, _, st = call(cluster, "DELETE", f"/api/v1/namespaces/{ns}/pods/now")
    assert code == 404 and st["message"] == 'pods "now" not found'


def test_custom_finalizer_holds_the_object_until_removed(cluster, api):
    ns = _ns(api)
    path = f"/api/v1/namespaces/{ns}/configmaps/held"
    call(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    code, _, cm = call(cluster, "DELETE", path)     # still there: the object, 200
    assert code == 200 and cm["metadata"]["deletionTimestamp"]
    assert _exists(cluster, path)
    code, _, _ = call(cluster, "PATCH", path, {"metadata": {"finalizers": None}},
                      "application/merge-patch+json")
    assert code == 200 and not _exists(cluster, path)


def _deployment(api, ns, name="web", replicas=2):
    client.AppsV1Api(api).create_namespaced_deployment(ns, {
        "metadata": {"name": name}, "spec": {"replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    apps = client.AppsV1Api(api)
    wait_for(lambda: apps.list_namespaced_replica_set(ns).items, what="a ReplicaSet")
    return f"/apis/apps/v1/namespaces/{ns}/deployments/{name}"


def test_foreground_deletion_uses_a_finalizer_the_gc_clears(cluster, api):
    ns = _ns(api)
    path = _deployment(api, ns)
    code, _, d = call(cluster, "DELETE", path + "?propagationPolicy=Foreground")
    assert code in (200, 202)
    if code == 202:
        assert "foregroundDeletion" in d["metadata"]["finalizers"]
    apps = client.AppsV1Api(api)
    wait_for(lambda: not _exists(cluster, path) and not apps.list_namespaced_replica_set(ns).items,
             what="the deployment and its ReplicaSets to go")


def test_orphan_deletion_keeps_dependents(cluster, api):
    ns = _ns(api)
    path = _deployment(api, ns)
    code, _, d = call(cluster, "DELETE", path, {"apiVersion": "v1", "kind": "DeleteOptions",
                                                "propagationPolicy": "Orphan"})
    assert code in (200, 202)
    wait_for(lambda: not _exists(cluster, path), what="the deployment to go")
    apps = client.AppsV1Api(api)
    rs = wait_for(lambda: [r for r in apps.list_namespaced_replica_set(ns).items
                           if not r.metadata.owner_references], what="orphaned ReplicaSet")
    assert rs


def test_bad_propagation_policy_is_a_422_as_validate_delete_options_says(cluster, api):
    ns = _ns(api)
    client.CoreV1Api(api).create_namespaced_config_map(ns, {"metadata": {"name": "x"}})
    code, _, st = call(cluster, "DELETE", f"/api/v1/namespaces/{ns}/configmaps/x"
                       "?propagationPolicy=Sideways")
    assert code == 422 and st["message"] == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
        '"Sideways": supported values: "Foreground", "Background", "Orphan", "nil"')
    assert _exists(cluster, f"/api/v1/namespaces/{ns}/configmaps/x")


def test_namespace_deletion_goes_terminating_then_away(cluster, api):
    ns = _ns(api)
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "x"}})
    code, _, got = call(cluster, "DELETE", f"/api/v1/namespaces/{ns}")
    assert code in (200, 202)
    if _exists(cluster, f"/api/v1/namespaces/{ns}"):
        assert core.read_namespace(ns).status.phase == "Terminating"
        code, _, st = call(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", {
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}})
        assert code == 403 and "being terminated" in st["message"]
    wait_for(lambda: not _exists(cluster, f"/api/v1/namespaces/{ns}"), what="namespace removal")


def test_system_namespaces_may_not_be_deleted(cluster):
    for ns in ("default", "kube-system", "kube-public"):
        code, _, st = call(cluster, "DELETE", f"/api/v1/namespaces/{ns}")
        assert code == 403 and st["reason"] == "Forbidden"
        assert st["message"] == f'namespaces "{ns}" is forbidden: this namespace may not be deleted'
        assert _exists(cluster, f"/api/v1/namespaces/{ns}")


def test_delete_answers_as_each_registry_does(cluster, api):
    """ReturnDeletedObject: pods, services and namespaces answer a DELETE with the object
    (the official client decodes a V1Service), the others with a Success Status."""
    ns = _ns(api)
    core = client.CoreV1Api(api)
    core.create_namespaced_service(ns, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    svc = core.delete_namespaced_service("web", ns)
    assert isinstance(svc, client.V1Service) and svc.metadata.name == "web"
    assert svc.spec.ports[0].port == 80
    core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}})
    code, _, st = call(cluster, "DELETE", f"/api/v1/namespaces/{ns}/configmaps/c")
    assert code == 200 and st["kind"] == "Status" and st["status"] == "Success"
    assert st["details"]["name"] == "c" and st["details"]["kind"] == "configmaps"
    # an object that stays (a finalizer) with orphanDependents=false: 202 Accepted
    call(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    code, _, cm = call(cluster, "DELETE", f"/api/v1/namespaces/{ns}/configmaps/held",
                       {"apiVersion": "v1", "kind": "DeleteOptions", "orphanDependents": False})
    assert code == 202 and cm["kind"] == "ConfigMap" and cm["metadata"]["deletionTimestamp"]
    call(cluster, "PATCH", f"/api/v1/namespaces/{ns}/configmaps/held",
         {"metadata": {"finalizers": None}}, "application/merge-patch+json")

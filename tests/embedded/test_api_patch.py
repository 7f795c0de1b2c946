"""The four patch types: algorithms directly, then over HTTP as kubectl sends them."""

import json
import uuid

import pytest
from kubernetes import client

from apihelp import call
from console.embedded.api.patch import json_patch, merge_patch, strategic
from console.embedded.api.status import ApiError

POD = {"spec": {"containers": [
    {"name": "a", "image": "nginx:1", "ports": [{"containerPort": 80}, {"containerPort": 81}],
     "env": [{"name": "X", "value": "1"}]},
    {"name": "b", "image": "busybox"}]}}


def test_strategic_merges_containers_by_name_and_ports_by_container_port():
    out = strategic(POD, {"spec": {"containers": [
        {"name": "b", "image": "busybox:2"},
        {"name": "a", "ports": [{"containerPort": 81, "name": "admin"}],
         "env": [{"name": "Y", "value": "2"}]}]}}, "V1Pod")
    a, b = out["spec"]["containers"]
    assert (a["name"], a["image"], b["image"]) == ("a", "nginx:1", "busybox:2")
    assert a["ports"] == [{"containerPort": 80}, {"containerPort": 81, "name": "admin"}]
    assert [e["name"] for e in a["env"]] == ["X", "Y"]
    assert POD["spec"]["containers"][1]["image"] == "busybox"  # input untouched


def test_strategic_directives():
    out = strategic(POD, {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}, "V1Pod")
    assert [c["name"] for c in out["spec"]["containers"]] == ["a"]
    out = strategic(POD, {"spec": {"containers": [{"name": "z", "image": "z"},
                                                  {"$patch": "replace"}]}}, "V1Pod")
    assert [c["name"] for c in out["spec"]["containers"]] == ["z"]
    out = strategic(POD, {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                                   "containers": [{"name": "a", "image": "nginx:2"}]}}, "V1Pod")
    assert [c["name"] for c in out["spec"]["containers"]] == ["b", "a"]
    meta = strategic({"metadata": {"finalizers": ["x"]}},
                     {"metadata": {"finalizers": ["y"]}}, "V1Pod")
    assert meta["metadata"]["finalizers"] == ["x", "y"]
    gone = strategic({"metadata": {"finalizers": ["x", "y"]}},
                     {"metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]}}, "V1Pod")
    assert gone["metadata"]["finalizers"] == ["y"]
    dep = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    out = strategic(dep, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
                    "V1Deployment")
    assert out["spec"]["strategy"] == {"type": "Recreate"}
    # tolerations carry no merge key: the list is replaced
    out = strategic({"spec": {"tolerations": [{"key": "a"}]}},
                    {"spec": {"tolerations": [{"key": "b"}]}}, "V1Pod")
    assert out["spec"]["tolerations"] == [{"key": "b"}]


def test_json_patch_and_merge_patch():
    doc = {"a": {"b": [1, 2]}, "c": "x"}
    out = json_patch(doc, [{"op": "add", "path": "/a/b/-", "value": 3},
                           {"op": "replace", "path": "/c", "value": "y"},
                           {"op": "remove", "path": "/a/b/0"},
                           {"op": "copy", "from": "/c", "path": "/d"},
                           {"op": "test", "path": "/d", "value": "y"},
                           {"op": "add", "path": "/e~1f", "value": 1}])
    assert out == {"a": {"b": [2, 3]}, "c": "y", "d": "y", "e/f": 1}
    with pytest.raises(ApiError) as e:
        json_patch(doc, [{"op": "replace", "path": "/nope", "value": 1}])
    assert e.value.code == 422
    with pytest.raises(ApiError):
        json_patch(doc, [{"op": "test", "path": "/c", "value": "other"}])
    assert merge_patch({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"b": None}, "l": [2]}) == \
        {"a": {"c": 2}, "l": [2]}


def _deploy(api):
    ns = f"p-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    client.AppsV1Api(api).create_namespaced_deployment(ns, {
        "metadata": {"name": "web"}, "spec": {"replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                {"name": "web", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]},
                {"name": "side", "image": "busybox"}]}}}})
    return ns, f"/apis/apps/v1/namespaces/{ns}/deployments/web"


def test_patch_types_over_http(cluster, api):
    ns, path = _deploy(api)
    # kubectl set image: strategic merge by container name
    code, _, d = call(cluster, "PATCH", path, {"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:1.17.0"}]}}}}, "application/strategic-merge-patch+json")
    assert code == 200
    images = [c["image"] for c in d["spec"]["template"]["spec"]["containers"]]
    assert images == ["nginx:1.17.0", "busybox"] and d["metadata"]["generation"] == 2
    # kubectl annotate: merge patch
    code, _, d = call(cluster, "PATCH", path, {"metadata": {"annotations": {
        "kubernetes.io/change-cause": "why"}}}, "application/merge-patch+json")
    assert d["metadata"]["annotations"]["kubernetes.io/change-cause"] == "why"
    # kubectl rollout undo: JSON patch
    code, _, d = call(cluster, "PATCH", path, [{"op": "replace", "path": "/spec/replicas",
                                                "value": 2}], "application/json-patch+json")
    assert code == 200 and d["spec"]["replicas"] == 2
    # a patch that pins a stale resourceVersion conflicts
    code, _, st = call(cluster, "PATCH", path, {"metadata": {"resourceVersion": "1"}, "spec": {
        "replicas": 3}}, "application/merge-patch+json")
    assert code == 409 and st["reason"] == "Conflict"
    code, _, st = call(cluster, "PATCH", path, {"spec": 1}, "text/plain")
    assert code == 415
    code, _, st = call(cluster, "PATCH", path + "?fieldValidation=Strict",
                       {"spec": {"colour": "red"}}, "application/merge-patch+json")
    assert code == 400 and 'unknown field "spec.colour"' in st["message"]


def test_scale_subresource(cluster, api):
    ns, path = _deploy(api)
    code, _, scale = call(cluster, "GET", path + "/scale")
    assert (scale["kind"], scale["apiVersion"], scale["spec"]["replicas"]) == \
        ("Scale", "autoscaling/v1", 1)
    assert scale["status"]["selector"] == "app=web"
    code, _, scale = call(cluster, "PATCH", path + "/scale", {"spec": {"replicas": 3}},
                          "application/merge-patch+json")
    assert code == 200 and scale["spec"]["replicas"] == 3
    scale["spec"]["replicas"] = 4
    del scale["metadata"]["resourceVersion"]  # unconditional: controllers write status meanwhile
    code, _, scale = call(cluster, "PUT", path + "/scale", scale)
    assert code == 200
    assert client.AppsV1Api(api).read_namespaced_deployment("web", ns).spec.replicas == 4
    code, _, st = call(cluster, "PATCH", path + "/scale", {"spec": {"replicas": -1}},
                       "application/merge-patch+json")
    assert code == 422 and st["reason"] == "Invalid"


def test_status_subresource_changes_only_status(cluster, api):
    ns, _ = _deploy(api)  # a kind no controller writes the status of
    base = f"/apis/networking.istio.io/v1/namespaces/{ns}/destinationrules"
    call(cluster, "POST", base, {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                                 "metadata": {"name": "dr"}, "spec": {"host": "a"},
                                 "status": {"x": 1}})
    code, _, d = call(cluster, "GET", base + "/dr")
    assert "status" not in d  # ignored on create
    code, _, d = call(cluster, "PATCH", base + "/dr/status", {"spec": {"host": "b"},
                      "status": {"observedGeneration": 42}}, "application/merge-patch+json")
    assert code == 200 and d["status"]["observedGeneration"] == 42 and d["spec"]["host"] == "a"
    code, _, d = call(cluster, "PATCH", base + "/dr", {"status": {"observedGeneration": 7},
                      "spec": {"host": "c"}}, "application/merge-patch+json")
    assert d["status"]["observedGeneration"] == 42 and d["spec"]["host"] == "c"
    assert d["metadata"]["generation"] == 2


def test_server_side_apply_creates_then_merges(cluster, api):
    ns = f"p-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    path = f"/api/v1/namespaces/{ns}/configmaps/cfg"
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                       "data": {"a": "1"}}).encode()
    code, _, st = call(cluster, "PATCH", path, body, "application/apply-patch+yaml")
    assert code == 422 and "fieldManager" in st["message"]
    code, _, cm = call(cluster, "PATCH", path + "?fieldManager=me", body,
                       "application/apply-patch+yaml")
    assert code == 201 and cm["data"] == {"a": "1"}
    code, _, cm = call(cluster, "PATCH", path + "?fieldManager=other",
                       b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {b: '2'}\n",
                       "application/apply-patch+yaml")
    assert code == 200 and cm["data"] == {"a": "1", "b": "2"}


def test_server_side_apply_removes_what_the_manager_stopped_applying(cluster, api):
    ns = f"p-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/web?fieldManager=kubectl"
    dep = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                        {"name": "web", "image": "nginx:1", "env": [{"name": "A", "value": "1"},
                                                                    {"name": "B", "value": "2"}]},
                        {"name": "side", "image": "busybox"}]}}}}
    code, _, d = call(cluster, "PATCH", path, json.dumps(dep).encode(), "application/apply-patch+yaml")
    assert code == 201
    mf = d["metadata"]["managedFields"]
    assert mf[0]["manager"] == "kubectl" and mf[0]["operation"] == "Apply"
    assert 'k:{"name":"web"}' in mf[0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    # another manager applies a label of its own
    other = {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "web", "labels": {"team": "a"}}}
    call(cluster, "PATCH", path.replace("kubectl", "ops"), json.dumps(other).encode(),
         "application/apply-patch+yaml")
    del dep["metadata"]["labels"]["tier"]
    dep["spec"]["template"]["spec"]["containers"] = [
        {"name": "web", "image": "nginx:2", "env": [{"name": "A", "value": "1"}]}]
    code, _, d = call(cluster, "PATCH", path, json.dumps(dep).encode(), "application/apply-patch+yaml")
    assert code == 200
    assert d["metadata"]["labels"] == {"app": "web", "team": "a"}
    (c,) = d["spec"]["template"]["spec"]["containers"]
    assert c["image"] == "nginx:2" and [e["name"] for e in c["env"]] == ["A"]
    assert c["imagePullPolicy"] == "IfNotPresent"  # defaults stay
    assert {e["manager"] for e in d["metadata"]["managedFields"]} == {"kubectl", "ops"}


def test_server_side_apply_conflicts_with_another_managers_field(cluster, api):
    ns = f"p-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    base = f"/apis/apps/v1/namespaces/{ns}/deployments/web"
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                        {"name": "web", "image": "nginx:1"}]}}}}
    body = json.dumps(dep).encode()
    assert call(cluster, "PATCH", base + "?fieldManager=kubectl", body,
                "application/apply-patch+yaml")[0] == 201
    # kubectl scale: an Update through the scale subresource now owns spec.replicas
    code, _, _ = call(cluster, "PATCH", base + "/scale?fieldManager=kubectl-scale",
                      {"spec": {"replicas": 3}}, "application/merge-patch+json")
    assert code == 200
    code, _, d = call(cluster, "GET", base)
    owners = {e["manager"]: e for e in d["metadata"]["managedFields"]}
    assert owners["kubectl-scale"]["operation"] == "Update"
    assert owners["kubectl-scale"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    code, _, st = call(cluster, "PATCH", base + "?fieldManager=kubectl", body,
                       "application/apply-patch+yaml")
    assert code == 409 and st["reason"] == "Conflict"
    assert st["message"] == ('Apply failed with 1 conflict: conflict with "kubectl-scale" '
                             'using apps/v1: .spec.replicas')
    assert st["details"]["causes"][0]["field"] == ".spec.replicas"
    # the same value is no conflict; force takes the field over
    same = json.loads(body)
    same["spec"]["replicas"] = 3
    assert call(cluster, "PATCH", base + "?fieldManager=kubectl", json.dumps(same).encode(),
                "application/apply-patch+yaml")[0] == 200
    code, _, d = call(cluster, "PATCH", base + "?fieldManager=kubectl&force=true", body,
                      "application/apply-patch+yaml")
    assert code == 200 and d["spec"]["replicas"] == 1
    owners = {e["manager"] for e in d["metadata"]["managedFields"]}
    assert "kubectl-scale" not in owners

"""Create/get/list/update/delete for every kind, defaulting, and errors as Status
objects with the real server's codes and messages."""

import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from apihelp import call


def _ns(api) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


def _deployment(name, image="nginx:1.25", replicas=1, **extra):
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": image, **extra}]}}}}


def test_pod_defaults_like_the_real_server(cluster, api):
    ns = _ns(api)
    core = client.CoreV1Api(api)
    pod = core.create_namespaced_pod(ns, {"metadata": {"generateName": "web-"}, "spec": {
        "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}],
                        "readinessProbe": {"httpGet": {"path": "/", "port": 80}}},
                       {"name": "d", "image": "busybox:1.36"}]},
        "status": {"phase": "Running"}})
    assert pod.metadata.name.startswith("web-") and len(pod.metadata.name) == 9
    assert uuid.UUID(pod.metadata.uid) and pod.metadata.creation_timestamp
    s = pod.spec
    assert (s.restart_policy, s.termination_grace_period_seconds, s.dns_policy,
            s.scheduler_name) == ("Always", 30, "ClusterFirst", "default-scheduler")
    c, d = s.containers
    assert c.image_pull_policy == "Always" and d.image_pull_policy == "IfNotPresent"
    assert c.ports[0].protocol == "TCP"
    p = c.readiness_probe
    assert (p.timeout_seconds, p.period_seconds, p.success_threshold, p.failure_threshold,
            p.http_get.scheme) == (1, 10, 1, 3, "HTTP")
    assert pod.status.phase == "Pending"  # status is ignored on create


def test_deployment_and_service_defaults(cluster, api):
    ns = _ns(api)
    d = client.AppsV1Api(api).create_namespaced_deployment(ns, _deployment("web"))
    assert d.spec.strategy.type == "RollingUpdate"
    assert d.spec.strategy.rolling_update.max_surge == "25%"
    assert d.spec.strategy.rolling_update.max_unavailable == "25%"
    assert (d.spec.revision_history_limit, d.spec.progress_deadline_seconds) == (10, 600)
    assert d.metadata.generation == 1
    core = client.CoreV1Api(api)
    svc = core.create_namespaced_service(ns, {"metadata": {"name": "web"}, "spec": {
        "type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    assert svc.spec.cluster_ip.startswith("10.96.") and svc.spec.cluster_ips == [svc.spec.cluster_ip]
    port = svc.spec.ports[0]
    assert port.protocol == "TCP" and port.target_port == 80 and 30000 <= port.node_port <= 32767
    assert svc.spec.session_affinity == "None" and svc.spec.ip_families == ["IPv4"]
    with pytest.raises(ApiException) as e:
        core.create_namespaced_service(ns, {"metadata": {"name": "web2"}, "spec": {
            "type": "NodePort", "ports": [{"port": 80, "nodePort": port.node_port}]}})
    assert e.value.status == 422 and "provided port is already allocated" in e.value.body


def test_every_kind_round_trips(cluster, api):
    ns = _ns(api)
    objs = {
        f"/api/v1/namespaces/{ns}/configmaps": {"apiVersion": "v1", "kind": "ConfigMap",
                                               "metadata": {"name": "cm"}, "data": {"a": "1"}},
        f"/api/v1/namespaces/{ns}/secrets": {"apiVersion": "v1", "kind": "Secret",
                                            "metadata": {"name": "s"}, "data": {"a": "MQ=="}},
        f"/api/v1/namespaces/{ns}/endpoints": {"apiVersion": "v1", "kind": "Endpoints",
                                              "metadata": {"name": "ep"}},
        f"/api/v1/namespaces/{ns}/events": {"apiVersion": "v1", "kind": "Event",
                                           "metadata": {"name": "ev.1"}, "reason": "Test",
                                           "involvedObject": {"kind": "Pod", "name": "x"}},
        f"/apis/apps/v1/namespaces/{ns}/replicasets": {
            **_deployment("rs"), "kind": "ReplicaSet"},
        f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices": {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "sl"}, "addressType": "IPv4", "endpoints": []},
        f"/apis/networking.istio.io/v1beta1/namespaces/{ns}/destinationrules": {
            "apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule",
            "metadata": {"name": "dr"}, "spec": {"host": "order", "trafficPolicy": {
                "connectionPool": {"tcp": {"maxConnections": 1}}}}},
        f"/apis/networking.istio.io/v1alpha3/namespaces/{ns}/virtualservices": {
            "apiVersion": "networking.istio.io/v1alpha3", "kind": "VirtualService",
            "metadata": {"name": "vs"}, "spec": {"hosts": ["order"], "http": [
                {"route": [{"destination": {"host": "order"}}]}]}},
    }
    for path, obj in objs.items():
        code, _, made = call(cluster, "POST", path, obj)
        assert code == 201, made
        name = obj["metadata"]["name"]
        for _ in range(10):  # a controller (the ReplicaSet's) may write in between
            code, _, got = call(cluster, "GET", f"{path}/{name}")
            assert code == 200 and got["metadata"]["uid"] == made["metadata"]["uid"]
            got.setdefault("metadata", {}).setdefault("labels", {})["x"] = "y"
            code, _, upd = call(cluster, "PUT", f"{path}/{name}", got)
            if code != 409:
                break
        assert code == 200 and upd["metadata"]["labels"]["x"] == "y"
        assert int(upd["metadata"]["resourceVersion"]) > int(made["metadata"]["resourceVersion"])
        code, _, lst = call(cluster, "GET", path)
        assert [i["metadata"]["name"] for i in lst["items"]] == [name]
        code, _, _ = call(cluster, "DELETE", f"{path}/{name}")
        assert code in (200, 202)
        assert call(cluster, "GET", f"{path}/{name}")[0] == 404
    # custom kinds are served in every Istio version, stored once
    call(cluster, "POST", f"/apis/networking.istio.io/v1/namespaces/{ns}/destinationrules",
         {**objs[f"/apis/networking.istio.io/v1beta1/namespaces/{ns}/destinationrules"],
          "apiVersion": "networking.istio.io/v1"})
    code, _, got = call(cluster, "GET",
                        f"/apis/networking.istio.io/v1alpha3/namespaces/{ns}/destinationrules/dr")
    assert got["apiVersion"] == "networking.istio.io/v1alpha3"
    assert got["spec"]["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] == 1


def test_hpa_is_stored_once_and_served_as_v1_and_v2(cluster, api):
    ns = _ns(api)
    v1 = client.AutoscalingV1Api(api).create_namespaced_horizontal_pod_autoscaler(ns, {
        "metadata": {"name": "web"}, "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 1, "maxReplicas": 5, "targetCPUUtilizationPercentage": 50}})
    v2 = client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler("web", ns)
    assert v2.metadata.uid == v1.metadata.uid
    m = v2.spec.metrics[0]
    assert (m.type, m.resource.name, m.resource.target.type,
            m.resource.target.average_utilization) == ("Resource", "cpu", "Utilization", 50)
    v2.spec.metrics[0].resource.target.average_utilization = 70
    client.AutoscalingV2Api(api).replace_namespaced_horizontal_pod_autoscaler("web", ns, v2)
    back = client.AutoscalingV1Api(api).read_namespaced_horizontal_pod_autoscaler("web", ns)
    assert back.spec.target_cpu_utilization_percentage == 70
    assert back.spec.max_replicas == 5


@pytest.mark.parametrize("method, path, body, ctype, code, reason, message", [
    ("GET", "/api/v1/namespaces/default/pods/nope", None, None, 404, "NotFound",
     'pods "nope" not found'),
    ("GET", "/apis/apps/v1/namespaces/default/deployments/nope", None, None, 404, "NotFound",
     'deployments.apps "nope" not found'),
    ("POST", "/api/v1/namespaces/default/configmaps", b"{not json", "application/json", 400,
     "BadRequest", "couldn't decode"),
    ("POST", "/api/v1/namespaces/default/configmaps", b"a: [b", "application/yaml", 400,
     "BadRequest", "error converting YAML to JSON"),
    ("POST", "/api/v1/namespaces/default/configmaps", b"<x/>", "application/xml", 415,
     "UnsupportedMediaType", "unknown format"),
    ("POST", "/api/v1/namespaces/default/configmaps",
     b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"}}', "application/json", 400,
     "BadRequest", "does not match the expected kind"),
    ("POST", "/api/v1/namespaces/nowhere/configmaps",
     b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}', "application/json", 404,
     "NotFound", 'namespaces "nowhere" not found'),
    ("POST", "/api/v1/namespaces/default/pods/x", b"{}", "application/json", 405,
     "MethodNotAllowed", "does not allow this method"),
    ("GET", "/api/v1/namespaces/default/widgets", None, None, 404, "NotFound",
     "could not find the requested resource"),
    ("GET", "/api/v1/pods?labelSelector=a%20in%20(", None, None, 400, "BadRequest", "unable to parse"),
    ("GET", "/api/v1/pods?fieldSelector=spec.colour%3Dred", None, None, 400, "BadRequest",
     "field label not supported: spec.colour"),
])
def test_errors_are_status_objects(cluster, method, path, body, ctype, code, reason, message):
    got, _, status = call(cluster, method, path, body, ctype or "application/json")
    assert got == code
    assert status["kind"] == "Status" and status["status"] == "Failure"
    assert status["code"] == code and status["reason"] == reason
    assert message in status["message"]


def test_conflict_already_exists_and_invalid(cluster, api):
    ns = _ns(api)
    apps = client.AppsV1Api(api)
    d = apps.create_namespaced_deployment(ns, _deployment("web"))
    with pytest.raises(ApiException) as e:
        apps.create_namespaced_deployment(ns, _deployment("web"))
    assert e.value.status == 409 and '"reason":"AlreadyExists"' in e.value.body
    assert 'deployments.apps \\"web\\" already exists' in e.value.body
    del d
    core = client.CoreV1Api(api)  # a kind no controller writes meanwhile
    cm = core.create_namespaced_config_map(ns, {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    fresh = core.read_namespaced_config_map("cfg", ns)
    fresh.data = {"a": "2"}
    core.replace_namespaced_config_map("cfg", ns, fresh)
    cm.data = {"a": "3"}  # stale resourceVersion
    with pytest.raises(ApiException) as e:
        core.replace_namespaced_config_map("cfg", ns, cm)
    assert e.value.status == 409 and '"reason":"Conflict"' in e.value.body
    assert 'configmaps \\"cfg\\": the object has been modified' in e.value.body
    bad = _deployment("Bad_Name")
    bad["spec"]["template"]["spec"]["containers"][0].pop("image")
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    code, _, status = call(cluster, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", bad)
    assert code == 422 and status["reason"] == "Invalid"
    fields = {c["field"] for c in status["details"]["causes"]}
    assert {"metadata.name", "spec.template.spec.containers[0].image",
            "spec.template.metadata.labels"} <= fields
    assert status["message"].startswith('Deployment.apps "Bad_Name" is invalid: ')


def test_field_validation_strict_warn_ignore(cluster, api):
    ns = _ns(api)
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    body = _deployment("web", colour="blue")
    body["spec"]["speed"] = 3
    code, _, status = call(cluster, "POST", path + "?fieldValidation=Strict", body)
    assert code == 400 and status["reason"] == "BadRequest"
    assert 'unknown field "spec.speed"' in status["message"]
    assert 'unknown field "spec.template.spec.containers[0].colour"' in status["message"]
    code, headers, made = call(cluster, "POST", path + "?fieldValidation=Warn", body)
    assert code == 201 and 'unknown field \\"spec.speed\\"' in headers["Warning"]
    assert "speed" not in made["spec"]  # dropped, like the real decoder does
    body["metadata"]["name"] = "web2"
    code, headers, made = call(cluster, "POST", path + "?fieldValidation=Ignore", body)
    assert code == 201 and "Warning" not in headers and "speed" not in made["spec"]


def test_dry_run_writes_nothing(cluster, api):
    ns = _ns(api)
    code, _, made = call(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps?dryRun=All",
                         {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    assert code == 201 and made["metadata"]["name"] == "x"
    assert call(cluster, "GET", f"/api/v1/namespaces/{ns}/configmaps/x")[0] == 404


def test_server_keeps_serving_after_bad_input(cluster):
    for raw in (b"\xff\xfe", b"[]", b"null", b'{"kind":', b"[" * 100000 + b"]" * 100000):
        code, _, status = call(cluster, "POST", "/api/v1/namespaces/default/configmaps", raw)
        assert code == 400 and status["kind"] == "Status"
    assert call(cluster, "GET", "/api/v1/namespaces/default")[0] == 200


def test_oversized_body_is_a_413_status(cluster):
    code, _, status = call(cluster, "POST", "/api/v1/namespaces/default/configmaps",
                           b" " * (17 * 1024 * 1024))
    assert code == 413 and status["kind"] == "Status"
    assert call(cluster, "GET", "/api/v1/namespaces/default")[0] == 200


def test_values_of_the_wrong_type_are_a_400_like_the_go_decoder(cluster, api):
    ns = _ns(api)
    path = f"/apis/apps/v1/namespaces/{ns}/deployments"
    body = _deployment("web")
    body["spec"]["replicas"] = "two"
    code, _, status = call(cluster, "POST", path, body)
    assert code == 400 and status["reason"] == "BadRequest"
    assert ("json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas "
            "of type int32") in status["message"]
    body = _deployment("web", env=[{"name": "A", "value": 1}])
    code, _, status = call(cluster, "POST", path, body)
    assert code == 400 and "EnvVar.spec.template.spec.containers.env.value" in status["message"]
    # quantities take numbers
    body = _deployment("web", resources={"limits": {"cpu": 1, "memory": "64Mi"}})
    code, _, made = call(cluster, "POST", path, body)
    assert code == 201, made


def test_pod_spec_is_immutable_but_images_and_binding_are_not(cluster, api):
    ns = _ns(api)
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, {"metadata": {"name": "p"}, "spec": {
        "nodeSelector": {"no": "such-node"},  # stays unscheduled: nobody else writes it
        "containers": [{"name": "c", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]}]}})
    path = f"/api/v1/namespaces/{ns}/pods/p"
    code, _, pod = call(cluster, "PATCH", path, {"spec": {"containers": [
        {"name": "c", "image": "nginx:2"}]}}, "application/strategic-merge-patch+json")
    assert code == 200 and pod["spec"]["containers"][0]["image"] == "nginx:2"
    code, _, st = call(cluster, "PATCH", path, {"spec": {"containers": [
        {"name": "c", "env": [{"name": "B", "value": "2"}]}]}}, "application/strategic-merge-patch+json")
    assert code == 422 and st["details"]["causes"][0]["field"] == "spec"
    assert "pod updates may not change fields other than" in st["message"]
    code, _, pod = call(cluster, "PATCH", path, {"spec": {"nodeName": "kubelab-node-1"}},
                        "application/merge-patch+json")
    assert code == 200 and pod["spec"]["nodeName"] == "kubelab-node-1"
    code, _, st = call(cluster, "PATCH", path, {"spec": {"nodeName": "kubelab-node-2"}},
                       "application/merge-patch+json")
    assert code == 422

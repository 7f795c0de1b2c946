"""Discovery (aggregated and plain) and /openapi/v3, as kubectl reads them."""

from apihelp import call

AGG = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGG_OLD = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def test_aggregated_discovery_echoes_the_exact_content_type(cluster):
    for accept, want in ((f"{AGG},{AGG_OLD},application/json", AGG),
                         (f"{AGG_OLD},application/json", AGG_OLD)):
        code, headers, body = call(cluster, "GET", "/apis", accept=accept)
        assert code == 200 and headers["Content-Type"] == want
        assert body["kind"] == "APIGroupDiscoveryList"
        groups = {g["metadata"]["name"]: g for g in body["items"]}
        assert {"apps", "autoscaling", "discovery.k8s.io", "networking.istio.io"} <= set(groups)
        hpa = groups["autoscaling"]
        assert [v["version"] for v in hpa["versions"]] == ["v2", "v1"]
        apps = {r["resource"]: r for r in groups["apps"]["versions"][0]["resources"]}
        subs = {s["subresource"]: s for s in apps["deployments"]["subresources"]}
        assert subs["scale"]["responseKind"] == {"group": "autoscaling", "version": "v1",
                                                 "kind": "Scale"}
        assert "status" in subs and apps["deployments"]["shortNames"] == ["deploy"]
        istio = groups["networking.istio.io"]
        assert [v["version"] for v in istio["versions"]] == ["v1", "v1beta1", "v1alpha3"]
    code, headers, body = call(cluster, "GET", "/api", accept=AGG)
    core = {r["resource"]: r for r in body["items"][0]["versions"][0]["resources"]}
    assert core["pods"]["scope"] == "Namespaced" and core["nodes"]["scope"] == "Cluster"
    assert {s["subresource"] for s in core["pods"]["subresources"]} == {"status", "log", "exec",
                                                                     "portforward"}


def test_plain_discovery_documents(cluster):
    code, _, body = call(cluster, "GET", "/api")
    assert body["kind"] == "APIVersions" and body["versions"] == ["v1"]
    code, _, body = call(cluster, "GET", "/apis")
    assert body["kind"] == "APIGroupList"
    auto = next(g for g in body["groups"] if g["name"] == "autoscaling")
    assert auto["preferredVersion"]["groupVersion"] == "autoscaling/v2"
    code, _, body = call(cluster, "GET", "/api/v1")
    names = {r["name"]: r for r in body["resources"]}
    assert {"pods", "pods/status", "pods/log", "services", "endpoints", "events", "configmaps",
            "secrets", "namespaces", "nodes"} <= set(names)
    assert names["pods/log"]["verbs"] == ["get"]
    code, _, body = call(cluster, "GET", "/apis/apps/v1")
    names = {r["name"]: r for r in body["resources"]}
    assert names["deployments/scale"]["kind"] == "Scale"
    assert names["deployments/scale"]["group"] == "autoscaling"
    code, _, body = call(cluster, "GET", "/apis/autoscaling")
    assert body["kind"] == "APIGroup" and body["preferredVersion"]["version"] == "v2"
    for path in ("/apis/nope/v1", "/apis/apps/v9", "/api/v2"):
        code, _, body = call(cluster, "GET", path)
        assert code == 404 and body["kind"] == "Status" and body["reason"] == "NotFound"


def test_openapi_v3_has_models_gvk_and_field_validation(cluster):
    code, _, index = call(cluster, "GET", "/openapi/v3")
    assert code == 200
    assert {"api/v1", "apis/apps/v1", "apis/autoscaling/v1", "apis/autoscaling/v2",
            "apis/networking.istio.io/v1alpha3"} <= set(index["paths"])
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    code, _, doc = call(cluster, "GET", url)
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1",
                                                        "kind": "Deployment"}
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in patch["parameters"])
    schemas = doc["components"]["schemas"]
    dep = next(s for s in schemas.values()
               if s.get("x-kubernetes-group-version-kind") == [
                   {"group": "apps", "version": "v1", "kind": "Deployment"}])
    assert {"apiVersion", "kind", "metadata", "spec", "status"} <= set(dep["properties"])
    pod_spec = next(s for n, s in schemas.items() if n.endswith(".v1.PodSpec"))
    containers = pod_spec["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["type"] == "array"
    container = next(s for n, s in schemas.items() if n.endswith(".v1.Container"))
    # derived from the client models: a field the models know, not a hand list
    assert "readinessProbe" in container["properties"]
    assert container["properties"]["ports"]["x-kubernetes-patch-merge-key"] == "containerPort"

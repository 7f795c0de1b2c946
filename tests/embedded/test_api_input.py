"""Input the real API server refuses, refused in its words (and never a 500).

Wording from kube-apiserver: handlers/rest.go transformDecodeError (400 "... cannot be
handled as a ..."), handlers/patch.go (422 on the field "patch"), meta/v1 validation
of the options (422 `CreateOptions.meta.k8s.io "" is invalid: ...`), the parameter
codec (strconv.ParseInt's words), http.Server's ReadHeaderTimeout.
"""

import gzip
import json
import socket
import uuid

import pytest
from kubernetes import client

from apihelp import call, ssl_context
from console import cli
from console.embedded.main import parse_args
from console.errors import UsageError


def _ns(api) -> str:
    ns = f"in-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    return ns


def _deployment(name: str, replicas) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def test_replicas_beyond_int32_refused_on_every_path(cluster, api):
    ns = _ns(api)
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    code, _, st = call(cluster, "POST", base, _deployment("big", 10**12))
    assert code == 400 and st["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
        "number 1000000000000 into Go struct field DeploymentSpec.spec.replicas of type int32")
    assert call(cluster, "POST", base, _deployment("web", 1))[0] == 201
    code, _, st = call(cluster, "PATCH", f"{base}/web", {"spec": {"replicas": 2**31}},
                       "application/merge-patch+json")
    assert code == 422 and st["message"].startswith(' "" is invalid: patch: Invalid value: "{')
    assert st["details"]["causes"][0]["field"] == "patch"
    assert st["message"].endswith("json: cannot unmarshal number 2147483648 into Go struct field "
                                  "DeploymentSpec.spec.replicas of type int32")
    scale = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"},
             "spec": {"replicas": 10**12}}
    code, _, st = call(cluster, "PUT", f"{base}/web/scale", scale)
    assert code == 400 and "ScaleSpec.spec.replicas of type int32" in st["message"]
    code, _, st = call(cluster, "PATCH", f"{base}/web/scale", {"spec": {"replicas": 10**12}},
                       "application/merge-patch+json")
    assert code == 422 and "ScaleSpec.spec.replicas of type int32" in st["message"]
    d = client.AppsV1Api(api).read_namespaced_deployment("web", ns)
    assert d.spec.replicas == 1


def test_numbers_no_go_type_holds(cluster, api):
    ns = _ns(api)
    cms = f"/api/v1/namespaces/{ns}/configmaps"
    huge = "9" * 5000  # beyond Python's int parsing limit: was a 500
    code, _, st = call(cluster, "POST", cms,
                       f'{{"metadata":{{"name":"a","generation":{huge}}}}}'.encode())
    assert code == 400 and st["message"] == (
        f'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal '
        f"number {huge} into Go struct field ObjectMeta.metadata.generation of type int64")
    code, _, st = call(cluster, "POST", cms, b'{"metadata":{"name":"b","generation":1e999}}')
    assert code == 400 and "number 1e999 into Go struct field ObjectMeta.metadata.generation" in st["message"]
    code, _, st = call(cluster, "POST", f"/api/v1/namespaces/{ns}/pods", {
        "metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "image": "nginx", "ports": [{"containerPort": 2**40}]}]}})
    assert code == 400 and ("number 1099511627776 into Go struct field "
                            "ContainerPort.spec.containers.ports.containerPort of type int32") in st["message"]
    # an apply body (YAML) with such a number
    code, _, st = call(cluster, "PATCH", f"{cms}/c?fieldManager=t",
                       f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata: {{a: {huge}}}".encode(),
                       "application/apply-patch+yaml")
    assert code == 400 and st["message"].startswith("error converting YAML to JSON")


def test_patches_that_break_the_object_shape(cluster, api):
    ns = _ns(api)
    client.CoreV1Api(api).create_namespaced_config_map(ns, {"metadata": {"name": "x"}})
    url = f"/api/v1/namespaces/{ns}/configmaps/x"
    for body, ctype in (([{"op": "replace", "path": "/metadata", "value": "str"}], "application/json-patch+json"),
                        ({"metadata": "str"}, "application/merge-patch+json"),
                        ({"metadata": "str"}, "application/strategic-merge-patch+json")):
        code, _, st = call(cluster, "PATCH", url, body, ctype)
        assert code == 422, st
        assert st["message"].endswith("json: cannot unmarshal string into Go struct field "
                                      "ConfigMap.metadata of type v1.ObjectMeta")
    code, _, st = call(cluster, "PATCH", url, [{"op": "replace", "path": "", "value": 5}],
                       "application/json-patch+json")
    assert code in (400, 422) and st["kind"] == "Status"
    code, _, st = call(cluster, "PATCH", url, {"metadata": None}, "application/merge-patch+json")
    assert code == 400 and "the name of the object () does not match" in st["message"]
    assert client.CoreV1Api(api).read_namespaced_config_map("x", ns).metadata.name == "x"


def test_bodies_are_read_as_sent_whatever_content_encoding(cluster, api):
    # Go's server decodes no Content-Encoding: a gzip body is not JSON, a bogus label is ignored
    ns = _ns(api)
    url = f"/api/v1/namespaces/{ns}/configmaps"
    body = json.dumps({"metadata": {"name": "z"}}).encode()
    for enc, data, want in (("gzip", gzip.compress(body), 400), ("x-bogus", body, 201),
                            ("br", b"\xff\x00garbage", 400)):
        import urllib.error
        import urllib.request
        req = urllib.request.Request(cluster.server + url, data=data, method="POST", headers={
            "Content-Type": "application/json", "Content-Encoding": enc,
            "Authorization": f"Bearer {cluster.token}"})
        try:
            with urllib.request.urlopen(req, context=ssl_context(cluster), timeout=30) as r:
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
            assert json.loads(e.read())["kind"] == "Status"
        assert code == want, enc


@pytest.mark.parametrize("query, code, words", [
    ("dryRun=Bogus", 422, 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: '
                          '[]string{"Bogus"}: supported values: "All"'),
    ("fieldValidation=Loose", 422, 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: '
                                   'Unsupported value: "Loose": supported values: "", "Ignore", "Strict", "Warn"'),
])
def test_write_options(cluster, api, query, code, words):
    ns = _ns(api)
    got, _, st = call(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps?{query}",
                      {"metadata": {"name": "o"}})
    assert (got, st["message"]) == (code, words)


@pytest.mark.parametrize("query, code, words", [
    ("limit=abc", 400, 'strconv.ParseInt: parsing "abc": invalid syntax'),
    ("limit=99999999999999999999", 400, 'strconv.ParseInt: parsing "99999999999999999999": value out of range'),
    ("resourceVersionMatch=Exact", 422, 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: '
                                        "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"),
    ("resourceVersionMatch=Newest&resourceVersion=1", 422, 'resourceVersionMatch: Unsupported value: '
                                                          '"Newest": supported values: "Exact", "NotOlderThan", ""'),
    ("watch=false", 200, None),  # the parameter codec: only "0"/"false" are false
])
def test_list_options(cluster, query, code, words):
    got, _, body = call(cluster, "GET", f"/api/v1/namespaces/default/configmaps?{query}")
    assert got == code
    if words:
        assert words in body["message"]
    else:
        assert body["kind"] == "ConfigMapList"


def test_delete_options(cluster, api):
    ns = _ns(api)
    client.CoreV1Api(api).create_namespaced_config_map(ns, {"metadata": {"name": "d"}})
    url = f"/api/v1/namespaces/{ns}/configmaps/d"
    code, _, st = call(cluster, "DELETE", url + "?gracePeriodSeconds=1e3")
    assert (code, st["message"]) == (400, 'strconv.ParseInt: parsing "1e3": invalid syntax')
    code, _, st = call(cluster, "DELETE", url + "?dryRun=Bogus")
    assert code == 422 and st["message"].startswith('DeleteOptions.meta.k8s.io "" is invalid: dryRun')
    code, _, st = call(cluster, "DELETE", url, {"gracePeriodSeconds": "soon"})
    assert code == 400 and st["message"] == ("json: cannot unmarshal string into Go struct field "
                                            "DeleteOptions.gracePeriodSeconds of type int64")
    code, _, st = call(cluster, "DELETE", url, {"propagationPolicy": "Background",
                                                "orphanDependents": True})
    assert code == 422 and "orphanDependents and deletionPropagation cannot be both set" in st["message"]
    assert call(cluster, "DELETE", url)[0] == 200


def test_a_request_head_that_never_ends_is_cut(start_cluster):
    c = start_cluster(nodes=1, extra=["--read-header-timeout", "1"])
    host, port = c.server.removeprefix("https://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as raw:
        with ssl_context(c).wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(b"GET /api HTTP/1.1\r\nHost: x\r\nX-Slow: 1")  # and never the rest
            tls.settimeout(60)
            assert tls.recv(100) == b""  # closed by the server, long before our 60 s
    # whole requests still go through
    assert call(c, "GET", "/api")[0] == 200


@pytest.mark.parametrize("argv, words", [
    (["--speed", "inf"], "--speed: must be a number above 0 and at most 1000, not inf"),
    (["--speed", "nan"], "not nan"),
    (["--speed", "0"], "not 0.0"),
    (["--speed", "-3"], "not -3.0"),
    (["--speed", "1e9"], "at most 1000"),
    (["--read-header-timeout", "0"], "--read-header-timeout"),
    (["--port", "70000"], "--port"),
    (["--nodes", "-1"], "--nodes"),
    (["--max-pods", "0"], "--max-pods: must be 1-253"),
    (["--max-pods", "254"], "(a node's /24 pod CIDR has 253 addresses for pods), not 254"),
])
def test_cluster_flags(argv, words, capsys):
    with pytest.raises(UsageError) as e:
        parse_args(argv)
    assert words in str(e.value)
    assert cli.main(["cluster", *argv]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and err.count("\n") == 1


def test_console_speed_flag_is_checked_too(capsys):
    assert cli.main(["--speed", "inf"]) == 2
    assert "--speed: must be a number above 0" in capsys.readouterr().err

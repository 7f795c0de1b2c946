"""Property-based fuzzing (hypothesis) of what reaches the embedded API server: bodies,
patches of the four types and query strings, against the session cluster over HTTPS.

The property: never a 500 (nor anything above), every refusal a meta/v1 Status with
a message, and the server keeps serving. Deployments are only ever written with
dryRun=All, so no example can start an endless rollout.
"""

import http.client
import json
import uuid

import pytest
import yaml
from hypothesis import given, strategies as st
from kubernetes import client

from apihelp import ssl_context

KEYS = ["metadata", "name", "namespace", "labels", "annotations", "spec", "replicas", "data",
        "selector", "matchLabels", "template", "containers", "image", "ports", "containerPort",
        "generation", "resourceVersion", "kind", "apiVersion", "status", "finalizers",
        "ownerReferences", "type", "x", ""]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**12]),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
    st.sampled_from(["", "default", "nginx", "Exact", "All", "\x00", "a" * 300]))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=12)
RAW_NUMBERS = st.sampled_from([b"9" * 5000, b"1e999", b"-1e999", b"NaN", b"Infinity",
                               b"1" * 30, b"0.1e-400"])


class Api:
    def __init__(self, c):
        self.c = c
        self.host, port = c.server.removeprefix("https://").split(":")
        self.port = int(port)
        self.ctx = ssl_context(c)

    def send(self, method: str, path: str, body: bytes | None = None,
             ctype: str = "application/json") -> tuple[int, bytes]:
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
        try:
            headers = {"Authorization": f"Bearer {self.c.token}"}
            if body is not None:
                headers["Content-Type"] = ctype
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            # a watch that started streams on: its status line is the answer
            data = b"" if r.status == 200 and method == "GET" else r.read()
            return r.status, data
        finally:
            conn.close()

    def check(self, method: str, path: str, body: bytes | None = None,
              ctype: str = "application/json") -> int:
        code, data = self.send(method, path, body, ctype)
        assert code < 500, (method, path, body, data[:500])
        if code >= 400:
            status = json.loads(data)
            assert status["kind"] == "Status" and status["message"], data[:300]
        return code


@pytest.fixture(scope="module")
def target(cluster):
    """A namespace with a ConfigMap and a zero-replica Deployment to patch."""
    from kubehelp import api_client
    a = api_client(cluster)
    ns = f"fuzz-{uuid.uuid4().hex[:6]}"
    core = client.CoreV1Api(a)
    core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    client.AppsV1Api(a).create_namespaced_deployment(ns, {
        "metadata": {"name": "dep"}, "spec": {"replicas": 0, "selector": {"matchLabels": {"a": "b"}},
                                              "template": {"metadata": {"labels": {"a": "b"}}, "spec": {
                                                  "containers": [{"name": "c", "image": "nginx"}]}}}})
    api = Api(cluster)
    yield api, ns
    assert api.send("GET", f"/api/v1/namespaces/{ns}")[0] == 200  # still serving
    assert api.send("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/dep")[0] == 200
    core.delete_namespace(ns)
    a.close()


def _splice(doc, numbers: list[bytes]) -> bytes:
    """JSON text of doc with raw number literals put in for the "$n" strings."""
    text = json.dumps(doc).encode()
    for i, n in enumerate(numbers):
        text = text.replace(f'"${i}"'.encode(), n, 1)
    return text


def _with_holes(value):
    return st.one_of(value, st.builds(lambda v, i: {"x": v, "n": f"${i}"}, value, st.integers(0, 1)))


COLLECTIONS = ["/api/v1/namespaces/{ns}/configmaps", "/api/v1/namespaces/{ns}/pods",
               "/api/v1/namespaces/{ns}/services", "/apis/apps/v1/namespaces/{ns}/deployments"]


@given(st.sampled_from(COLLECTIONS), JSON, st.lists(RAW_NUMBERS, max_size=2),
       st.sampled_from(["application/json", "application/yaml", "text/plain"]))
def test_bodies(target, collection, doc, numbers, ctype):
    api, ns = target
    if isinstance(doc, dict) and "metadata" not in doc:
        doc["metadata"] = {"generateName": "f-"}
    if numbers and isinstance(doc, dict):
        doc["metadata" if not isinstance(doc.get("metadata"), dict) else "x"] = "$0"
    body = _splice(doc, numbers)
    if ctype == "application/yaml":
        body = yaml.safe_dump(json.loads(json.dumps(doc))).encode()
    # dryRun: validation runs in full, nothing is kept (no endless rollout can start)
    api.check("POST", collection.format(ns=ns) + "?dryRun=All", body, ctype)


JSON_PATCH_OP = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "move", "copy", "test", "bogus"]),
     "path": st.sampled_from(["/metadata", "/metadata/name", "/metadata/labels/x", "/spec",
                              "/spec/replicas", "/data", "/data/a", "/", "", "x", "/-", "/spec/0",
                              "/metadata/~1", "/status"])},
    optional={"value": JSON, "from": st.sampled_from(["/data", "/metadata", "/nope", ""])})
PATCHES = st.one_of(
    st.tuples(st.just("application/json-patch+json"),
              st.one_of(st.lists(JSON_PATCH_OP, max_size=3), JSON)),
    st.tuples(st.just("application/merge-patch+json"), JSON),
    st.tuples(st.just("application/strategic-merge-patch+json"), JSON),
    st.tuples(st.just("application/apply-patch+yaml"), JSON),
)


@given(st.sampled_from(["/api/v1/namespaces/{ns}/configmaps/cm",
                        "/apis/apps/v1/namespaces/{ns}/deployments/dep",
                        "/apis/apps/v1/namespaces/{ns}/deployments/dep/scale"]),
       PATCHES, st.lists(RAW_NUMBERS, max_size=1))
def test_patches(target, path, patch, numbers):
    api, ns = target
    ctype, doc = patch
    if numbers and isinstance(doc, dict):
        doc["spec"] = {"replicas": "$0"}
    body = _splice(doc, numbers)
    dry = "" if path.endswith("/cm") else "&dryRun=All"
    api.check("PATCH", path.format(ns=ns) + f"?fieldManager=fuzz{dry}", body, ctype)


PARAMS = ["watch", "dryRun", "fieldValidation", "limit", "continue", "resourceVersion",
          "resourceVersionMatch", "labelSelector", "fieldSelector", "timeoutSeconds",
          "propagationPolicy", "gracePeriodSeconds", "orphanDependents", "pretty",
          "fieldManager", "force", "sendInitialEvents", "allowWatchBookmarks", "includeObject"]
VALUES = st.one_of(st.sampled_from(["", "true", "false", "0", "1", "maybe", "All", "Bogus",
                                    "Exact", "NotOlderThan", "Strict", "Orphan", "-1", "1e3",
                                    "99999999999999999999", "a=b", "a in (x)", "metadata.name=cm",
                                    "!!", "%ZZ", "eyJ2IjoxfQ"]),
                   st.text(max_size=8))


@given(st.sampled_from(["GET", "DELETE", "POST"]),
       st.sampled_from(["/api/v1/namespaces/{ns}/configmaps", "/api/v1/namespaces/{ns}/configmaps/none",
                        "/api/v1/namespaces/{ns}/pods", "/apis/apps/v1/namespaces/{ns}/deployments"]),
       st.lists(st.tuples(st.sampled_from(PARAMS), VALUES), max_size=4))
def test_query_strings(target, method, path, query):
    from urllib.parse import quote
    api, ns = target
    path = path.format(ns=ns)
    if method != "GET" and "deployments" in path:
        query = query + [("dryRun", "All")]
    if method == "DELETE" and path.endswith("/configmaps"):
        path += "/none"  # never the whole collection: later examples need the ConfigMap
    qs = "&".join(f"{quote(k)}={quote(v)}" for k, v in query)
    body = b'{"metadata":{"generateName":"q-"}}' if method == "POST" else None
    api.check(method, f"{path}?{qs}", body)

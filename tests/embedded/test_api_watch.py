"""List and watch as the official client and informers use them: selectors,
limit/continue, resourceVersion resume, bookmarks, timeouts, 410 and relist."""

import threading
import uuid

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from apihelp import call, stream
from kubehelp import api_client


def _ns(api) -> str:
    name = f"w-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


def _cm(name, **labels):
    return {"metadata": {"name": name, "labels": labels}, "data": {"k": name}}


LISTS = [
    lambda a, ns: client.CoreV1Api(a).list_namespaced_pod(ns),
    lambda a, ns: client.CoreV1Api(a).list_namespaced_service(ns),
    lambda a, ns: client.CoreV1Api(a).list_namespaced_endpoints(ns),
    lambda a, ns: client.CoreV1Api(a).list_namespaced_event(ns),
    lambda a, ns: client.CoreV1Api(a).list_namespaced_config_map(ns),
    lambda a, ns: client.CoreV1Api(a).list_namespaced_secret(ns),
    lambda a, ns: client.CoreV1Api(a).list_namespace(),
    lambda a, ns: client.CoreV1Api(a).list_node(),
    lambda a, ns: client.AppsV1Api(a).list_namespaced_deployment(ns),
    lambda a, ns: client.AppsV1Api(a).list_namespaced_replica_set(ns),
    lambda a, ns: client.AutoscalingV1Api(a).list_namespaced_horizontal_pod_autoscaler(ns),
    lambda a, ns: client.AutoscalingV2Api(a).list_namespaced_horizontal_pod_autoscaler(ns),
    lambda a, ns: client.DiscoveryV1Api(a).list_namespaced_endpoint_slice(ns),
    lambda a, ns: client.CustomObjectsApi(a).list_namespaced_custom_object(
        "networking.istio.io", "v1beta1", ns, "destinationrules"),
    lambda a, ns: client.CustomObjectsApi(a).list_namespaced_custom_object(
        "networking.istio.io", "v1", ns, "virtualservices"),
]


def test_official_client_lists_every_kind(cluster, api):
    ns = _ns(api)
    for fn in LISTS:
        out = fn(api, ns)
        rv = out["metadata"]["resourceVersion"] if isinstance(out, dict) else out.metadata.resource_version
        assert int(rv) > 0
    nodes = client.CoreV1Api(api).list_node().items
    assert len(nodes) == 2


@pytest.mark.parametrize("method, kw", [
    ("CoreV1Api.list_namespaced_config_map", {}),
    ("CoreV1Api.list_namespaced_pod", {}),
    ("AppsV1Api.list_namespaced_deployment", {}),
    ("AutoscalingV2Api.list_namespaced_horizontal_pod_autoscaler", {}),
    ("DiscoveryV1Api.list_namespaced_endpoint_slice", {}),
    ("CoreV1Api.list_namespaced_event", {}),
])
def test_official_client_watches_from_a_resource_version(cluster, api, method, kw):
    ns = _ns(api)
    cls, fn = method.split(".")
    lister = getattr(getattr(client, cls)(api), fn)
    rv = lister(ns).metadata.resource_version
    core = client.CoreV1Api(api)
    # make one object of the watched kind through the raw API (any kind, same shape)
    made = _make(cluster, ns, fn)
    w = watch.Watch()
    seen = []
    for ev in w.stream(lister, ns, resource_version=rv, timeout_seconds=30):
        seen.append((ev["type"], ev["object"].metadata.name))
        if ev["object"].metadata.name == made:
            w.stop()
    assert ("ADDED", made) in seen
    del core


def _make(cluster, ns, fn) -> str:
    name = "obj-" + uuid.uuid4().hex[:6]
    app = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
           "spec": {"selector": {"matchLabels": {"a": name}}, "template": {
               "metadata": {"labels": {"a": name}},
               "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    bodies = {
        "list_namespaced_config_map": ("/api/v1/namespaces/{ns}/configmaps",
                                       {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name}}),
        "list_namespaced_pod": ("/api/v1/namespaces/{ns}/pods",
                                {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name},
                                 "spec": {"containers": [{"name": "c", "image": "nginx"}]}}),
        "list_namespaced_deployment": ("/apis/apps/v1/namespaces/{ns}/deployments", app),
        "list_namespaced_horizontal_pod_autoscaler": (
            "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers",
            {"kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v2",
             "metadata": {"name": name}, "spec": {"maxReplicas": 3, "scaleTargetRef": {
                 "apiVersion": "apps/v1", "kind": "Deployment", "name": "x"}}}),
        "list_namespaced_endpoint_slice": (
            "/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices",
            {"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
             "metadata": {"name": name}, "addressType": "IPv4", "endpoints": []}),
        "list_namespaced_event": ("/api/v1/namespaces/{ns}/events",
                                  {"kind": "Event", "apiVersion": "v1", "metadata": {"name": name},
                                   "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "X"}),
    }
    path, body = bodies[fn]
    code, _, out = call(cluster, "POST", path.format(ns=ns), body)
    assert code == 201, out
    return name


def test_label_and_field_selectors(cluster, api):
    ns = _ns(api)
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, _cm("a", tier="web", env="prod"))
    core.create_namespaced_config_map(ns, _cm("b", tier="db", env="prod"))
    core.create_namespaced_config_map(ns, _cm("c", tier="web"))

    def names(**kw):
        return [i.metadata.name for i in core.list_namespaced_config_map(ns, **kw).items]
    assert names(label_selector="tier=web") == ["a", "c"]
    assert names(label_selector="tier!=web") == ["b"]
    assert names(label_selector="tier in (web,db),env") == ["a", "b"]
    assert names(label_selector="!env") == ["c"]
    assert names(label_selector="tier notin (web)") == ["b"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.name!=b", label_selector="env=prod") == ["a"]
    all_ns = core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={ns}")
    assert len(all_ns.items) == 3
    pod = core.create_namespaced_pod(ns, {"metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "c", "image": "nginx"}]}})
    got = core.list_namespaced_event(ns, field_selector=(
        f"involvedObject.kind=Pod,involvedObject.name=p,involvedObject.uid={pod.metadata.uid}"))
    assert all(e.involved_object.name == "p" for e in got.items)
    phases = core.list_namespaced_pod(ns, field_selector="status.phase=Succeeded").items
    assert phases == []


def test_limit_and_continue_page_through_everything(cluster, api):
    ns = _ns(api)
    core = client.CoreV1Api(api)
    for i in range(7):
        core.create_namespaced_config_map(ns, _cm(f"cm-{i}"))
    seen, token, pages = [], None, 0
    while True:
        page = core.list_namespaced_config_map(ns, limit=3, _continue=token)
        pages += 1
        seen += [i.metadata.name for i in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == 7 - len(seen)
    assert seen == [f"cm-{i}" for i in range(7)] and pages == 3
    code, _, status = call(cluster, "GET", f"/api/v1/namespaces/{ns}/configmaps?limit=2&continue=junk")
    assert code == 400 and status["kind"] == "Status"


def test_watch_rv0_sends_synthetic_added_and_selector_transitions(cluster, api):
    ns = _ns(api)
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, _cm("one", tier="web"))
    core.create_namespaced_config_map(ns, _cm("two", tier="db"))
    events = stream(cluster, f"/api/v1/namespaces/{ns}/configmaps?watch=true&resourceVersion=0"
                    "&labelSelector=tier%3Dweb&timeoutSeconds=30")
    first = next(events)
    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", "one")

    def later():
        core.patch_namespaced_config_map("two", ns, {"metadata": {"labels": {"tier": "web"}}})
        core.patch_namespaced_config_map("one", ns, {"metadata": {"labels": {"tier": "db"}}})
    threading.Thread(target=later).start()
    got = [(e["type"], e["object"]["metadata"]["name"]) for e in _take(events, 2)]
    assert got == [("ADDED", "two"), ("DELETED", "one")]


def _take(events, n):
    out = []
    for ev in events:
        out.append(ev)
        if len(out) == n:
            break
    return out


def test_watch_timeout_seconds_ends_the_stream(cluster, api):
    ns = _ns(api)
    rv = client.CoreV1Api(api).list_namespaced_config_map(ns).metadata.resource_version
    events = list(stream(cluster, f"/api/v1/namespaces/{ns}/configmaps?watch=1"
                         f"&resourceVersion={rv}&timeoutSeconds=1"))
    assert events == []


def test_expired_resource_version_is_a_410_error_event_and_a_relist_recovers(start_cluster):
    c = start_cluster(nodes=0, env={"KUBELAB_WATCH_HISTORY": "50"})
    api = api_client(c)
    core = client.CoreV1Api(api)
    old_rv = core.list_namespaced_config_map("default").metadata.resource_version
    for i in range(60):
        core.create_namespaced_config_map("default", _cm(f"c{i}"))
    events = list(stream(c, f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={old_rv}"))
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert "too old resource version" in status["message"]
    # the official client surfaces the 410; a relist gives a fresh rv that watches fine
    w = watch.Watch()
    with pytest.raises(ApiException) as e:
        for _ in w.stream(core.list_namespaced_config_map, "default", resource_version=old_rv,
                          timeout_seconds=10):
            pass
    assert e.value.status == 410
    listed = core.list_namespaced_config_map("default")
    assert len(listed.items) == 60
    core.create_namespaced_config_map("default", _cm("after"))
    for ev in w.stream(core.list_namespaced_config_map, "default",
                       resource_version=listed.metadata.resource_version, timeout_seconds=30):
        assert ev["type"] == "ADDED" and ev["object"].metadata.name == "after"
        w.stop()
    api.close()


def test_bookmarks_when_allowed(cluster, api):
    ns = _ns(api)
    rv = client.CoreV1Api(api).list_namespaced_config_map(ns).metadata.resource_version
    # the server sends a bookmark after 15 s of quiet; wait for at most one
    events = stream(cluster, f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={rv}"
                    "&allowWatchBookmarks=true&timeoutSeconds=40")
    ev = next(events)
    assert ev["type"] == "BOOKMARK"
    assert int(ev["object"]["metadata"]["resourceVersion"]) >= int(rv)
    assert ev["object"]["kind"] == "ConfigMap"


def test_watch_list_sends_initial_events_then_a_marked_bookmark(cluster, api):
    ns = _ns(api)
    core = client.CoreV1Api(api)
    for n in ("a", "b"):
        core.create_namespaced_config_map(ns, _cm(n))
    events = stream(cluster, f"/api/v1/namespaces/{ns}/configmaps?watch=1&sendInitialEvents=true"
                    "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=20")
    got = _take(events, 3)
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in got[:2]] == \
        [("ADDED", "a"), ("ADDED", "b")]
    assert got[2]["type"] == "BOOKMARK"
    assert got[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    empty = _ns(api)
    first = next(stream(cluster, f"/api/v1/namespaces/{empty}/configmaps?watch=1"
                        "&sendInitialEvents=true&allowWatchBookmarks=true&timeoutSeconds=20"))
    assert first["type"] == "BOOKMARK"


def test_a_closed_quiet_watch_is_released(start_cluster):
    import socket

    from apihelp import ssl_context
    c = start_cluster(nodes=0)
    host, port = c.server.split("//")[1].split(":")
    base = _watches(c)
    sock = ssl_context(c).wrap_socket(socket.create_connection((host, int(port)), timeout=30),
                                      server_hostname=host)
    sock.sendall((f"GET /api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1 HTTP/1.1\r\n"
                  f"Host: {host}\r\nAuthorization: Bearer {c.token}\r\n\r\n").encode())
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    _until(lambda: _watches(c) == base + 1, "the watch to register")
    sock.close()  # a quiet stream: no event will ever fail to write
    _until(lambda: _watches(c) == base, "the server to release the watch")


def _until(fn, what, timeout=30.0):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _watches(c) -> int:
    code, _, body = call(c, "GET", "/metrics")
    text = body.decode() if isinstance(body, bytes) else str(body)
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith('apiserver_longrunning_requests{') and 'verb="WATCH"' in line)

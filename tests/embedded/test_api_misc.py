"""Pod logs through the kubelet, protobuf bodies, and the catch-all 500."""

import asyncio
import uuid

import aiohttp
import pytest
from kubernetes import client

from apihelp import call
from console.embedded.cluster import Cluster
from console.embedded.server import make_app
from waits import wait_for


def test_pod_logs_tail_timestamps_and_errors(cluster, api):
    ns = f"l-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_pod(ns, {"metadata": {"name": "web"}, "spec": {"containers": [
        {"name": "nginx", "image": "nginx"}, {"name": "side", "image": "nginx"}]}})
    base = f"/api/v1/namespaces/{ns}/pods/web/log"
    code, _, st = call(cluster, "GET", base)
    assert code == 400 and "a container name must be specified" in st["message"]
    code, _, st = call(cluster, "GET", base + "?container=nope")
    assert code == 400 and "container nope is not valid" in st["message"]

    def logs(q=""):
        code, _, body = call(cluster, "GET", f"{base}?container=nginx{q}")
        return body.decode() if code == 200 and isinstance(body, bytes) and body else None
    text = wait_for(logs, what="nginx to log")
    lines = text.splitlines()
    assert lines and not lines[0][:4].isdigit()  # no stamp unless asked
    stamped = logs("&timestamps=true").splitlines()
    assert stamped[0][:2] == "20" and stamped[0].endswith(lines[0])
    assert logs("&tailLines=1").splitlines() == lines[-1:]
    code, _, st = call(cluster, "GET", base + "?container=nginx&previous=true")
    assert code == 400 and "previous terminated container" in st["message"]
    # follow: what is there first, on a stream that stays open
    resp = core.read_namespaced_pod_log("web", ns, container="nginx", follow=True,
                                        _preload_content=False, _request_timeout=30)
    try:
        first = resp.readline() if hasattr(resp, "readline") else resp.read(64)
        assert first and first.decode().rstrip("\n") == lines[0][:len(first.decode().rstrip())]
    finally:
        resp.release_conn()
        resp.close()
    code, _, st = call(cluster, "GET", f"/api/v1/namespaces/{ns}/pods/ghost/log")
    assert code == 404 and st["message"] == 'pods "ghost" not found'


def test_protobuf_bodies_are_decoded_or_a_400(cluster, api):
    proto = pytest.importorskip("console.embedded.proto")
    del proto
    code, _, st = call(cluster, "POST", "/api/v1/namespaces/default/configmaps",
                       b"k8s\x00\xff\xff\xff", "application/vnd.kubernetes.protobuf")
    assert code in (400, 415) and st["kind"] == "Status"
    assert call(cluster, "GET", "/healthz", token=False)[0] == 200


def test_unexpected_errors_are_a_short_500_status_and_serving_goes_on(unused_tcp_port):
    async def scenario():
        cluster = Cluster(speed=20, nodes=0)

        def broken(*a, **k):
            raise RuntimeError("disk on fire")
        cluster.registry.create = broken
        app = make_app(cluster, "tok")
        runner = aiohttp.web.AppRunner(app)
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", unused_tcp_port)
        await site.start()
        url = f"http://127.0.0.1:{unused_tcp_port}"
        hdr = {"Authorization": "Bearer tok"}
        try:
            cluster.store.create("namespaces", {"metadata": {"name": "default"}})
            async with aiohttp.ClientSession(headers=hdr) as s:
                async with s.post(url + "/api/v1/namespaces/default/configmaps",
                                  json={"apiVersion": "v1", "kind": "ConfigMap",
                                        "metadata": {"name": "x"}}) as r:
                    body = await r.json()
                    assert r.status == 500
                    assert body["reason"] == "InternalError" and "disk on fire" in body["message"]
                    assert "Traceback" not in body["message"]
                async with s.get(url + "/api/v1/namespaces/default") as r:
                    assert r.status == 200
        finally:
            await runner.cleanup()
    asyncio.run(scenario())

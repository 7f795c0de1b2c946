"""Where traffic comes from matters: a pod's egress goes through its own sidecar
(client-side DestinationRule and VirtualService), a pod without one meets only
the server's inbound sidecar; the egress listener lets a process "in" the pod
speak real HTTP as that pod."""

import asyncio
import json

from console.embedded.apps.base import Request
from meshkit import (DR, OVERFLOW_BODY, VS, Raw, all_ready, app_pod, mesh_cluster, rule,
                     service)
from waits import until


def client_pod(cluster, name, sidecar=True):
    labels = {"app": name} if sidecar else {"app": name, "sidecar.istio.io/inject": "false"}
    cluster.registry.create("pods", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"nodeName": "kubelab-node-2", "containers": [
            {"name": "sh", "image": "busybox", "command": ["sh", "-c", "sleep 3600"]}]}})


def egress(cluster, name):
    return cluster.network.egress(cluster.kubelet.worker("default", name))


async def many(cluster, name, n, path="/orders"):
    out = await asyncio.gather(*(egress(cluster, name).request(
        "order", 8080, Request("GET", path, {"host": "order:8080"})) for _ in range(n)))
    return out


async def test_a_sidecar_client_applies_the_rules_itself():
    async with mesh_cluster() as cluster:
        app_pod(cluster, "order-1", latency_ms=50)
        service(cluster, "order")
        client_pod(cluster, "client")
        client_pod(cluster, "bare", sidecar=False)
        await all_ready(cluster, "order-1", "client", "bare")
        resp = (await many(cluster, "client", 1))[0]
        assert resp.status == 200 and resp.headers["server"] == "envoy"
        assert resp.headers["x-envoy-upstream-service-time"].isdigit()
        plain = (await many(cluster, "bare", 1))[0]
        assert plain.status == 200 and plain.headers["server"] == "istio-envoy"   # inbound only
        rule(cluster, VS, "order", {"hosts": ["order"], "http": [{
            "fault": {"abort": {"httpStatus": 418, "percentage": {"value": 100}}},
            "route": [{"destination": {"host": "order"}}]}]})
        assert {r.status for r in await many(cluster, "client", 5)} == {418}
        assert {r.status for r in await many(cluster, "bare", 5)} == {200}   # VS: client side
        cluster.registry.delete(VS, "default", "order")
        rule(cluster, DR, "order", {"host": "order", "trafficPolicy": {"connectionPool": {
            "tcp": {"maxConnections": 1}, "http": {"http1MaxPendingRequests": 1}}}})
        got = await many(cluster, "client", 10)
        over = [r for r in got if r.status == 503]
        assert over and over[0].body == OVERFLOW_BODY
        assert over[0].headers["x-envoy-overloaded"] == "true"


async def test_curl_in_an_injected_pod_goes_through_its_envoy():
    async with mesh_cluster() as cluster:
        app_pod(cluster, "order-1")
        service(cluster, "order")
        client_pod(cluster, "client")
        await all_ready(cluster, "order-1", "client")
        rule(cluster, VS, "order", {"hosts": ["order"], "http": [{
            "fault": {"abort": {"httpStatus": 503, "percentage": {"value": 100}}},
            "route": [{"destination": {"host": "order"}}]}]})
        code, out = await cluster.kubelet.exec("default", "client", "sh",
                                               ["curl", "-s", "http://order:8080/orders"])
        assert (code, out) == (0, "fault filter abort")


async def test_the_egress_listener_speaks_for_the_pod():
    async with mesh_cluster() as cluster:
        app_pod(cluster, "order-1")
        service(cluster, "order")
        client_pod(cluster, "client")
        client_pod(cluster, "bare", sidecar=False)
        await all_ready(cluster, "order-1", "client", "bare")
        addr = await egress(cluster, "client").listen()
        assert addr == await egress(cluster, "client").listen()          # one per pod
        conn = await Raw.open(addr)
        status, hdrs, body = await conn.request("GET", "/orders", host="order:8080")
        assert status == 200 and ("server", "envoy") in hdrs
        assert json.loads(body)["pod"] == "order-1"
        # absolute form, as to an HTTP proxy; a name that resolves nowhere resets
        status, hdrs, _ = await conn.request("GET", "http://order.default.svc.cluster.local:8080/x",
                                             host="ignored")
        assert status == 200
        conn.close()
        bare_addr = await egress(cluster, "bare").listen()
        bare = await Raw.open(bare_addr)
        status, hdrs, _ = await bare.request("GET", "/orders", host="order:8080")
        assert status == 200 and ("server", "istio-envoy") in hdrs
        try:
            await bare.request("GET", "/", host="nosuch:80")
            raise AssertionError("answered")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        bare.close()
        cluster.registry.delete("pods", "default", "bare", grace_seconds=0)
        await until(lambda: cluster.kubelet.worker("default", "bare") is None, what="pod gone")
        # the gone pod's listener is closed, the client's still serves
        try:
            (await Raw.open(bare_addr)).close()
            raise AssertionError("still listening")
        except OSError:
            pass
        conn = await Raw.open(addr)
        assert (await conn.request("GET", "/orders", host="order:8080"))[0] == 200
        conn.close()

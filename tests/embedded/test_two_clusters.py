"""Two embedded clusters in one process, on one event loop, each served by its own
aiohttp app, share nothing: kinds registered at run time, admission hooks, watch
gauges, objects and events are each cluster's own."""

import asyncio
import contextlib

import aiohttp
from aiohttp import web

from console.embedded.cluster import Cluster
from console.embedded.kinds import Kind
from console.embedded.server import make_app
from waits import until

WIDGETS = Kind("widgets", "Widget", "example.kubelab.dev", ("v1",), True, verbs=("get", "list"))


class Widgets:
    """A computed kind: its objects come from here, not from the store."""

    def __init__(self):
        self.down: str | None = None

    def unavailable(self):
        return self.down

    def list(self, namespace):
        if namespace in (None, "default"):
            yield self.get("default", "w1")

    def not_found(self, namespace, name):
        return f'widgets.example.kubelab.dev "{namespace}/{name}" not found'

    def get(self, namespace, name):
        if (namespace, name) != ("default", "w1"):
            return None
        return {"apiVersion": "example.kubelab.dev/v1", "kind": "Widget",
                "metadata": {"name": "w1", "namespace": "default"}, "size": 3}


@contextlib.asynccontextmanager
async def served(cluster: Cluster):
    runner = web.AppRunner(make_app(cluster, "tok"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession(f"http://{host}:{port}",
                                         headers={"Authorization": "Bearer tok"}) as s:
            yield s
    finally:
        await runner.cleanup()


async def _json(s, method, path, **kw):
    async with s.request(method, path, **kw) as r:
        return r.status, await r.json()


async def _watches(s) -> dict[str, int]:
    async with s.get("/metrics") as r:
        text = await r.text()
    out = {}
    for line in text.splitlines():
        if line.startswith("apiserver_longrunning_requests{"):
            res = line.split('resource="')[1].split('"')[0]
            out[res] = int(line.rsplit(" ", 1)[1])
    return out


def _pod(name):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


async def test_two_clusters_in_one_process_are_independent():
    a, b = Cluster(speed=50, nodes=1), Cluster(speed=50, nodes=1)
    await a.start()
    await b.start()
    try:
        async with served(a) as sa, served(b) as sb:
            await until(lambda: a.store.get("namespaces", "", "default")
                        and b.store.get("namespaces", "", "default"), what="bootstrap")
            # a kind registered at run time, with a provider, is served by a only
            widgets = Widgets()
            a.kinds.register(WIDGETS, widgets)
            code, doc = await _json(sa, "GET", "/apis/example.kubelab.dev/v1")
            assert code == 200 and [r["name"] for r in doc["resources"]] == ["widgets"]
            assert (await _json(sb, "GET", "/apis/example.kubelab.dev/v1"))[0] == 404
            _, groups = await _json(sa, "GET", "/apis")
            assert "example.kubelab.dev" in [g["name"] for g in groups["groups"]]
            _, groups = await _json(sb, "GET", "/apis")
            assert "example.kubelab.dev" not in [g["name"] for g in groups["groups"]]
            _, index = await _json(sa, "GET", "/openapi/v3")
            assert "apis/example.kubelab.dev/v1" in index["paths"]
            _, index = await _json(sb, "GET", "/openapi/v3")
            assert "apis/example.kubelab.dev/v1" not in index["paths"]
            path = "/apis/example.kubelab.dev/v1/namespaces/default/widgets"
            code, lst = await _json(sa, "GET", path)
            assert code == 200 and lst["kind"] == "WidgetList"
            assert [w["size"] for w in lst["items"]] == [3]
            code, w = await _json(sa, "GET", path + "/w1")
            assert code == 200 and w["metadata"]["name"] == "w1"
            code, st = await _json(sa, "GET", path + "/w2")
            assert code == 404 and st["message"] == 'widgets.example.kubelab.dev "default/w2" not found'
            assert (await _json(sa, "POST", path, json={"metadata": {"name": "x"}}))[0] == 405
            assert (await _json(sa, "GET", path + "?watch=true"))[0] == 405
            widgets.down = "no backend"   # the aggregator's plain 503, and Stale discovery
            async with sa.get(path) as r:
                assert r.status == 503 and (await r.text()) == "service unavailable\n"
            agg = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            _, doc = await _json(sa, "GET", "/apis", headers={"Accept": agg})
            (group,) = [g for g in doc["items"] if g["metadata"]["name"] == "example.kubelab.dev"]
            assert [v["freshness"] for v in group["versions"]] == ["Stale"]
            a.kinds.unregister(WIDGETS.key)
            assert (await _json(sa, "GET", path))[0] == 404

            # an admission hook added to a only
            def label(registry, obj, old):
                obj["metadata"].setdefault("labels", {})["injected"] = "yes"
            a.registry.admission.add("mutate", "pods", label)
            for s in (sa, sb):
                code, _ = await _json(s, "POST", "/api/v1/namespaces/default/pods",
                                      json=_pod("p"))
                assert code == 201
            assert a.store.get("pods", "default", "p")["metadata"]["labels"] == {"injected": "yes"}
            assert not b.store.get("pods", "default", "p")["metadata"].get("labels")

            # objects: a ConfigMap made in a is not in b
            code, _ = await _json(sa, "POST", "/api/v1/namespaces/default/configmaps",
                                  json={"metadata": {"name": "only-a"}, "data": {"k": "v"}})
            assert code == 201
            assert (await _json(sb, "GET", "/api/v1/namespaces/default/configmaps/only-a"))[0] == 404

            # watch gauges: a watch on a counts in a's /metrics only
            base_a, base_b = (await _watches(sa)).get("configmaps", 0), \
                (await _watches(sb)).get("configmaps", 0)
            async with sa.get("/api/v1/namespaces/default/configmaps?watch=true") as stream:
                await stream.content.readline()  # the synthetic ADDED: the watch is open
                assert (await _watches(sa)).get("configmaps", 0) == base_a + 1
                assert (await _watches(sb)).get("configmaps", 0) == base_b

            # events: each cluster records its own, with its own aggregation
            pod_a = a.store.get("pods", "default", "p")
            for _ in range(2):
                a.event(pod_a, "Tested", "only in a")
            evs = [e for e in a.store.list("events", "default") if e["reason"] == "Tested"]
            assert [e["count"] for e in evs] == [2]
            assert not [e for e in b.store.list("events", "default") if e["reason"] == "Tested"]
            # and the pods run in their own cluster's kubelet
            await until(lambda: (a.store.get("pods", "default", "p") or {}).get(
                "status", {}).get("phase") == "Running", what="a's pod running")
            await until(lambda: (b.store.get("pods", "default", "p") or {}).get(
                "status", {}).get("phase") == "Running", what="b's pod running")
    finally:
        await asyncio.gather(a.stop(), b.stop())

"""An in-process cluster for mesh tests: an injected namespace, pods with the
sidecar istiod would add, Services, rules; raw HTTP/1.1 to see Envoy's bytes."""

import asyncio
import contextlib
import json

from console.embedded.mesh import istiod
from kubelet_helpers import kubelet_cluster, pod
from waits import until

OVERFLOW_BODY = b"upstream connect error or disconnect/reset before headers. reset reason: overflow"
DR = "destinationrules.networking.istio.io"
VS = "virtualservices.networking.istio.io"
LAB_DR = {"host": "order", "trafficPolicy": {
    "connectionPool": {"tcp": {"maxConnections": 1},
                       "http": {"http1MaxPendingRequests": 1, "maxRequestsPerConnection": 1}},
    "outlierDetection": {"consecutiveErrors": 5, "interval": "10s", "baseEjectionTime": "30s",
                         "maxEjectionPercent": 100}}}


@contextlib.asynccontextmanager
async def mesh_cluster(speed: float = 20, injected: bool = True, ns: str = "default"):
    async with kubelet_cluster(speed=speed) as cluster:
        cluster.spawn(istiod.run(cluster), "istiod")
        await asyncio.sleep(0)          # its webhooks in place before the first pod
        labels = {"istio-injection": "enabled"} if injected else {}
        cluster.registry.create("namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                               "metadata": {"name": ns, "labels": labels}})
        yield cluster


def app_pod(cluster, name, app="order", image="example/app", labels=None, node=1,
            sidecar=True, ns="default", **annotations):
    ann = {"kubelab.dev/boot-seconds": "0", "kubelab.dev/latency-ms": "1",
           "kubelab.dev/cpu-per-request": "0.5"}
    ann.update({f"kubelab.dev/{k.replace('_', '-')}": str(v) for k, v in annotations.items()})
    labels = {"app": app, **(labels or {})}
    if not sidecar:
        labels["sidecar.istio.io/inject"] = "false"
    body = pod(name, image=image, ns=ns, labels=labels, node=f"kubelab-node-{node}",
               annotations=ann, container={"ports": [{"containerPort": 8080}]})
    return cluster.registry.create("pods", body)      # istiod's injector adds the sidecar


def service(cluster, name, port=8080, target=8080, ns="default", selector=None):
    return cluster.registry.create("services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": selector or {"app": name},
                 "ports": [{"port": port, "targetPort": target, "protocol": "TCP"}]}})


def rule(cluster, res, name, spec, ns="default"):
    kind = "DestinationRule" if res == DR else "VirtualService"
    return cluster.registry.create(res, {"apiVersion": "networking.istio.io/v1", "kind": kind,
                                         "metadata": {"name": name, "namespace": ns},
                                         "spec": spec})


def ready(cluster, name, ns="default") -> bool:
    p = cluster.registry.get("pods", ns, name) or {}
    statuses = (p.get("status") or {}).get("containerStatuses") or []
    return bool(statuses) and all(s.get("ready") for s in statuses)


async def all_ready(cluster, *names, ns="default"):
    await until(lambda: all(ready(cluster, n, ns) for n in names), timeout=90,
                what=f"{', '.join(names)} ready")
    # and booted: a ready pod without a readiness probe may still be starting its app
    def booted(n):
        c = cluster.kubelet.worker(ns, n).containers[0]
        return c.app.listening or not c.spec.get("ports")     # a shell serves nothing
    await until(lambda: all(booted(n) for n in names), what="apps listening")


async def host_address(cluster, name, port=8080, ns="default"):
    def addr():
        svc = cluster.registry.get("services", ns, name) or {}
        ann = (svc.get("metadata", {}).get("annotations") or {}).get("kubelab.dev/host-ports")
        return json.loads(ann).get(str(port)) if ann else None
    return await until(addr, what=f"{name} host port")


class Raw:
    """One keep-alive HTTP/1.1 connection, responses as (status, headers, body) with
    header names as sent."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, address):
        host, port = address.rsplit(":", 1)
        return cls(*await asyncio.open_connection(host, int(port)))

    async def request(self, method="GET", path="/", headers=None, body=b"", host="order:8080"):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 60)
        status_line, *rest = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        hdrs = [tuple(x.split(": ", 1)) for x in rest]
        length = int(next(v for k, v in hdrs if k.lower() == "content-length"))
        data = await asyncio.wait_for(self.reader.readexactly(length), 60)
        return int(status_line.split()[1]), hdrs, data

    def close(self):
        self.writer.close()


async def get(address, path="/", headers=None, host="order:8080"):
    """One request on a fresh connection: (status, {lower-case name: value}, body)."""
    conn = await Raw.open(address)
    try:
        status, hdrs, body = await conn.request("GET", path, headers, host=host)
    finally:
        conn.close()
    return status, {k.lower(): v for k, v in hdrs}, body


async def load(address, users: int, requests: int, path="/", headers=None):
    """`users` keep-alive connections sending `requests` each: the statuses, and a sample
    reply per status."""
    codes: dict[int, int] = {}
    samples: dict[int, tuple] = {}

    async def user():
        conn = await Raw.open(address)
        try:
            for _ in range(requests):
                status, hdrs, body = await conn.request("GET", path, headers)
                codes[status] = codes.get(status, 0) + 1
                samples.setdefault(status, (hdrs, body))
        finally:
            conn.close()
    await asyncio.gather(*(user() for _ in range(users)))
    return codes, samples

"""Requests/s through a Service proxy to 3 pods (goal: >= 3,000/s on a 2-core box).

Starts an in-process cluster (kubelet + service proxies only), 3 pods of an app
with no simulated latency, a Service, then drives the Service's loopback
listener with wrk (keep-alive, one thread) — or, without wrk, with an aiohttp
client in a child process. Prints the figures; asserts nothing.

    .venv/bin/python bench/service_proxy.py [--seconds 10] [--connections 32] [--image nginx]
    .venv/bin/python bench/service_proxy.py --image jinyoung/order:stable --port 8080 --path /orders [--simulated]
    .venv/bin/python bench/service_proxy.py --mesh     # injected namespace: the stand-in client
                                                       # Envoy picks an endpoint per request, the
                                                       # pods' inbound sidecars deliver it
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from console.embedded import kubelet  # noqa: E402
from console.embedded.cluster import Cluster  # noqa: E402
from console.embedded.mesh import istiod  # noqa: E402

CLIENT = r"""
import asyncio, sys, time, aiohttp
async def main(url, seconds, conns):
    done = 0
    end = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conns)) as s:
        async def worker():
            nonlocal done
            while time.monotonic() < end:
                async with s.get(url) as r:
                    await r.read()
                done += 1
        await asyncio.gather(*(worker() for _ in range(conns)))
    print(done / seconds)
asyncio.run(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
"""


async def setup(image: str, port: int, simulated: bool, mesh: bool = False):
    cluster = Cluster(speed=50, nodes=2)
    cluster.spawn(kubelet.run(cluster), "kubelet")
    while getattr(cluster, "kubelet", None) is None:
        await asyncio.sleep(0.01)
    # the proxy's own figure: the app's simulated wait and CPU time are switched off
    ann = {"kubelab.dev/boot-seconds": "0"} if simulated else {
        "kubelab.dev/latency-ms": "0", "kubelab.dev/boot-seconds": "0", "kubelab.dev/cpu-per-request": "0"}
    if mesh:
        cluster.spawn(istiod.run(cluster), "istiod")     # the injector and what it mounts
        await asyncio.sleep(0)
        cluster.registry.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": "default", "labels": {"istio-injection": "enabled"}}})
    for i in range(3):
        body = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"bench-{i}", "namespace": "default", "labels": {"app": "bench"},
                         "annotations": ann},
            "spec": {"nodeName": f"kubelab-node-{i % 2 + 1}", "restartPolicy": "Always",
                     "containers": [{"name": "app", "image": image,
                                     "ports": [{"containerPort": port}]}]}}
        cluster.registry.create("pods", body)
    cluster.registry.create("services", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "bench", "namespace": "default"},
        "spec": {"selector": {"app": "bench"}, "ports": [{"port": 80, "targetPort": port, "protocol": "TCP"}]}})
    for _ in range(3000):
        svc = cluster.registry.get("services", "default", "bench")
        ann = (svc["metadata"].get("annotations") or {}).get("kubelab.dev/host-ports")
        ready = all(w.containers and all(c.app is not None and c.app.listening for c in w.containers)
                    for w in cluster.kubelet.workers.values()) and len(cluster.kubelet.workers) == 3
        if ann and ready:
            return cluster, json.loads(ann)["80"]
        await asyncio.sleep(0.01)
    raise SystemExit("the bench service never became reachable")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--image", default="nginx")
    ap.add_argument("--path", default="/", help="e.g. /orders for the order app")
    ap.add_argument("--port", type=int, default=80, help="the app's port (8080 for the order app)")
    ap.add_argument("--simulated", action="store_true",
                    help="keep the app's simulated latency and CPU limit (shows saturation)")
    ap.add_argument("--mesh", action="store_true",
                    help="the namespace injected and the pods with sidecars (Envoy per request)")
    args = ap.parse_args()
    cluster, addr = await setup(args.image, args.port, args.simulated, args.mesh)
    url = f"http://{addr}{args.path}"
    wrk = shutil.which("wrk")
    if wrk:
        cmd = [wrk, "-t1", f"-c{args.connections}", f"-d{int(args.seconds)}s", "--latency", url]
        tool = "wrk"
    else:
        cmd = [sys.executable, "-c", CLIENT, url, str(args.seconds), str(args.connections)]
        tool = "aiohttp client"
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.PIPE)
    t0 = time.process_time()
    out, _ = await proc.communicate()
    cpu = time.process_time() - t0
    text = out.decode()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)) if wrk else float(text)
    served = [w.containers[0].app.served for w in cluster.kubelet.workers.values()]
    print(f"service proxy: {rps:,.0f} requests/s to 3 pods ({args.image} {args.path}) over {args.seconds:g} s, "
          f"{args.connections} keep-alive connections, {tool}"
          f"{', app physics on' if args.simulated else ''}{', through the mesh' if args.mesh else ''}")
    print(f"per pod: {served}; cluster process CPU {cpu / args.seconds * 100:.0f}% of one core")
    if wrk:
        for line in text.splitlines():
            if re.match(r"\s+(50|90|99)%", line) or "Non-2xx" in line or "Socket errors" in line:
                print("  wrk:" + line)
    await cluster.stop()


if __name__ == "__main__":
    asyncio.run(main())

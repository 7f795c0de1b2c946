"""How fast the simulated kubelets bring N pods to Running and Ready, and at what
memory cost (in-process: kubelet + service proxies, pods bound by hand).

    .venv/bin/python bench/kubelet_pods.py [--pods 1000] [--image nginx] [--speed 50]
"""

import argparse
import asyncio
import os
import sys
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from console.embedded import kubelet  # noqa: E402
from console.embedded.cluster import Cluster  # noqa: E402


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--image", default="nginx")
    ap.add_argument("--speed", type=float, default=50)
    args = ap.parse_args()
    nodes = max(1, -(-args.pods // 110))
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    cluster = Cluster(speed=args.speed, nodes=nodes)
    cluster.spawn(kubelet.run(cluster), "kubelet")
    while getattr(cluster, "kubelet", None) is None:
        await asyncio.sleep(0.01)
    t0 = time.monotonic()
    cpu0 = proc.cpu_times()
    for i in range(args.pods):
        cluster.registry.create("pods", {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"p-{i}", "namespace": "default", "labels": {"app": "bench"}},
            "spec": {"nodeName": f"kubelab-node-{i % nodes + 1}", "restartPolicy": "Always",
                     "containers": [{"name": "app", "image": args.image}]}})
    created = time.monotonic() - t0

    def ready() -> int:
        return sum(1 for p in cluster.store.scan("pods")
                   if any(c.get("ready") for c in (p.get("status") or {}).get("containerStatuses") or []))

    deadline = time.monotonic() + 300
    while ready() < args.pods and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    took = time.monotonic() - t0
    cpu = proc.cpu_times()
    used = (cpu.user - cpu0.user) + (cpu.system - cpu0.system)
    print(f"{ready()}/{args.pods} pods Running and Ready on {nodes} nodes in {took:.2f} s "
          f"(created in {created:.2f} s; {used:.2f} s CPU; speed {args.speed:g})")
    print(f"resident memory: +{(proc.memory_info().rss - rss0) / 2**20:.0f} MiB for the pods "
          f"({proc.memory_info().rss / 2**20:.0f} MiB total)")
    await asyncio.sleep(2)   # idle pods: what do they cost per second?
    c1 = proc.cpu_times()
    await asyncio.sleep(3)
    c2 = proc.cpu_times()
    idle = ((c2.user - c1.user) + (c2.system - c1.system)) / 3
    print(f"idle CPU with {args.pods} running pods: {idle * 100:.1f}% of one core")
    await cluster.stop()


if __name__ == "__main__":
    asyncio.run(main())

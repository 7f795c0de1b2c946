"""The console under a pod-event storm: key-to-screen latency and memory.

Headless, no cluster: a producer thread publishes pod events on the bus (as
the informers do) at a fixed rate over a namespace of N pods, while keys are
pressed; a key's latency runs from posting it to the first screen refresh
that shows its effect (the table cursor moved). Prints figures; asserts nothing.

    .venv/bin/python bench/console.py [--pods 5000] [--rate 2000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import random
import statistics
import sys
import threading
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import psutil  # noqa: E402
from textual import events  # noqa: E402

from console import bus  # noqa: E402
from console.ui.app import KubelabApp  # noqa: E402
from console.ui.panes.pods import PodsTable  # noqa: E402


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_pod(i: int, now: float) -> dict:
    """A pod about the size the API server sends (labels, spec, status, conditions)."""
    name = f"order-7d9f8b6c5d-{i:05d}"
    return {
        "metadata": {"name": name, "namespace": "bench", "uid": f"uid-{i:05d}",
                     "resourceVersion": "1", "creationTimestamp": iso(now - 600 - i),
                     "labels": {"app": "order", "pod-template-hash": "7d9f8b6c5d"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": "order-7d9f8b6c5d", "uid": "rs-1",
                                          "controller": True}]},
        "spec": {"nodeName": f"node-{i % 3 + 1}", "containers": [{
            "name": "order", "image": "ghcr.io/acmexii/order-liveness:latest",
            "ports": [{"containerPort": 8080}], "resources": {"requests": {"cpu": "200m"}},
            "livenessProbe": {"httpGet": {"path": "/actuator/health", "port": 8080}}}]},
        "status": {"phase": "Running", "podIP": f"10.244.{i // 250}.{i % 250}",
                   "conditions": [{"type": t, "status": "True"} for t in
                                  ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
                   "containerStatuses": [{"name": "order", "ready": True, "restartCount": 0,
                                          "started": True, "state": {"running": {"startedAt": iso(now - 500)}}}]},
    }


def produce(b: bus.Bus, pods: list[dict], rate: int, stop: threading.Event, counter: list[int]) -> None:
    """MODIFIED events at `rate` per second, in 50 ms slices."""
    rv = 1
    slice_ = max(1, rate // 20)
    next_t = time.perf_counter()
    while not stop.is_set():
        for _ in range(slice_):
            p = copy.copy(random.choice(pods))
            rv += 1
            st = copy.deepcopy(p["status"])
            cs = st["containerStatuses"][0]
            cs["restartCount"] = rv % 7
            cs["ready"] = rv % 5 != 0
            p["status"] = st
            p["metadata"] = {**p["metadata"], "resourceVersion": str(rv)}
            b.publish(bus.ObjectChanged(kind="pods", type="MODIFIED", obj=p))
            counter[0] += 1
        next_t += 0.05
        delay = next_t - time.perf_counter()
        if delay > 0:
            stop.wait(delay)


async def key_latency(app: KubelabApp, key: str) -> float:
    table = app.query_one(PodsTable)
    before = table.cursor_row
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    t0 = time.perf_counter()
    app.post_message(events.Key(key, None))
    while table.cursor_row == before:
        if not app.is_running or time.perf_counter() - t0 > 30:
            raise RuntimeError(f"the app stopped answering keys: {app._exception!r}")
        await asyncio.sleep(0.0005)
    app.call_after_refresh(lambda: done.done() or done.set_result(time.perf_counter()))
    return (await done) - t0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


async def run(args) -> None:
    now = time.time()
    pods = [make_pod(i, now) for i in range(args.pods)]
    app = KubelabApp(watch=False)
    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    async with app.run_test(size=(args.width, args.height), headless=True) as pilot:
        t0 = time.perf_counter()
        for p in pods:
            app.bus.publish(bus.ObjectChanged(kind="pods", type="ADDED", obj=p))
        app.bus.publish(bus.Synced(kind="pods", uids=[p["metadata"]["uid"] for p in pods]))
        table = app.query_one(PodsTable)
        while len(table.printed) < args.pods:
            await asyncio.sleep(0.01)
        await pilot.pause()
        first_screen = time.perf_counter() - t0
        table.focus()
        idle = [await key_latency(app, k) for k in ["down", "up"] * 10]

        stop, counter = threading.Event(), [0]
        producer = threading.Thread(target=produce, args=(app.bus, pods, args.rate, stop, counter))
        producer.start()
        lat: list[float] = []
        t_start = time.perf_counter()
        deadline = t_start + args.seconds
        i = 0
        while time.perf_counter() < deadline and i < 10_000:
            lat.append(await key_latency(app, "down" if i % 2 == 0 else "up"))
            i += 1
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - t_start
        stop.set()
        producer.join()
        rss = proc.memory_info().rss
        sub = app.sub
        print(f"pods in namespace          {args.pods}")
        print(f"first screen (all rows)    {first_screen * 1000:.0f} ms")
        print(f"key->screen idle           p50 {pct(idle, 50) * 1000:.1f} ms  p99 {pct(idle, 99) * 1000:.1f} ms")
        print(f"events published           {counter[0]} in {elapsed:.1f} s = {counter[0] / elapsed:.0f}/s "
              f"(merged in the bus: {sub.merged}, dropped: {sub.dropped})")
        print(f"key->screen under storm    n={len(lat)}  p50 {pct(lat, 50) * 1000:.1f} ms  "
              f"p95 {pct(lat, 95) * 1000:.1f} ms  p99 {pct(lat, 99) * 1000:.1f} ms  "
              f"max {max(lat) * 1000:.1f} ms  mean {statistics.mean(lat) * 1000:.1f} ms")
        print(f"RSS                        {rss / 2**20:.0f} MB (process before the app: {rss0 / 2**20:.0f} MB)")
        print(f"goal p99 < 100 ms: {'met' if pct(lat, 99) < 0.1 else 'NOT met'};  "
              f"RSS < 200 MB: {'met' if rss < 200 * 2**20 else 'NOT met'}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=5000)
    p.add_argument("--rate", type=int, default=2000, help="pod events per second")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--width", type=int, default=160)
    p.add_argument("--height", type=int, default=48)
    args = p.parse_args()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: metrics and the HPA at 1,000 running pods.

Ten Deployments of 100 pods (cpu request 10m) on the simulated nodes, then:
  - `kubectl top pods` (1,000 PodMetrics) beside `kubectl get po` (1,000 rows):
    median wall time of each and their ratio;
  - the API server process's CPU (psutil, share of one core) over the same
    stretch of real time with 1,000 pods under metrics (scrapes every 15 s of
    simulated time), first without HPAs, then with one HPA per Deployment
    (min 100, max 120: each sync weighs its 100 pods; nothing scales away).

    .venv/bin/python bench/metrics.py [--deployments 10] [--replicas 100] [--nodes 10]
                                      [--runs 5] [--window 30] [--speed 20]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402
from kubernetes import client, config  # noqa: E402

from console.embedded import launch  # noqa: E402


def deployment(i: int, replicas: int) -> dict:
    labels = {"app": f"bench-{i}"}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"bench-{i}", "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": "web", "image": "nginx:1.25",
                          "resources": {"requests": {"cpu": "10m"}}}]}}}}


def hpa(i: int, replicas: int) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": f"bench-{i}"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                        "name": f"bench-{i}"},
                     "minReplicas": replicas, "maxReplicas": int(replicas * 1.2),
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization",
                                                   "averageUtilization": 50}}}]}}


def timed(kubectl, env, *args, runs: int) -> tuple[list[float], int]:
    times, rows = [], 0
    for _ in range(runs):
        t = time.monotonic()
        r = subprocess.run([kubectl, *args], env=env, capture_output=True, text=True,
                           timeout=180)
        times.append(time.monotonic() - t)
        rows = len(r.stdout.splitlines()) - 1
    return times, rows


def cpu_share(proc: psutil.Process, seconds: float) -> float:
    """CPU time the process used over `seconds` of real time, as a share of one core."""
    before = proc.cpu_times()
    time.sleep(seconds)
    after = proc.cpu_times()
    return (after.user + after.system - before.user - before.system) / seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--deployments", type=int, default=10)
    p.add_argument("--replicas", type=int, default=100)
    p.add_argument("--nodes", type=int, default=10)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--window", type=float, default=30.0, help="real seconds per CPU sample")
    p.add_argument("--speed", type=float, default=20.0)
    a = p.parse_args()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("kubectl is not installed; nothing to measure", file=sys.stderr)
        return 2
    total = a.deployments * a.replicas
    with launch.start(speed=a.speed, nodes=a.nodes, timeout=120) as c:
        cfg = client.Configuration()
        config.load_kube_config(config_file=str(c.kubeconfig), client_configuration=cfg)
        api_client = client.ApiClient(cfg)
        core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
        auto = client.AutoscalingV2Api(api_client)
        custom = client.CustomObjectsApi(api_client)
        proc = psutil.Process(c.pid)
        t0 = time.monotonic()
        for i in range(a.deployments):
            apps.create_namespaced_deployment("default", deployment(i, a.replicas))
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            pods = core.list_namespaced_pod("default").items
            if sum(1 for x in pods if x.status.phase == "Running") >= total:
                break
            time.sleep(2)
        running = time.monotonic() - t0
        while time.monotonic() < deadline:
            items = custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "default",
                                                         "pods")["items"]
            if len(items) >= total:
                break
            time.sleep(2)
        with_metrics = time.monotonic() - t0
        env = c.env()
        top, top_rows = timed(kubectl, env, "top", "pods", runs=a.runs)
        get, get_rows = timed(kubectl, env, "get", "po", runs=a.runs)
        quiet = cpu_share(proc, a.window)
        for i in range(a.deployments):
            auto.create_namespaced_horizontal_pod_autoscaler("default", hpa(i, a.replicas))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:   # every HPA synced once with figures
            hs = auto.list_namespaced_horizontal_pod_autoscaler("default").items
            if all(h.status and h.status.current_metrics and h.status.current_metrics[0].resource
                   for h in hs):
                break
            time.sleep(1)
        busy = cpu_share(proc, a.window)
        hs = auto.list_namespaced_horizontal_pod_autoscaler("default").items
        figures = sorted({h.status.current_metrics[0].resource.current.average_utilization
                          for h in hs})
        replicas = sum(h.status.current_replicas for h in hs)
        top2, _ = timed(kubectl, env, "top", "pods", runs=a.runs)
        rss = proc.memory_info().rss
    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    print(f"{total} pods Running after {running:.0f}s, all with metrics after {with_metrics:.0f}s "
          f"(--speed {a.speed:g}, {a.nodes} nodes)")
    print(f"kubectl top pods ({top_rows} rows): median {ms(top):.0f} ms "
          f"(min {min(top) * 1000:.0f}, max {max(top) * 1000:.0f}, {a.runs} runs)")
    print(f"kubectl get po   ({get_rows} rows): median {ms(get):.0f} ms "
          f"(min {min(get) * 1000:.0f}, max {max(get) * 1000:.0f})")
    print(f"  ratio top/get: {ms(top) / ms(get):.2f}")
    print(f"kubectl top pods with {a.deployments} HPAs syncing: median {ms(top2):.0f} ms")
    print(f"server CPU over {a.window:g}s real, {total} pods under metrics: "
          f"{quiet * 100:.1f}% of a core; with {a.deployments} HPAs: {busy * 100:.1f}% "
          f"(ratio {busy / quiet if quiet else float('nan'):.2f})")
    print(f"HPAs: utilization {figures} %, {replicas} replicas in all")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"server RSS {rss / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

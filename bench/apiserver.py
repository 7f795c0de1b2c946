"""Benchmark: the embedded API server with 1,000 pods.

Prints the median wall time of `kubectl get po` (server-side Table of 1,000 rows,
then kubectl's own printing) and the server's resident memory.

    .venv/bin/python bench/apiserver.py [--pods 1000] [--runs 7] [--nodes 10] [--pending]

--pending keeps the pods unscheduled (schedulerName nobody runs), measuring the
API server alone; by default they are scheduled and run on the simulated nodes.
"""

import argparse
import base64
import os
import ssl
import urllib.request
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402
import yaml  # noqa: E402
from kubernetes import client, config  # noqa: E402

from console.embedded import launch  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=1000)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--nodes", type=int, default=10)
    p.add_argument("--pending", action="store_true")
    a = p.parse_args()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("kubectl is not installed; nothing to measure", file=sys.stderr)
        return 2
    with launch.start(speed=20, nodes=a.nodes, timeout=120) as c:
        cfg = client.Configuration()
        config.load_kube_config(config_file=str(c.kubeconfig), client_configuration=cfg)
        cfg.connection_pool_maxsize = 8
        api = client.CoreV1Api(client.ApiClient(cfg))
        proc = psutil.Process(c.pid)
        rss0 = proc.memory_info().rss

        def make(i):
            spec = {"containers": [{"name": "c", "image": "nginx:1.25"}]}
            if a.pending:
                spec["schedulerName"] = "nobody"
            api.create_namespaced_pod("default", {"metadata": {"name": f"bench-{i:04d}",
                                                               "labels": {"app": "bench"}},
                                                  "spec": spec})
        t0 = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(make, range(a.pods)))
        created = time.monotonic() - t0
        if not a.pending:  # let the simulated kubelets settle the pods
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                pods = api.list_namespaced_pod("default", label_selector="app=bench").items
                if sum(1 for x in pods if x.status.phase == "Running") >= a.pods:
                    break
                time.sleep(2)
        times = []
        lines = 0
        for _ in range(a.runs):
            t = time.monotonic()
            r = subprocess.run([kubectl, "get", "po"], env=c.env(), capture_output=True,
                               text=True, timeout=120)
            times.append(time.monotonic() - t)
            lines = len(r.stdout.splitlines()) - 1
        t = time.monotonic()
        api.list_namespaced_pod("default")
        list_json = time.monotonic() - t
        table_times = []
        tls = ssl.create_default_context(cafile=None, cadata=base64.b64decode(yaml.safe_load(
            c.kubeconfig.read_text())["clusters"][0]["cluster"]["certificate-authority-data"]).decode())
        for _ in range(a.runs):  # what kubectl asks for, without kubectl's own start-up
            req = urllib.request.Request(c.server + "/api/v1/namespaces/default/pods", headers={
                "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io",
                "Authorization": f"Bearer {c.token}"})
            t = time.monotonic()
            with urllib.request.urlopen(req, context=tls, timeout=60) as r:
                r.read()
            table_times.append(time.monotonic() - t)
        rss = proc.memory_info().rss
        running = sum(1 for x in api.list_namespaced_pod("default").items
                      if x.status.phase == "Running")
    print(f"pods: {a.pods} created in {created:.1f}s ({running} Running), "
          f"kubectl get po rows: {lines}")
    print(f"kubectl get po: median {statistics.median(times) * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, {a.runs} runs)")
    print(f"server-side Table of {a.pods} pods over HTTPS: median "
          f"{statistics.median(table_times) * 1000:.0f} ms")
    print(f"official client list (JSON, {a.pods} pods, incl. its deserialising): "
          f"{list_json * 1000:.0f} ms")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"server RSS: {rss / 2**20:.0f} MiB (at start {rss0 / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

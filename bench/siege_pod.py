"""siege inside the cluster vs outside, and how long a trivial exec takes, in one run.

Starts `kubelab cluster`, a Service `web` over 3 nginx pods and the labs' siege
pod, then loads the Service the same way (-c, -t, -b) in turn with:
  in-pod   kubectl exec siege -- siege ...   (kubelab's engine, a child of the
           cluster, through the siege pod's own network)
  host     kubelab siege ... http://web/      (the Service's published loopback port)
  siege    Debian's siege on that same port   (scripts/bench-tools installs it if missing)
and prints each one's transaction rate (median of the rounds) with ratios; then
the wall time of `kubectl exec siege -- true` and of the same exec through the
official client (no kubectl start-up). Loopback only, bounded; asserts nothing.

    .venv/bin/python bench/siege_pod.py [-c 10] [-t 5] [--rounds 3] [--execs 20]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from console.embedded import launch  # noqa: E402

# siege's classic summary, or the JSON one Debian's siege 4.0.7 prints
RATE = re.compile(r'(?:Transaction rate:|"transaction_rate":)\s+([\d.]+)')


def kubectl(c, *args, check=True, input=None):
    return subprocess.run(["kubectl", *args], env=c.env(), capture_output=True, text=True,
                          check=check, input=input, timeout=600)


def rate(text: str) -> float:
    m = RATE.search(text)
    return float(m.group(1)) if m else float("nan")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("-c", type=int, default=10)
    p.add_argument("-t", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--execs", type=int, default=20)
    a = p.parse_args()
    if not shutil.which("kubectl"):
        raise SystemExit("needs kubectl")
    if subprocess.run([str(REPO / "scripts" / "bench-tools"), "siege"]).returncode != 0:
        raise SystemExit("needs siege (scripts/bench-tools)")
    c = launch.start(speed=20, nodes=2, timeout=120)
    try:
        kubectl(c, "create", "deployment", "web", "--image=nginx", "--replicas=3")
        kubectl(c, "expose", "deployment", "web", "--port=80")
        kubectl(c, "apply", "-f", str(REPO / "manifests" / "siege.yaml"))
        kubectl(c, "wait", "--for=condition=Ready", "pod", "--all", "--timeout=180s")
        while True:
            svc = json.loads(kubectl(c, "get", "svc", "web", "-o", "json").stdout)
            ports = json.loads((svc["metadata"].get("annotations") or {}).get(
                "kubelab.dev/host-ports", "{}"))
            if "80" in ports:
                break
            time.sleep(0.2)
        address = ports["80"]
        load = [f"-c{a.c}", f"-t{a.t}S", "-b"]
        runs = {
            "in-pod": lambda: kubectl(c, "exec", "siege", "--", "siege", *load, "http://web/").stderr,
            "host": lambda: subprocess.run(
                [str(REPO / ".venv" / "bin" / "python"), "-m", "console.cli", "siege", *load,
                 "--no-log", "http://web/"], env=c.env(), capture_output=True, text=True,
                timeout=600).stderr,
            "siege": lambda: subprocess.run(
                ["siege", *load, f"http://{address}/"], capture_output=True, text=True,
                timeout=600, env={**os.environ, "HOME": "/tmp"}).stdout,
        }
        got = {k: [] for k in runs}
        for _ in range(a.rounds):
            for name, run in runs.items():
                got[name].append(rate(run()))
        med = {k: statistics.median(v) for k, v in got.items()}
        print(f"Service web (3 nginx pods), -c{a.c} -t{a.t}S -b, median of {a.rounds} rounds:")
        for k, v in med.items():
            print(f"  {k:<7} {v:9.1f} trans/s   rounds: {', '.join(f'{x:.0f}' for x in got[k])}")
        print(f"  in-pod / host  = {med['in-pod'] / med['host']:.2f}x")
        print(f"  in-pod / siege = {med['in-pod'] / med['siege']:.2f}x")
        print(f"  host / siege   = {med['host'] / med['siege']:.2f}x")

        walls = []
        for _ in range(a.execs):
            t0 = time.perf_counter()
            kubectl(c, "exec", "siege", "--", "true")
            walls.append(time.perf_counter() - t0)
        from kubernetes import client, config
        from kubernetes.stream import stream
        cfg = client.Configuration()
        config.load_kube_config(config_file=str(c.kubeconfig), client_configuration=cfg)
        core = client.CoreV1Api(client.ApiClient(cfg))
        direct = []
        for _ in range(a.execs):
            t0 = time.perf_counter()
            stream(core.connect_get_namespaced_pod_exec, "siege", "default", command=["true"],
                   stdout=True, stderr=True, stdin=False, tty=False)
            direct.append(time.perf_counter() - t0)
        print(f"exec of `true` ({a.execs} each): kubectl exec median "
              f"{statistics.median(walls) * 1000:.0f} ms (p90 {sorted(walls)[int(len(walls) * .9)] * 1000:.0f}); "
              f"official client median {statistics.median(direct) * 1000:.1f} ms "
              f"(p90 {sorted(direct)[int(len(direct) * .9)] * 1000:.1f})")
    finally:
        c.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

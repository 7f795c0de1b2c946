"""The ways a load run reaches a Service, side by side in one run, and two survival figures.

Starts `kubelab cluster --data DIR`, a Service `web` over 3 nginx pods and the labs'
siege pod, and runs the same siege line through the console's session by each path
(console/cluster/route.py):
  loopback      the embedded cluster's published listener (the default here)
  port-forward  through the API server's pods/portforward (SPDY over WebSocket)
  siege-pod     siege inside the siege pod, through exec, its output read back
and, as the peer, `kubectl port-forward svc/web :80` (one pod, picked when it starts)
with the same load at its local port; prints each one's transaction rate (median of
the rounds) with ratios to loopback. Then, the same churn under both forwards: the
pods deleted one by one, requests failed and whether the forward lived through it
(ours re-targets; kubectl's ends with its pod); and the seconds from a killed and
restarted API server (SIGKILL, same --data) to the session's watches being live
again. Loopback only, bounded; asserts nothing.

    .venv/bin/python bench/load_paths.py [-c 8] [-t 8] [--rounds 3]
"""

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from console import bus  # noqa: E402
from console.cluster import actions, rest  # noqa: E402
from console.cluster.connect import from_kubeconfig  # noqa: E402
from console.cluster.session import Session  # noqa: E402
from console.embedded import launch  # noqa: E402
from tests.cluster.helpers import ready_pods as ready, wait_for  # noqa: E402

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.25", ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 80}]}
"""


def wait(cond, timeout=180):
    return wait_for(cond, timeout, "the bench's cluster")


def kubectl_forward(cluster) -> tuple[subprocess.Popen, int]:
    """`kubectl port-forward svc/web :80`, and the local port it printed."""
    proc = subprocess.Popen(["kubectl", "port-forward", "svc/web", ":80"], env=cluster.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    m = re.search(r"127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"kubectl port-forward: {line.strip() or 'no output'}")
    return proc, int(m.group(1))


def churn(conn, r, victims) -> None:
    """Delete the pods `victims()` names, one at a time, each once its replacement is ready."""
    wait(lambda: r.last and r.last["transactions"] > 50, 60)
    for _ in range(3):
        victim = victims()
        actions.delete_pod(conn, victim)
        wait(lambda: victim not in ready(conn, "app=web") and len(ready(conn, "app=web")) == 3)


def run(session, line: str, via: str) -> dict:
    r = session.load.start(line, via=via)
    r.done.wait(600)
    if r.result is None:
        raise SystemExit(f"{via}: {r.error}")
    return r.result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-c", type=int, default=8)
    ap.add_argument("-t", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kubelab-bench-"))
    c = launch.start(speed=20, data=tmp / "data", kubeconfig=tmp / "kubeconfig")
    try:
        conn = from_kubeconfig(str(c.kubeconfig))
        assert actions.apply(conn, rest.parse_manifest(WEB)).ok
        assert actions.apply(conn, "manifests/siege.yaml").ok
        wait(lambda: len(ready(conn, "app=web")) == 3 and "siege" in ready(conn, ""))
        session = Session(conn)
        line = f"-c{a.c} -t{a.t}S -b http://web/"
        kubectl = shutil.which("kubectl")
        rates = {}
        for via in ("loopback", "port-forward", "siege-pod") + (("kubectl",) if kubectl else ()):
            got = []
            for _ in range(a.rounds):
                if via == "kubectl":
                    proc, port = kubectl_forward(c)
                    got.append(run(session, line.replace("http://web/", f"http://127.0.0.1:{port}/"),
                                   "auto")["transaction_rate"])
                    proc.kill()
                    proc.wait()
                else:
                    got.append(run(session, line, via)["transaction_rate"])
            rates[via] = statistics.median(got)
        print(f"siege {line} ({a.rounds} rounds, median), 3 nginx pods behind Service web:")
        names = {"kubectl": "kubectl port-forward svc/web (peer)"}
        for via, rate in rates.items():
            print(f"  {names.get(via, via):<36} {rate:9.1f} trans/s   "
                  f"x{rate / rates['loopback']:.2f} of loopback")

        # the same churn under both forwards: 3 pods deleted, one at a time, graceful
        churn_line = f"-c4 -t{max(20, 4 * a.t)}S --failures 100000 "
        r = session.load.start(churn_line + "http://web/", via="port-forward")
        hub = session.forwarder()

        def busiest():
            in_use = wait(lambda: hub.stats("default", "web", 80)["in_use"], 30)
            return max(in_use, key=in_use.get)
        churn(conn, r, busiest)
        session.load.stop(r.name)
        r.done.wait(120)
        fwd = r.result["path"]["forwards"][0]
        print(f"under churn (3 pods deleted one by one, graceful, -c4):\n"
              f"  {'port-forward (ours)':<36} {r.result['transactions']:6d} ok "
              f"{r.result['failed_transactions']:6d} failed; lived through it; re-targets "
              f"{fwd['retargets']}, connections {fwd['connections']}, dropped {fwd['dropped']}")
        if kubectl:
            proc, port = kubectl_forward(c)
            r = session.load.start(churn_line + f"http://127.0.0.1:{port}/", via="auto")
            gone = iter(sorted(ready(conn, "app=web")))
            churn(conn, r, lambda: next(gone))        # each of the three pods kubectl may use
            session.load.stop(r.name)
            r.done.wait(120)
            alive = proc.poll() is None
            proc.kill()
            said = (proc.communicate()[0] or "").strip().splitlines()
            print(f"  {names['kubectl']:<36} {r.result['transactions']:6d} ok "
                  f"{r.result['failed_transactions']:6d} failed; "
                  + ("lived through it" if alive else f"ended: {said[-1] if said else '?'}"))

        # the API server killed and restarted under the session's watches
        sub = session.bus.subscribe()
        session.watch()
        down = []

        def live() -> bool:
            for ev in sub.get_batch(timeout=0.2):
                session.state.apply(ev)
                if isinstance(ev, bus.WatchState) and ev.state != "live":
                    down.append(ev)
            return session.state.link_summary()[0] == "live"
        wait(live, 60)
        down.clear()
        c.kill()
        c = launch.start(speed=20, data=tmp / "data", kubeconfig=tmp / "kubeconfig")
        t0 = time.monotonic()
        wait(lambda: live() and down, 120)
        print(f"API server SIGKILLed and restarted (--data): watches live again "
              f"{time.monotonic() - t0:.1f}s after the new server answered")
        session.close(disconnect=False)
        conn.close()
    finally:
        c.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the embedded cluster at scale, each figure beside its goal (issue 13).

For each --pods N, on a fresh `kubelab cluster --speed 50 --nodes 20 --max-pods 253`:

- ready: a Deployment `roll` of 1,000 nginx pods and one `bench` of the rest,
  behind one Service, from the create to every pod Running and Ready
  (goal at 5,000: < 15 s; --probe S gives them a readiness probe of period S), and
  the server's CPU time meanwhile and over the whole run (steadier than wall time
  on a busy machine);
- rss: the server's resident memory with them, and its peak (goal < 500 MB);
- share: `kubectl get po` over the N pods, and the server's share of it: kubectl's
  own requests (the Table in pages of 500, over one kept-alive connection) timed
  from here, over kubectl's whole wall time (goal < 1/5); the peer is kubectl alone,
  `kubectl get po` on an empty namespace, in the same run;
- watch: 10 clients watching the namespace's pods (half JSON as informers, half
  Table as `kubectl get po -w`) while `roll` rolls out (`kubectl rollout
  restart`): how long after its write each event reached each client (the store's
  resourceVersion is sampled every 50 ms; lag is taken from the middle of the
  sample interval that saw the write), streams the server closed for falling behind
  (goal 0), and clients whose state equals the store's at the end (goal all);
- slices: the Service's EndpointSlice writes as a watcher of them sees them, for one
  pod added to `roll` (scaled up by one until it is Ready), for one removed (scaled
  back), and through the rollout; and the slices there are at the end (with
  maxEndpointsPerSlice 100, a pod added or removed should touch one slice).

    .venv/bin/python bench/apiserver.py [--pods 1000 5000] [--runs 5] [--nodes 20]
        [--speed 50] [--max-pods 253] [--watchers 10] [--rollout 1000] [--probe S] [--json FILE]
"""

import argparse
import base64
import http.client
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402
import yaml  # noqa: E402

from console.embedded import launch  # noqa: E402

HERE = Path(__file__).resolve().parent
TABLE = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
         "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")
GOALS = {"ready": 15.0, "rss": 500.0, "share": 0.2}


class Api:
    """A kept-alive HTTPS connection to the cluster (one per thread)."""

    def __init__(self, c: launch.RunningCluster):
        self.url = urlsplit(c.server)
        cfg = yaml.safe_load(c.kubeconfig.read_text())
        self.ca = base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"])
        self.token = c.token
        self.tls = ssl.create_default_context(cadata=self.ca.decode())
        self.conn = None

    def call(self, method: str, path: str, body=None, accept: str = "application/json",
             ctype: str = "application/json"):
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(self.url.hostname, self.url.port,
                                                    context=self.tls, timeout=120)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": accept}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = ctype
        self.conn.request(method, path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        if resp.status >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status} {raw[:300]!r}")
        return json.loads(raw)


def deployment(name: str, replicas: int, probe: int = 0) -> dict:
    labels = {"app": "bench", "tier": name}
    container = {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}
    if probe:
        container["readinessProbe"] = {"httpGet": {"path": "/", "port": 80}, "periodSeconds": probe}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}}


class Peak(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.wait(0.2):
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return


class SliceWatch(threading.Thread):
    """The EndpointSlices of one Service as a watcher sees them: every ADDED,
    MODIFIED and DELETED with when it arrived and the slice's name."""

    def __init__(self, api: Api, namespace: str, service: str):
        super().__init__(daemon=True)
        self.api, self.namespace, self.service = api, namespace, service
        self.events: list[tuple[float, str, str]] = []
        self.opened = threading.Event()

    def run(self):
        path = (f"/apis/discovery.k8s.io/v1/namespaces/{self.namespace}/endpointslices"
                f"?labelSelector=kubernetes.io%2Fservice-name%3D{self.service}")
        rv = self.api.call("GET", path)["metadata"]["resourceVersion"]
        conn = http.client.HTTPSConnection(self.api.url.hostname, self.api.url.port,
                                           context=self.api.tls, timeout=600)
        conn.request("GET", f"{path}&watch=1&resourceVersion={rv}",
                     headers={"Authorization": f"Bearer {self.api.token}"})
        resp = conn.getresponse()
        self.opened.set()
        while line := resp.readline():
            ev = json.loads(line)
            if ev["type"] in ("ADDED", "MODIFIED", "DELETED"):
                self.events.append((time.monotonic(), ev["type"], ev["object"]["metadata"]["name"]))

    def since(self, t: float) -> list[tuple[float, str, str]]:
        return [e for e in list(self.events) if e[0] >= t]

    def quiet(self, deadline: float, still: float = 1.0) -> None:
        """Until no slice event has come for `still` seconds."""
        while time.monotonic() < deadline:
            last = self.events[-1][0] if self.events else 0.0
            if time.monotonic() - last >= still:
                return
            time.sleep(0.1)


def one_pod_writes(api: Api, slices: SliceWatch, replicas: int, total: int, deadline: float) -> dict:
    """Slice writes for one pod added to `roll` (until Ready and quiet) and one removed."""
    path = "/apis/apps/v1/namespaces/default/deployments/roll"
    out = {}
    for label, n, pods in (("add", replicas + 1, total + 1), ("remove", replicas, total)):
        slices.quiet(deadline)
        t = time.monotonic()
        api.call("PATCH", path, {"spec": {"replicas": n}}, ctype="application/merge-patch+json")
        while time.monotonic() < deadline:
            d = api.call("GET", path)
            if (d.get("status") or {}).get("readyReplicas") == n and \
                    len(api.call("GET", "/api/v1/namespaces/default/pods")["items"]) == pods:
                break
            time.sleep(0.1)
        else:
            raise TimeoutError(f"roll did not reach {n} Ready replicas in time")
        slices.quiet(deadline)
        evs = slices.since(t)
        out[f"slice_{label}_writes"] = len(evs)
        out[f"slice_{label}_touched"] = len({name for _, _, name in evs})
    return out


def wait_ready(api: Api, want: dict[str, int], deadline: float) -> None:
    while time.monotonic() < deadline:
        items = api.call("GET", "/apis/apps/v1/namespaces/default/deployments")["items"]
        ready = {d["metadata"]["name"]: (d.get("status") or {}).get("readyReplicas", 0) for d in items}
        if all(ready.get(k, 0) >= n for k, n in want.items()):
            return
        time.sleep(0.1)
    raise TimeoutError(f"not Ready in time: {want}")


def pods_ready(api: Api) -> tuple[int, int]:
    items = api.call("GET", "/api/v1/namespaces/default/pods")["items"]
    ok = sum(1 for p in items if (p.get("status") or {}).get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in p["status"].get("conditions") or []))
    return ok, len(items)


def kubectl_times(kubectl: str, env: dict, namespace: str, runs: int) -> tuple[list[float], int]:
    times, rows = [], 0
    for _ in range(runs):
        t = time.monotonic()
        r = subprocess.run([kubectl, "get", "po", "-n", namespace], env=env, capture_output=True,
                           text=True, timeout=180)
        times.append(time.monotonic() - t)
        rows = max(0, len(r.stdout.splitlines()) - 1)
    return times, rows


def kubectls_requests(api: Api, namespace: str) -> float:
    """What `kubectl get po` asks of the server: the Table in chunks of 500."""
    t = time.monotonic()
    cont = ""
    while True:
        page = api.call("GET", f"/api/v1/namespaces/{namespace}/pods?limit=500"
                        + (f"&continue={cont}" if cont else ""), accept=TABLE)
        cont = page["metadata"].get("continue")
        if not cont:
            return time.monotonic() - t


class RvSampler(threading.Thread):
    """(time, store resourceVersion) every 50 ms: a list of an empty namespace."""

    def __init__(self, api: Api):
        super().__init__(daemon=True)
        self.api = api
        self.samples: list[tuple[float, int]] = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            t = time.monotonic()
            rv = int(self.api.call("GET", "/api/v1/namespaces/empty/configmaps?limit=1")
                     ["metadata"]["resourceVersion"])
            self.samples.append(((t + time.monotonic()) / 2, rv))
            self.halt.wait(0.05)

    def written(self, rv: int) -> float | None:
        """Estimated time the store reached rv: the middle of the interval that saw it."""
        s = self.samples
        lo, hi = 0, len(s)
        while lo < hi:
            mid = (lo + hi) // 2
            if s[mid][1] >= rv:
                hi = mid
            else:
                lo = mid + 1
        if lo == 0 or lo == len(s):
            return None
        return (s[lo - 1][0] + s[lo][0]) / 2


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def watch_rollout(c, api: Api, slices: "SliceWatch", n_watchers: int, rollout: int, total: int,
                  deadline: float) -> dict:
    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as f:
        f.write(api.ca)
        cafile = f.name
    clients = []
    for i in range(n_watchers):
        mode = "json" if i % 2 == 0 else "table"
        clients.append(subprocess.Popen(
            [sys.executable, str(HERE / "watchclient.py"), c.server, c.token, cafile, "default", mode],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for p in clients:
        line = p.stdout.readline().strip()
        if line != "watching":
            raise RuntimeError(f"watch client: {line}")
    sampler = RvSampler(Api(c))
    sampler.start()
    time.sleep(0.3)
    slices.quiet(deadline)
    t0 = time.monotonic()
    api.call("PATCH", "/apis/apps/v1/namespaces/default/deployments/roll", {
        "spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ")}}}}},
        ctype="application/strategic-merge-patch+json")
    while time.monotonic() < deadline:
        d = api.call("GET", "/apis/apps/v1/namespaces/default/deployments/roll")
        s = d.get("status") or {}
        if (s.get("observedGeneration", 0) >= d["metadata"]["generation"]
                and s.get("updatedReplicas") == rollout == s.get("replicas") == s.get("readyReplicas")
                and len(api.call("GET", "/api/v1/namespaces/default/pods")["items"]) == total):
            break
        time.sleep(0.25)
    else:
        raise TimeoutError("the rollout did not finish in time")
    took = time.monotonic() - t0
    # the store once quiet: the same pods and versions twice, a second apart
    last = None
    while time.monotonic() < deadline:
        now = {p["metadata"]["name"]: p["metadata"]["resourceVersion"]
               for p in api.call("GET", "/api/v1/namespaces/default/pods")["items"]}
        if now == last:
            break
        last = now
        time.sleep(1.0)
    sampler.halt.set()
    sampler.join()
    slices.quiet(deadline)
    slice_events = slices.since(t0)
    results = []
    for p in clients:
        p.stdin.write(json.dumps(last) + "\n")
        p.stdin.flush()
    for p in clients:
        results.append(json.loads(p.stdout.readline()))
        p.wait(30)
    os.unlink(cafile)
    lags = []
    for r in results:
        for t, rv in r["arrivals"]:
            w = sampler.written(rv)
            if w is not None and t >= t0:
                lags.append(max(0.0, t - w))
    return {"rollout_s": took, "events": sum(len(r["arrivals"]) for r in results),
            "lag_p50": pct(lags, 50), "lag_p99": pct(lags, 99), "lag_max": max(lags, default=0.0),
            "ended": sum(r["ended"] for r in results),
            "same": sum(1 for r in results if r["same"]), "clients": len(results),
            "catch_up": max(r["catch_up"] for r in results),
            "slice_rollout_writes": len(slice_events),
            "slice_rollout_touched": len({name for _, _, name in slice_events})}


def measure(a, pods: int, kubectl: str) -> dict:
    out = {"pods": pods}
    t = time.monotonic()
    with launch.start(speed=a.speed, nodes=a.nodes, max_pods=a.max_pods, timeout=120) as c:
        out["start_s"] = time.monotonic() - t
        api = Api(c)
        proc = psutil.Process(c.pid)
        out["rss0"] = proc.memory_info().rss / 2**20
        peak = Peak(c.pid)
        peak.start()
        api.call("POST", "/api/v1/namespaces", {"metadata": {"name": "empty"}})
        subprocess.run([kubectl, "get", "po", "-n", "empty"], env=c.env(), capture_output=True,
                       timeout=120)   # kubectl's discovery cache
        empty, _ = kubectl_times(kubectl, c.env(), "empty", a.runs)
        out["kubectl_empty"] = statistics.median(empty)
        rollout = min(a.rollout, pods)
        want = {"roll": rollout}
        if pods > rollout:
            want["bench"] = pods - rollout
        api.call("POST", "/api/v1/namespaces/default/services", {
            "metadata": {"name": "bench"},
            "spec": {"selector": {"app": "bench"}, "ports": [{"port": 80, "targetPort": 80}]}})
        slices = SliceWatch(Api(c), "default", "bench")
        slices.start()
        slices.opened.wait(60)
        deadline = time.monotonic() + a.timeout
        t = time.monotonic()
        for name, n in want.items():
            api.call("POST", "/apis/apps/v1/namespaces/default/deployments",
                     deployment(name, n, a.probe))
        cpu0 = sum(proc.cpu_times()[:2])
        wait_ready(api, want, deadline)
        out["ready_s"] = time.monotonic() - t
        out["ready_cpu"] = sum(proc.cpu_times()[:2]) - cpu0
        out["ready_pods"], out["listed"] = pods_ready(api)
        out["rss"] = proc.memory_info().rss / 2**20
        times, rows = kubectl_times(kubectl, c.env(), "default", a.runs)
        out["kubectl"] = statistics.median(times)
        out["rows"] = rows
        reqs = [kubectls_requests(api, "default") for _ in range(a.runs)]
        out["server"] = statistics.median(reqs)
        out["share"] = out["server"] / out["kubectl"]
        out.update(one_pod_writes(api, slices, rollout, pods, time.monotonic() + a.timeout))
        if a.watchers:
            out.update(watch_rollout(c, api, slices, a.watchers, rollout, pods,
                                     time.monotonic() + a.timeout))
        final = api.call("GET", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
                         "?labelSelector=kubernetes.io%2Fservice-name%3Dbench")["items"]
        out["slices"] = len(final)
        out["slice_endpoints"] = sum(len(s.get("endpoints") or []) for s in final)
        out["rss_end"] = proc.memory_info().rss / 2**20
        out["cpu_total"] = sum(proc.cpu_times()[:2])
        peak.halt.set()
        out["rss_peak"] = max(peak.peak / 2**20, out["rss_end"])
        out["load"] = os.getloadavg()[0]
    return out


def report(results: list[dict], a) -> None:
    print(f"\nembedded cluster: --speed {a.speed:g} --nodes {a.nodes} --max-pods {a.max_pods}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    cols = [f"{r['pods']:,} pods" for r in results]
    print(f"{'figure':<52}" + "".join(f"{h:>14}" for h in cols) + "   goal")

    def row(label, fmt, key, goal=""):
        cells = "".join(f"{fmt(r) if key(r) is not None else '-':>14}" for r in results)
        print(f"{label:<52}{cells}   {goal}")
    row("cluster start-up (s)", lambda r: f"{r['start_s']:.1f}", lambda r: r["start_s"])
    row("all pods Running and Ready (s)", lambda r: f"{r['ready_s']:.1f}", lambda r: r["ready_s"],
        f"< {GOALS['ready']:g} s at 5,000")
    row("  pods Running and Ready / listed", lambda r: f"{r['ready_pods']}/{r['listed']}",
        lambda r: r["listed"])
    row("  server CPU meanwhile (s, user+system)", lambda r: f"{r['ready_cpu']:.1f}",
        lambda r: r.get("ready_cpu"))
    row("server CPU over the whole run (s)", lambda r: f"{r['cpu_total']:.1f}",
        lambda r: r.get("cpu_total"))
    row("server RSS with them (MB)", lambda r: f"{r['rss']:.0f}", lambda r: r["rss"],
        f"< {GOALS['rss']:g} MB")
    row("  server RSS peak over the run (MB)", lambda r: f"{r['rss_peak']:.0f}", lambda r: r["rss_peak"])
    row("kubectl get po, median (ms)", lambda r: f"{r['kubectl'] * 1000:.0f}", lambda r: r["kubectl"])
    row("  peer: kubectl alone, empty namespace (ms)", lambda r: f"{r['kubectl_empty'] * 1000:.0f}",
        lambda r: r["kubectl_empty"])
    row("  kubectl's requests to the server (ms)", lambda r: f"{r['server'] * 1000:.0f}",
        lambda r: r["server"])
    row("  server's share of kubectl get po", lambda r: f"{r['share']:.2f}", lambda r: r["share"],
        f"< {GOALS['share']:g}")
    if a.watchers:
        row(f"rollout of {a.rollout:,} with {a.watchers} watchers (s)",
            lambda r: f"{r['rollout_s']:.1f}", lambda r: r.get("rollout_s"))
        row("  events delivered (all clients)", lambda r: f"{r['events']:,}", lambda r: r.get("events"))
        row("  watch lag p50 / p99 (ms)",
            lambda r: f"{r['lag_p50'] * 1000:.0f} / {r['lag_p99'] * 1000:.0f}",
            lambda r: r.get("lag_p50"))
        row("  watch lag max (ms)", lambda r: f"{r['lag_max'] * 1000:.0f}", lambda r: r.get("lag_max"))
        row("  streams closed by the server", lambda r: f"{r['ended']}", lambda r: r.get("ended"), "0")
        row("  clients equal to the store at the end", lambda r: f"{r['same']}/{r['clients']}",
            lambda r: r.get("same"), "all")
        row("  slowest client's catch-up after quiet (ms)", lambda r: f"{r['catch_up'] * 1000:.0f}",
            lambda r: r.get("catch_up"))
        row("  EndpointSlice writes in the rollout / slices touched",
            lambda r: f"{r['slice_rollout_writes']:,} / {r['slice_rollout_touched']}",
            lambda r: r.get("slice_rollout_writes"))
    row("EndpointSlice writes for one pod added / slices touched",
        lambda r: f"{r['slice_add_writes']} / {r['slice_add_touched']}", lambda r: r["slice_add_writes"],
        "1 slice")
    row("  for one pod removed / slices touched",
        lambda r: f"{r['slice_remove_writes']} / {r['slice_remove_touched']}",
        lambda r: r["slice_remove_writes"], "1 slice")
    row("  slices at the end / endpoints in them",
        lambda r: f"{r['slices']} / {r['slice_endpoints']:,}", lambda r: r["slices"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, nargs="+", default=[1000, 5000])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--nodes", type=int, default=20)
    p.add_argument("--speed", type=float, default=50)
    p.add_argument("--max-pods", type=int, default=253)
    p.add_argument("--watchers", type=int, default=10)
    p.add_argument("--rollout", type=int, default=1000)
    p.add_argument("--probe", type=int, default=0, metavar="SECONDS",
                   help="give the pods an HTTP readiness probe of this period (default none)")
    p.add_argument("--timeout", type=float, default=600, help="each phase's limit (s)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    a = p.parse_args()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("kubectl is not installed; nothing to measure", file=sys.stderr)
        return 2
    results = []
    for n in a.pods:
        print(f"measuring {n:,} pods ...", file=sys.stderr, flush=True)
        results.append(measure(a, n, kubectl))
        if a.json:
            a.json.write_text(json.dumps(results, indent=1))
    report(results, a)
    return 0


if __name__ == "__main__":
    sys.exit(main())

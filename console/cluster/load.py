"""Load runs of a session: siege syntax in, figures and siege's summary out, on the bus.

The console's `l` key and a scenario's `load.start` both come here. route.py
picks how the URLs' in-cluster names are reached (the embedded cluster's loopback
listeners, a LoadBalancer or NodePort address, a port-forward through the API
server, or the lab's siege pod), unless the session or the call forces one. The
load worker (console.loadgen.worker, a child process) runs the first three; the
siege pod runs siege itself (podsiege.py). Either way the snapshots go on the bus
as LoadSample and the end as LoadDone with siege's summary and the same result
fields, with "path" saying which way they were measured (also in the run log).
A run can be time-compressed (`timescale`): on an embedded cluster at --speed N a
scenario's `-t60S --delay=1S` covers the same 60 s of cluster time in 60/N s.
A run is anything with `running`, `snapshots()`, `stop()` and `result(timeout)`.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from console import bus
from console.errors import UsageError


def compress(spec, timescale: float):
    """The same run on a clock `timescale` times faster (-t and --delay shrink)."""
    if timescale == 1:
        return spec
    return dataclasses.replace(spec, seconds=None if spec.seconds is None else spec.seconds / timescale,
                               delay=spec.delay / timescale)


def figures(snapshot: dict | None, result: dict | None) -> dict:
    """The numbers a scenario checks, from the final result or else the newest snapshot."""
    if result is not None:
        lat = result.get("latency") or {}
        return {"done": True, "availability": result.get("availability", 0.0),
                "transactions": result.get("transactions", 0),
                "failures": result.get("failed_transactions", 0),
                "requests": result.get("requests", 0),
                "elapsed": result.get("elapsed_time", 0.0),
                "aborted": bool(result.get("aborted")),
                "codes": dict(result.get("status_codes") or {}),
                "errors": dict(result.get("errors") or {}),
                "path": (result.get("path") or {}).get("kind"),
                **{k: lat.get(k) for k in ("p50", "p90", "p95", "p99", "max")}}
    snap = snapshot or {}
    lat = snap.get("latency") or {}
    return {"done": False, "availability": snap.get("availability", 0.0),
            "transactions": snap.get("transactions", 0), "failures": snap.get("failed", 0),
            "requests": snap.get("requests", 0), "elapsed": snap.get("elapsed", 0.0),
            "aborted": False, "codes": dict(snap.get("status_codes") or {}),
            "errors": dict(snap.get("errors") or {}),
            **{k: lat.get(k) for k in ("p50", "p90", "p95", "p99", "max")}}


class LoadRun:
    """One run: its worker, its newest snapshot, and at the end its result and summary."""

    def __init__(self, name: str, text: str, spec, worker, route=None):
        self.name, self.text, self.spec, self.worker = name, text, spec, worker
        self.route = route                   # route.Route: how the targets were reached
        self.last: dict | None = None
        self.result: dict | None = None
        self.summary = ""
        self.error: str | None = None
        self.started = threading.Event()     # the first snapshot: requests are going out
        self.done = threading.Event()

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    def stop(self) -> None:
        self.worker.stop()

    def figures(self) -> dict:
        return figures(self.last, self.result)


class LoadRuns:
    """The session's load runs; at most one from the console at a time, any number
    from scenarios (each named)."""

    def __init__(self, session):
        self.session = session
        self.runs: dict[str, LoadRun] = {}
        self.summaries: list[str] = []     # every finished run's siege summary, oldest first
        self._lock = threading.Lock()
        self._seq = 0

    @property
    def current(self) -> LoadRun | None:
        """The newest run still going."""
        going = [r for r in self.runs.values() if r.running]
        return going[-1] if going else None

    def get(self, name: str | None = None) -> LoadRun | None:
        """A run by name, or the newest one."""
        if name is None:
            return list(self.runs.values())[-1] if self.runs else None
        return self.runs.get(name)

    def prepare(self, text: str, timescale: float = 1.0, conn=None, via: str | None = None,
                pod: str | None = None):
        """The run's Spec and Route, or UsageError in one line (nothing started).
        In-cluster names resolve in `conn`'s namespace (default: the session's); `pod`
        names the pod to run siege in (via siege-pod)."""
        from console.cluster import rest, route
        from console.loadgen.options import parse_line

        conn = conn or self.session.conn
        if conn is None:
            raise UsageError("not connected to a cluster")
        spec = parse_line(text)

        def items(kind: str, quiet: bool = False) -> list[dict] | None:
            try:
                return rest.call(conn.api, "GET", rest.path_for(kind, conn.namespace)).get("items") or []
            except Exception:
                if quiet:
                    return None
                raise
        want = "siege-pod" if pod else via or self.session.load_path

        def nodes():
            try:
                return rest.call(conn.api, "GET", "/api/v1/nodes").get("items") or []
            except Exception:
                return None                # nodes may not be ours to list: no NodePort then
        plan = route.plan(conn, spec, items("Service"), lambda: items("Pod", quiet=True) or [],
                          self.session.access_for(conn), want, nodes, pod=pod)
        return compress(spec, timescale), plan

    def start(self, text: str, name: str | None = None, timescale: float = 1.0, conn=None,
              via: str | None = None, pod: str | None = None) -> LoadRun:
        """Start a run (UsageError if the line or its targets are bad); `via` forces a path,
        `pod` runs siege in that pod (`kubectl exec POD -- siege ...`, podsiege.py)."""
        from console.loadgen.resolve import StaticResolver
        from console.loadgen.worker import LoadWorker

        conn = conn or self.session.conn
        spec, plan = self.prepare(text, timescale, conn, via, pod)
        with self._lock:
            self._seq += 1
            name = name or f"load-{self._seq}"
            if name in self.runs and self.runs[name].running:
                raise UsageError(f"load run {name!r} is already going")
        if plan.kind == "siege-pod":
            from console.cluster.podsiege import PodSiege, pod_argv
            worker = PodSiege(conn, plan.pod, pod_argv(text, timescale), spec, plan.as_dict()).start()
        else:
            table = dict(plan.table)
            if plan.kind == "port-forward":
                hub = self.session.forwarder()
                for ns, svc, port, host in plan.targets:
                    table[f"{host}:{port}"] = hub.forward(ns, svc, port)
            worker = LoadWorker(spec, StaticResolver(table), path=plan.as_dict()).start()
        run = LoadRun(name, text, spec, worker, plan)
        with self._lock:
            self.runs[name] = run
        self.session.bus.publish(bus.LoadStarted(run=name, command=text, seconds=spec.seconds,
                                                 path=plan.kind, reason=plan.reason))
        threading.Thread(target=self._pump, args=(run,), name=f"load-pump-{name}", daemon=True).start()
        return run

    def _pump(self, run: LoadRun) -> None:
        """Worker snapshots -> bus (the bus keeps the newest); the result -> LoadDone."""
        from console.loadgen import summary

        w = run.worker
        data: dict = {}
        try:
            while w.running:
                for snap in w.snapshots():
                    run.last = snap
                    run.started.set()
                    self.session.bus.publish(bus.LoadSample(run=run.name, data=snap))
                time.sleep(0.1)
            result = w.result(timeout=30)
            if result is None:
                run.error = w.error or "load worker gave no result"
                run.summary = f"load run failed: {run.error}"
                data = {"error": run.error}
            else:
                route = run.route
                if route is not None:
                    result["path"] = route.as_dict()
                    if route.kind == "port-forward":
                        hub = self.session.forwarder()
                        result["path"]["forwards"] = [hub.stats(ns, svc, port)
                                                      for ns, svc, port, _ in route.targets]
                run.result = result
                # siege's own words when it ran in a pod; ours, field for field, otherwise
                run.summary = getattr(w, "summary", None) or summary.text(result, run.spec.failures)
                data = result
                self.summaries.append(run.summary)
        except Exception as exc:          # never leave a run that looks alive
            run.error = f"load run failed: {type(exc).__name__}: {exc}"
            run.summary, data = run.error, {"error": run.error}
        finally:
            run.started.set()
            run.done.set()
            self.session.bus.publish(bus.LoadDone(run=run.name, summary=run.summary, data=data))

    def stop(self, name: str | None = None) -> LoadRun | None:
        run = self.get(name) if name else self.current
        if run is not None and run.running:
            run.stop()
            return run
        return None

    def stop_all(self, wait: float = 0.0) -> None:
        """End every run; with `wait`, give each that long to hand in its summary."""
        going = [r for r in self.runs.values() if r.running]
        for run in going:
            run.stop()
        for run in going:
            if wait:
                run.done.wait(wait)

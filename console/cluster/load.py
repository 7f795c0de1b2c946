"""Load runs of a session: siege syntax in, figures and siege's summary out, on the bus.

The console's `l` key and a scenario's `load.start` both come here. A run goes
through the load worker (console.loadgen.worker, a child process) against the
loopback addresses the cluster publishes for its Services; its snapshots go on
the bus as LoadSample, its end as LoadDone with siege's summary. A run can be
time-compressed (`timescale`): on an embedded cluster at --speed N a scenario's
`-t60S --delay=1S` covers the same 60 s of cluster time in 60/N s.

Seam for other paths (issue 12: port-forward, the siege pod): a run is anything
with `running`, `snapshots()`, `stop()` and `result(timeout)`; `LoadRuns.start`
picks the path.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from console import bus
from console.cluster.printer import ports_annotation
from console.errors import UsageError


def resolver_table(services: list[dict]) -> dict[str, tuple[str, int]]:
    """Service names as a pod would write them -> the loopback address published for them."""
    table = {}
    for svc in services:
        meta = svc.get("metadata", {})
        name, ns = meta.get("name", ""), meta.get("namespace", "default")
        for port, addr in ports_annotation(svc).items():
            host, _, p = str(addr).rpartition(":")
            for alias in (name, f"{name}.{ns}", f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local"):
                table[f"{alias}:{port}"] = (host or "127.0.0.1", int(p))
    return table


def check_targets(spec, table: dict) -> None:
    """A Service name that is not published here fails now, in one line."""
    from yarl import URL

    from console.loadgen.resolve import cluster_name
    for t in spec.targets:
        u = URL(t.url)
        name = cluster_name(u.host or "")
        if name and name[2] and f"{u.host}:{u.port}" not in table:
            raise UsageError(f"service {u.host}:{u.port} is not reachable from here "
                             f"(published: {', '.join(sorted(k for k in table if '.' not in k)) or 'none'})")


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

    def __init__(self, name: str, text: str, spec, worker):
        self.name, self.text, self.spec, self.worker = name, text, spec, worker
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

    def prepare(self, text: str, timescale: float = 1.0, conn=None):
        """The run's Spec and resolver, or UsageError in one line (nothing started).
        In-cluster names resolve in `conn`'s namespace (default: the session's)."""
        from console.loadgen.options import parse_line
        from console.loadgen.resolve import StaticResolver

        conn = conn or self.session.conn
        if conn is None:
            raise UsageError("not connected to a cluster")
        spec = parse_line(text)
        from console.cluster import rest
        body = rest.call(conn.api, "GET", rest.path_for("Service", conn.namespace))
        table = resolver_table(body.get("items") or [])
        check_targets(spec, table)
        return compress(spec, timescale), StaticResolver(table)

    def start(self, text: str, name: str | None = None, timescale: float = 1.0, conn=None,
              pod: str | None = None) -> LoadRun:
        """Start a run (UsageError if the line or its targets are bad); with `pod`, siege
        runs in that pod (`kubectl exec POD -- siege ...`, console.cluster.podload)."""
        from console.loadgen.worker import LoadWorker

        if pod:
            import shlex

            from console.cluster.podload import PodSiege
            from console.loadgen.options import parse_line
            spec = parse_line(text)
            argv = shlex.split(text)
            argv = argv[1:] if argv[:1] == ["siege"] else argv
            limit = (spec.seconds or 600) * 2 + 60
        else:
            spec, resolver = self.prepare(text, timescale, conn)
        with self._lock:
            self._seq += 1
            name = name or f"load-{self._seq}"
            if name in self.runs and self.runs[name].running:
                raise UsageError(f"load run {name!r} is already going")
        if pod:
            worker = PodSiege(conn or self.session.conn, pod, argv, spec, limit).start()
        else:
            worker = LoadWorker(spec, resolver).start()
        run = LoadRun(name, text, spec, worker)
        with self._lock:
            self.runs[name] = run
        self.session.bus.publish(bus.LoadStarted(run=name, command=text, seconds=spec.seconds))
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

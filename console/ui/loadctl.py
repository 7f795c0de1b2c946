"""Load runs from the console: siege syntax in, a worker process running the
engine, snapshots onto the bus, siege's summary at the end (kept after quit)."""

from __future__ import annotations

import contextlib
import shlex
import sys
import threading
import time

from console import bus
from console.cluster.printer import ports_annotation
from console.errors import UsageError
from console.ui.screens.dialogs import LoadDialog


def parse_siege(text: str):
    from console.loadgen import options
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"siege command: {exc}") from None
    spec = options.parse(argv)
    if spec is None:
        raise UsageError("siege --help is not a load run")
    return spec


@contextlib.contextmanager
def real_stdio():
    """Textual swaps sys.stdout/stderr for objects without a file descriptor;
    multiprocessing (its resource tracker) needs the real ones to spawn."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


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


def summary_text(spec, result: dict) -> str:
    from console.loadgen import summary
    return summary.text(result, spec.failures)


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


class LoadControls:
    """Mixed into KubelabApp."""

    def action_load(self) -> None:
        if self.load_run is not None:
            self.notify("a load run is going: L stops it", severity="warning")
            return

        def check(text: str) -> str | None:
            try:
                parse_siege(text)
            except UsageError as exc:
                return str(exc)
            return None

        def chosen(text: str | None) -> None:
            if text:
                self.start_load(text)
        self.push_screen(LoadDialog(self.load_command, check), chosen)

    def start_load(self, text: str) -> None:
        from console.loadgen.resolve import StaticResolver
        from console.loadgen.worker import LoadWorker
        try:
            spec = parse_siege(text)
            table = resolver_table(list(self.state.objects["services"].values()))
            check_targets(spec, table)
            with real_stdio():
                run = LoadWorker(spec, StaticResolver(table)).start()
        except UsageError as exc:
            self.notify(str(exc), title="load", severity="error")
            return
        except Exception as exc:  # the worker could not start: say why, keep running
            self.notify(f"{type(exc).__name__}: {exc}", title="load", severity="error")
            return
        self.load_command = text
        self.load_run = run
        self.load_pane.started(text, spec.seconds)
        self.action_side("load")
        threading.Thread(target=self._pump_load, args=(run, f"{time.time():.0f}"),
                         name="load-pump", daemon=True).start()

    def _pump_load(self, run, run_id: str) -> None:
        """Worker snapshots -> bus (the bus keeps the newest); the result -> LoadDone."""
        while run.running:
            for snap in run.snapshots():
                self.bus.publish(bus.LoadSample(run=run_id, data=snap))
            time.sleep(0.1)
        result = run.result(timeout=30)
        if result is None:
            self.bus.publish(bus.LoadDone(run=run_id, summary=f"load run failed: {run.error}",
                                          data={"error": run.error}))
            return
        self.bus.publish(bus.LoadDone(run=run_id, summary=summary_text(run.spec, result), data=result))

    def action_stop_load(self) -> None:
        if self.load_run is None:
            self.notify("no load run to stop")
            return
        self.load_run.stop()
        self.notify("stopping the load run ...")

    def stop_load(self, wait: bool = False) -> None:
        """On quit: end the run and keep its summary (the worker logs it too)."""
        run = self.load_run
        if run is None:
            return
        run.stop()
        if wait:
            result = run.result(timeout=30)
            if result is not None:
                text = summary_text(run.spec, result)
                if text not in self.load_results:
                    self.load_results.append(text)

    def load_finished(self, ev: bus.LoadDone) -> None:
        self.load_pane.finished(ev.summary, ev.data)
        if ev.summary not in self.load_results:
            self.load_results.append(ev.summary)
        self.load_run = None
        if "error" in ev.data:
            self.notify(ev.summary, title="load", severity="error")
        else:
            self.notify(f"availability {ev.data.get('availability', 0):.2f} %", title="load finished")

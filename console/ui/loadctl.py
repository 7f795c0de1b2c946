"""Load runs from the console: siege syntax in, a worker process running the
engine, snapshots onto the bus, siege's summary at the end (kept after quit)."""

from __future__ import annotations

import shlex
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
        from console.loadgen import worker
        from console.loadgen.resolve import StaticResolver
        from console.ui.panes.load import LoadPane
        try:
            spec = parse_siege(text)
            table = resolver_table(list(self.state.objects["services"].values()))
            run = worker.start(spec, StaticResolver(table))
        except UsageError as exc:
            self.notify(str(exc), title="load", severity="error")
            return
        except Exception as exc:  # the worker could not start: say why, keep running
            self.notify(f"{type(exc).__name__}: {exc}", title="load", severity="error")
            return
        self.load_command = text
        self.load_run = run
        self.query_one(LoadPane).started(text, spec.seconds)
        self.action_side("load")
        threading.Thread(target=self._pump_load, args=(run, f"{time.time():.0f}"),
                         name="load-pump", daemon=True).start()

    def _pump_load(self, run, run_id: str) -> None:
        """Worker snapshots -> bus (<= 10/s); the final result -> LoadDone."""
        for snap in run.snapshots():
            self.bus.publish(bus.LoadSample(run=run_id, data=snap))
        result, summary = run.result()
        self.bus.publish(bus.LoadDone(run=run_id, summary=summary, data=result))

    def action_stop_load(self) -> None:
        if self.load_run is None:
            self.notify("no load run to stop")
            return
        self.load_run.stop()
        self.notify("stopping the load run ...")

    def stop_load(self, wait: bool = False) -> None:
        run = self.load_run
        if run is not None:
            run.stop()
            if wait:
                run.join(timeout=15)
                self._keep_result(run)

    def _keep_result(self, run) -> None:
        try:
            result, summary = run.result()
        except Exception:
            return
        if summary and summary not in self.load_results:
            self.load_results.append(summary)

    def load_finished(self, ev: bus.LoadDone) -> None:
        from console.ui.panes.load import LoadPane
        self.query_one(LoadPane).finished(ev.summary, ev.data)
        if ev.summary not in self.load_results:
            self.load_results.append(ev.summary)
        self.load_run = None
        self.notify(f"availability {ev.data.get('availability', 0):.2f} %", title="load finished")

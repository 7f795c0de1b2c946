"""The console: panes fed from the bus, keys that act on the cluster.

The App holds a Session (console.cluster.session: connection, bus, informers,
state, load runs) and starts its watches and the bus drain here on the App,
never on a pane. Blocking calls run in thread workers that report with
post_message.
"""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from console import bus as busmod
from console.cluster.session import Session
from console.ui import keys
from console.ui.commands import ActionCommands
from console.ui.controls import Controls
from console.ui.loadctl import LoadControls
from console.ui.scenarioctl import ScenarioControls
from console.ui.messages import ActionFinished, BusBatch
from console.ui.panes.hpa import HpaPane
from console.ui.panes.load import LoadPane
from console.ui.panes.pods import PodsTable
from console.ui.panes.probes import BURST, KEEP, ProbeLog
from console.ui.panes.rollout import RolloutPane
from console.ui.panes.scenario import ScenarioPane

SIDE = ["probes", "hpa", "rollout", "load"]
BATCH = 200   # events per UI update: keeps each update short so keys stay quick
LINK_STYLE = {"live": "green", "connecting": "yellow", "reconnecting": "bold yellow",
              "stale": "bold red", "refused": "bold red"}




class KubelabApp(Controls, LoadControls, ScenarioControls, App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "kubelab"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]   # 80x24: the pods keep rows
    COMMANDS = App.COMMANDS | {ActionCommands}
    BINDINGS = keys.bindings()
    ACTS = True          # keys act on a cluster (a replay's do not: its panes offer none)

    def __init__(self, conn=None, bus: busmod.Bus | None = None, now=time.time,
                 load_command: str = "-c20 -t40S -v http://order:8080/orders",
                 watch: bool = True, results_dir: Path | None = None,
                 session: Session | None = None, merge: bool = True, picker: bool = False,
                 play: Path | None = None, lang: str = "en", pace: float = 3.0,
                 scenarios: Path | None = None, recording: bool = False):
        """merge=False: every event applied in order, none merged (a test that
        compares the console with its replay). picker: open on the lab picker;
        play: run this scenario unattended at once. recording: a tape is being
        written (--record): m marks a moment on it."""
        super().__init__()
        self.picker, self.play_path, self.lang, self.pace = picker, play, lang, pace
        self._scenarios = scenarios
        self.offer_allowed = not picker and play is None
        self.workload_offered = False
        self.session = session or Session(conn, bus)
        self.sub = self.session.bus.subscribe(merge=merge)
        self.now = now
        self.load_command = load_command
        self.watch_cluster = watch and self.session.conn is not None
        self.results_dir = results_dir
        self.last_message = ""
        self._told = ""           # the last kubeconfig problem notified
        self._was_live = False    # the watches have been live once
        self._down_since = None   # monotonic time the link stopped being live
        self.offered_workload = False
        self.recording = recording
        self.marks = 0
        self.side = "probes"
        self._batch_done = threading.Event()
        self._batch_done.set()
        # the panes live on the base screen; keep them at hand (a dialog may be on top)
        self.pods_table = PodsTable(now=self.now, id="pods")
        self.probe_log = ProbeLog(id="probes", classes="side-pane shown")
        self.hpa_pane = HpaPane(now=self.now, keys=self.ACTS, id="hpa", classes="side-pane")
        self.rollout_pane = RolloutPane(keys=self.ACTS, id="rollout", classes="side-pane")
        self.load_pane = LoadPane(keys=self.ACTS, id="load", classes="side-pane")
        self.status = Static(id="status")
        self.scenario_pane = ScenarioPane(keys=self.ACTS, id="scenario")

    # --- layout ----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield self.scenario_pane
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield self.pods_table
                yield self.probe_log
            with Vertical(id="right"):
                yield self.hpa_pane
                yield self.rollout_pane
                yield self.load_pane
        yield self.status
        yield Footer()

    def on_mount(self) -> None:
        gc.set_threshold(700, 10, 100)   # full collections 10x rarer under an event storm
        self.set_interval(10, lambda: gc.freeze())  # what survived 10 s is not scanned again
        self.set_interval(1, self._tick_down)       # the age of the data while the link is down
        self.pods_table.focus()
        self.scenario_pane.display = False
        self.refresh_status()
        self.drain()
        if self.watch_cluster:
            self.start_watches()
        if self.play_path is not None:
            self.start_scenario(self.play_path, "play")
        elif self.picker:
            self.open_picker()

    def on_unmount(self) -> None:
        self.stop_scenario()
        self.stop_watches()
        self.sub.close()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Keys that only mean something now: the lab's while one runs, `w` while offered."""
        from console.ui.screens.picker import LabPicker
        if isinstance(self.screen, LabPicker) and action not in ("quit", "command_palette"):
            return False                     # the picker's own keys only
        if action == "lab":
            return self.check_lab(parameters[0] if parameters else "")
        if action == "workload":
            return self.workload_offered
        if action == "mark":
            return self.recording
        if action in ("do", "fault") and parameters and parameters[0] in self.refused:
            return None                      # shown greyed: this user may not (see permissions)
        return True

    # the session's parts, as the panes and keys know them
    @property
    def conn(self):
        return self.session.conn

    @property
    def bus(self) -> busmod.Bus:
        return self.session.bus

    @property
    def state(self):
        return self.session.state

    def start_watches(self) -> None:
        self.session.watch()

    def stop_watches(self) -> None:
        self.session.unwatch()

    def palette(self) -> list[tuple[str, str, str]]:
        """The command palette's (line, action, key) entries."""
        return keys.palette()

    def action_side(self, name: str) -> None:
        self.side = name
        panes = {"probes": self.probe_log, "hpa": self.hpa_pane, "rollout": self.rollout_pane,
                 "load": self.load_pane}
        for pane in SIDE:
            panes[pane].set_class(pane == name, "shown")

    # --- the bus -----------------------------------------------------------------
    @work(thread=True, group="bus", exclusive=True, exit_on_error=False)
    def drain(self) -> None:
        """Bus -> app, one bounded batch at a time: while the app draws, events
        for the same object keep merging in the bus instead of queueing here."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            if not self._batch_done.wait(0.25):
                continue
            batch = self.sub.get_batch(timeout=0.25, limit=BATCH)
            if batch:
                self._batch_done.clear()
                self.post_message(BusBatch(batch))

    def on_bus_batch(self, message: BusBatch) -> None:
        try:
            self.apply_batch(message.events)
        finally:
            self.sub.done()
            self._batch_done.set()

    def apply_batch(self, events: list) -> None:
        if not self.pods_table.is_mounted:
            return
        changed: set[str] = set()
        pod_uids: set[str] = set()
        resync = restored = False
        for ev in events:
            if isinstance(ev, busmod.Snapshot):      # a replay's seek: all at once
                self.reset_panes()
                resync = restored = True
            changed |= self.state.apply(ev)
            if isinstance(ev, busmod.ObjectChanged) and ev.kind == "pods":
                pod_uids.add(ev.uid)
            elif isinstance(ev, busmod.Synced) and ev.kind == "pods":
                resync = True
            elif isinstance(ev, busmod.LOAD_EVENTS):
                self.load_event(ev)
            elif isinstance(ev, busmod.Snapshot):
                for data in ev.load:
                    self.load_event(busmod.from_dict(data), quiet=True)
                self.scenario_pane.display = bool(ev.scenario)
                for data in ev.scenario:
                    self.scenario_event(busmod.from_dict(data))
            elif isinstance(ev, busmod.SCENARIO_EVENTS):
                self.scenario_event(ev)
            elif isinstance(ev, busmod.Permissions):
                self.permissions(ev)
            elif isinstance(ev, busmod.ActionProgress):
                self.notify(ev.message, title=ev.action, timeout=4)
        lines = self.state.take_new_lines()
        if lines:
            self.probe_log.add(lines, KEEP if restored else BURST)
        if "pods" in changed:
            self.pods_table.sync(self.state.objects["pods"], None if resync else pod_uids)
        if resync:
            # A listed namespace is long-lived: keep the full collector off it (with
            # 5,000 pods a full collection stalls the screen for ~300 ms). The data is
            # acyclic JSON, so replaced objects are still freed by reference counting.
            gc.freeze()
        if changed & {"hpas", "metrics"}:
            self.show_hpa()
        if changed & {"deployments", "replicasets", "pods"}:
            self.rollout_pane.show(self.state.rollout(self.deployment or ""))
        if changed & {"links", "metrics", "deployments"}:
            self.refresh_status()
        if self.offer_allowed and not self.offered_workload and {"deployments", "pods"} <= self.state.synced:
            self.maybe_offer_workload()

    def reset_panes(self) -> None:
        """Empty the panes before a whole state is drawn into them at once."""
        self.pods_table.clear()
        self.pods_table.tick_clock()      # a seek moves the clock, either way: ages at its time
        self.probe_log.clear()
        self.probe_log.entries.clear()
        self.load_pane.reset()

    def show_hpa(self) -> None:
        m = self.state.metrics
        hint = m.hint if self.state.metrics_seen and not m.available else ""
        if hint and m.why:
            hint = f"{hint}\n{m.why}"
        self.hpa_pane.show(self.state.hpas(), self.state.hpa_history, hint)

    def link(self) -> tuple[str, str]:
        """The status line's link state and why (the informers', or offline)."""
        return self.state.link_summary() if self.conn else ("offline", "")

    def where(self) -> tuple[str, str] | None:
        """(cluster, namespace) for the status line; None with no cluster."""
        if self.conn is None:
            return None
        kind = "embedded" if self.conn.embedded is not None else self.conn.context
        return kind, self.conn.namespace

    def refresh_status(self) -> None:
        from rich.text import Text
        state, detail = self.link()
        if state == "refused" and detail != self._told:
            self._told = detail  # the status line has no room for what to do: say it once
            self.notify(detail, title="kubeconfig", severity="error", timeout=30)
        out = Text()
        out.append(f"● {state} ", style=LINK_STYLE.get(state, "dim"))
        if self.conn is not None:
            self._track_link(state)
        if self._down_since is not None and state != "live":
            # the panes show what was true when the link went: say how old it is
            out.append(f" data from {time.monotonic() - self._down_since:.0f}s ago", style="bold")
        if detail and state != "live":
            out.append(f" ({detail[:60]})", style="dim")
        where = self.where()
        if where is not None:
            out.append(f"  {where[0]}  ns ")
            out.append(where[1], style="bold")
        dep = self.deployment
        if dep:
            out.append("  deploy ")
            out.append(dep, style="bold")
        if self.last_message:
            out.append(f"  │ {self.last_message}", style="dim")
        self.status.update(out)

    def _tick_down(self) -> None:
        if self._down_since is not None:
            self.refresh_status()

    def _track_link(self, state: str) -> None:
        """Once live, a link that goes is dated; when it is back, say so and how long it took."""
        if state == "live":
            if self._down_since is not None:
                gone = time.monotonic() - self._down_since
                self._down_since = None
                self.notify(f"live again after {gone:.1f}s: watches resumed, the panes show the "
                            "cluster as it is now", title="cluster", timeout=6)
            self._was_live = True
        elif self._was_live and self._down_since is None and state in ("reconnecting", "stale",
                                                                       "refused"):
            self._down_since = time.monotonic()

    # --- selection -----------------------------------------------------------
    @property
    def deployment(self) -> str | None:
        """The Deployment the keys act on: the selected pod's, else `order`, else the first."""
        names = self.state.deployment_names()
        try:
            uid = self.pods_table.selected_uid()
        except Exception:
            uid = None
        pod = self.state.objects["pods"].get(uid) if uid else None
        owner = self.state.owner_deployment(pod) if pod else None
        if owner in names:
            return owner
        return "order" if "order" in names else (names[0] if names else None)

    def selected_pod(self) -> str | None:
        uid = self.pods_table.selected_uid()
        pod = self.state.objects["pods"].get(uid) if uid else None
        return pod["metadata"]["name"] if pod else None

    def on_action_finished(self, message: ActionFinished) -> None:
        self.last_message = f"{message.title}: {message.message}"[:120]
        self.notify(message.message, title=message.title,
                    severity="information" if message.ok else "error",
                    timeout=4 if message.ok else 8)
        self.refresh_status()

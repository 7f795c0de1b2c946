"""The console's side of a lab: the picker it opens on, a scenario runner on the session
(learner or play), the scenario pane fed from the bus, and the keys that talk to the
runner (c check, h hint, s solve, n next, space pause). A mixin of the App."""

from __future__ import annotations

import threading

from console import bus
from console.paths import scenarios_dir


class ScenarioControls:
    """Mixed into KubelabApp."""

    runner = None
    runner_thread: threading.Thread | None = None

    def open_picker(self) -> None:
        from console.ui.screens.picker import FREE, LabPicker

        def chosen(choice) -> None:
            if choice is None:
                self.exit()
                return
            mode, path = choice
            if mode == FREE:
                self.offer_workload_later()
            else:
                self.start_scenario(path, mode)
        self.push_screen(LabPicker(self.scenarios, self.conn, self.lang), chosen)

    @property
    def scenarios(self):
        return getattr(self, "_scenarios", None) or scenarios_dir()

    def start_scenario(self, path, mode: str = "learner") -> None:
        """Run the lab in a thread of its own (not a Textual worker: its cleanup must
        be able to finish after the App has gone)."""
        from console.errors import UsageError
        from console.scenario import loader
        from console.scenario.runner import Runner
        if self.conn is None:
            self.notify("not connected to a cluster", severity="error")
            return
        try:
            loaded = loader.load(path, namespace=self.conn.namespace)
        except UsageError as exc:
            self.notify(str(exc)[:600], title="scenario", severity="error", timeout=15)
            return
        self.stop_scenario(wait=60)           # the last lab's cleanup first
        self.offered_workload = True          # the lab brings its own workload
        self.runner = Runner(self.session, loaded, mode, self.lang, pace=self.pace if mode == "play" else 0,
                             linger=True)
        self.scenario_pane.display = True
        self.scenario_pane.paused = False
        from console.cluster.connect import kubectl_env
        env = kubectl_env(self.conn) if mode == "learner" else ""
        if env:      # the lab's commands are typed elsewhere: say where they reach this cluster
            self.notify(env, title="kubectl in another terminal", timeout=30, markup=False)

        def run() -> None:
            with self.spawnable():
                self.runner.run()
        self.runner_thread = threading.Thread(target=run, name="scenario", daemon=True)
        self.runner_thread.start()
        self.refresh_bindings()

    def stop_scenario(self, wait: float = 0.0) -> None:
        """End the lab (its cleanup runs); with `wait`, give the cleanup that long."""
        if self.runner is not None:
            self.runner.stop()
        if wait and self.runner_thread is not None:
            self.runner_thread.join(wait)

    @property
    def scenario_running(self) -> bool:
        return self.runner_thread is not None and self.runner_thread.is_alive()

    def scenario_event(self, ev: bus.Event) -> None:
        self.scenario_pane.event(ev)
        if isinstance(ev, bus.ScenarioFinished) and self.runner is not None and ev.run == self.runner.run_id:
            self.notify(f"lab {ev.status} in {ev.seconds:.0f}s — what it made stays until you quit "
                        "(q), which cleans up", title=ev.scenario,
                        severity="information" if ev.status == "passed" else "warning")
            self.call_after_refresh(self.refresh_bindings)
        elif isinstance(ev, bus.StepStarted) and ev.gate == "learner":
            self.call_after_refresh(self.refresh_bindings)

    # --- keys (only while a lab runs: see check_action) --------------------------------------
    def action_lab(self, what: str) -> None:
        if self.runner is None or not self.scenario_running:
            return
        if what == "pause":
            what = "resume" if self.runner.paused else "pause"
            self.scenario_pane.paused = what == "pause"
            self.scenario_pane.show()
        self.runner.command(what)

    def check_lab(self, what: str) -> bool:
        if not self.scenario_running or self.scenario_pane.outcome:
            return False
        mode = self.runner.mode
        if what == "pause":
            return mode == "play"
        if what == "next":
            return True
        return mode == "learner"

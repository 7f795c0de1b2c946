"""What the console shows, folded from events one by one, none merged: the
ClusterState, the newest load run and the newest lab. The recorder keeps one
to write keyframes; a replay that seeks keeps one to fold from a keyframe up to the
line it seeks to, then plays the result as one Snapshot."""

from __future__ import annotations

from console import bus
from console.cluster.state import HISTORY, ClusterState



def _second(ev: bus.Event):
    return ((ev.data or {}).get("last_second") or {}).get("t") if isinstance(ev, bus.LoadSample) else None


class Fold:
    def __init__(self):
        self.cluster = ClusterState()
        self.load: list[bus.Event] = []    # the newest run: its start, one sample a second, its end
        self.scenario: list[bus.Event] = []  # the newest lab: its start, each step's, the current step's checks

    def apply(self, ev: bus.Event) -> None:
        if isinstance(ev, bus.Snapshot):
            self.restore(ev)
            return
        self.cluster.apply(ev)
        self.cluster.new_lines.clear()      # the lines are kept in cluster.events
        if isinstance(ev, bus.LOAD_EVENTS):
            self._load(ev)
        elif isinstance(ev, bus.SCENARIO_EVENTS):
            self._scenario(ev)

    def _scenario(self, ev: bus.Event) -> None:
        """What the Lab pane keeps: every step's start and end, the current step's
        checks (the newest per check) and hint, the end."""
        if isinstance(ev, bus.ScenarioStarted):
            self.scenario = [ev]
            return
        if not self.scenario or ev.run != self.scenario[0].run:
            return
        if isinstance(ev, bus.StepStarted):       # the pane forgets the last step's checks
            self.scenario = [e for e in self.scenario if not isinstance(e, (bus.CheckResult, bus.HintShown))]
        elif isinstance(ev, bus.CheckResult):
            self.scenario = [e for e in self.scenario
                             if not (isinstance(e, bus.CheckResult) and e.check == ev.check)]
        self.scenario.append(ev)

    def _load(self, ev: bus.Event) -> None:
        if not isinstance(ev, (bus.LoadSample, bus.LoadDone)):       # a run starts
            self.load = [ev]
            return
        if self.load and getattr(self.load[-1], "run", ev.run) != ev.run:
            self.load = []
        if isinstance(ev, bus.LoadSample) and self.load and isinstance(self.load[-1], bus.LoadSample):
            last = self.load[-1]
            if _second(last) == _second(ev):
                self.load[-1] = ev                # the same second, newer figures
                return
            # an older second only feeds the chart: keep just that part of it
            self.load[-1] = bus.LoadSample(run=last.run, ts=last.ts,
                                           data={"last_second": last.data.get("last_second") or {}})
        self.load.append(ev)
        head = 1 if self.load and not isinstance(self.load[0], (bus.LoadSample, bus.LoadDone)) else 0
        if len(self.load) > HISTORY + head + 1:
            del self.load[head:len(self.load) - HISTORY - 1]

    def snapshot(self, ts: float | None = None) -> bus.Snapshot:
        kw = {} if ts is None else {"ts": ts}
        return bus.Snapshot(cluster=self.cluster.snapshot(), load=[e.to_dict() for e in self.load],
                            scenario=[e.to_dict() for e in self.scenario], **kw)

    def restore(self, snap: bus.Snapshot) -> None:
        self.cluster.restore(snap.cluster)
        self.cluster.new_lines.clear()
        self.load = [bus.from_dict(d) for d in snap.load]
        self.scenario = [bus.from_dict(d) for d in snap.scenario]

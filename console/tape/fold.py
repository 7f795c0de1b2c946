"""What the console shows, folded from events one by one, none merged: the
ClusterState and the newest load run. The recorder keeps one to write
keyframes; a replay that seeks keeps one to fold from a keyframe up to the
line it seeks to, then plays the result as one Snapshot."""

from __future__ import annotations

from console import bus
from console.cluster.state import HISTORY, ClusterState

LOAD_EVENTS = tuple(c for c in (bus.kind_of("load.started"), bus.LoadSample, bus.LoadDone) if c)


def _second(ev: bus.Event):
    return ((ev.data or {}).get("last_second") or {}).get("t") if isinstance(ev, bus.LoadSample) else None


class Fold:
    def __init__(self):
        self.cluster = ClusterState()
        self.load: list[bus.Event] = []    # the newest run: its start, one sample a second, its end

    def apply(self, ev: bus.Event) -> None:
        if isinstance(ev, bus.Snapshot):
            self.restore(ev)
            return
        self.cluster.apply(ev)
        self.cluster.new_lines.clear()      # the lines are kept in cluster.events
        if isinstance(ev, LOAD_EVENTS):
            self._load(ev)

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
        return bus.Snapshot(cluster=self.cluster.snapshot(),
                            load=[e.to_dict() for e in self.load], **kw)

    def restore(self, snap: bus.Snapshot) -> None:
        self.cluster.restore(snap.cluster)
        self.cluster.new_lines.clear()
        self.load = [bus.from_dict(d) for d in snap.load]

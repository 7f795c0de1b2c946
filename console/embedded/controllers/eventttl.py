"""Events expire an hour after they were last seen, as the API server's
--event-ttl=1h does. The hour is wall-clock, not simulated: it bounds memory
over a long class, and tests at --speed 50 keep their events."""

from datetime import datetime

from console.embedded.controllers.base import Informer, WorkQueue
from console.embedded.store import NotFound

TTL = 3600.0          # wall-clock seconds
SWEEP_EVERY = 60.0    # wall-clock seconds


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class EventTTL:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "event-ttl", self.sync)
        self.queue.add("sweep")

    def _last_seen(self, ev: dict) -> float | None:
        series = ev.get("series") or {}
        for stamp in (series.get("lastObservedTime"), ev.get("lastTimestamp"), ev.get("eventTime"),
                      ev["metadata"].get("creationTimestamp")):
            t = _epoch(stamp)
            if t is not None:
                return t
        return None

    async def sync(self, key) -> None:
        now = self.cluster.clock.now().timestamp()
        for ev in self.inf.all("events"):
            seen = self._last_seen(ev)
            if seen is not None and now - seen > TTL:
                try:
                    self.cluster.registry.delete("events", ev["metadata"].get("namespace") or "",
                                                 ev["metadata"]["name"])
                except NotFound:
                    pass
        # add_after counts simulated seconds; the sweep period is wall-clock.
        self.queue.add_after("sweep", SWEEP_EVERY * self.cluster.clock.speed)

"""Simulated time: durations shrink by `speed`, timestamps stay wall-clock.

Every controller duration (boot time, probe period, back-off, HPA windows) goes
through `sleep`/`call_later`/`elapsed`, so `--speed 20` runs a five-minute
stabilization window in fifteen real seconds while `kubectl get` ages still read
true wall-clock time.
"""

import asyncio
import time
from datetime import datetime, timezone


class Clock:
    def __init__(self, speed: float = 1.0):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._t0 = time.monotonic()
        self._wall0 = time.time()
        self._stamp = (0, "")   # (whole second, its stamp): thousands a second ask

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def stamp(self) -> str:
        """RFC 3339 with seconds, as metav1.Time serialises."""
        second = int(time.time())
        if second != self._stamp[0]:
            self._stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second)))
        return self._stamp[1]

    def elapsed(self) -> float:
        """Simulated seconds since the cluster started (monotonic)."""
        return (time.monotonic() - self._t0) * self.speed

    def sim_at(self, when: datetime | str | None) -> float | None:
        """The simulated time (as `elapsed`) of a wall-clock moment, e.g. a
        stamp this cluster wrote; None when there is none. Stamps have
        whole seconds, so this is that coarse (speed x 1 s)."""
        if isinstance(when, str):
            try:
                when = datetime.strptime(when[:19], "%Y-%m-%dT%H:%M:%S").replace(
                    tzinfo=timezone.utc)
            except ValueError:
                return None
        if when is None:
            return None
        return (when.timestamp() - self._wall0) * self.speed

    def calendar(self, sim_seconds: float | None = None) -> datetime:
        """The simulated calendar: the cluster's start plus simulated time (now, or
        at `sim_seconds` as `elapsed` counts them). What cron schedules read."""
        t = self.elapsed() if sim_seconds is None else sim_seconds
        return datetime.fromtimestamp(self._wall0 + t, timezone.utc)

    def real(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds) / self.speed

    async def sleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(self.real(sim_seconds))

    def call_later(self, sim_seconds: float, fn, *args) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(self.real(sim_seconds), fn, *args)

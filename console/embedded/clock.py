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

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def stamp(self) -> str:
        """RFC 3339 with seconds, as metav1.Time serialises."""
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")

    def elapsed(self) -> float:
        """Simulated seconds since the cluster started (monotonic)."""
        return (time.monotonic() - self._t0) * self.speed

    def real(self, sim_seconds: float) -> float:
        return max(0.0, sim_seconds) / self.speed

    async def sleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(self.real(sim_seconds))

    def call_later(self, sim_seconds: float, fn, *args) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(self.real(sim_seconds), fn, *args)

"""limits.cpu as the kernel enforces it: CFS bandwidth control.

A container may run for `cores` x 100 ms in each 100 ms period (cpu.cfs_quota_us /
cpu.cfs_period_us); within its quota a thread runs at a whole core's speed, and once
the quota is spent it waits, throttled, for the next period. So a 500m container
serves a lone request in the request's own CPU time, not twice that, and only a
load above half a core makes it wait. Modelled as a token bucket of CPU seconds:
refilled at `cores` a second, holding at most one period's quota; each request takes
its CPU from it, and what the bucket lacks is the time the request waits.
"""

from __future__ import annotations

import time

PERIOD = 0.1    # cpu.cfs_period_us: 100 ms


class Quota:
    def __init__(self, cores: float, now=time.monotonic):
        self.cores, self.now = cores, now
        self.tokens = cores * PERIOD        # CPU seconds left; below 0, owed by those waiting
        self.at = now()

    def _refill(self) -> None:
        t = self.now()
        self.tokens = min(self.cores * PERIOD, self.tokens + (t - self.at) * self.cores)
        self.at = t

    def wait(self) -> float:
        """Seconds a request arriving now would wait for quota (what those before it owe)."""
        self._refill()
        return max(0.0, -self.tokens) / self.cores

    def take(self, cpu: float) -> float:
        """A request's `cpu` seconds taken from the quota: the seconds it waits for them."""
        self._refill()
        self.tokens -= cpu
        return max(0.0, -self.tokens) / self.cores

"""Outlier detection for one upstream cluster, as Envoy's DetectorImpl does it
(source/common/upstream/outlier_detection_impl.cc) with the settings istiod gives it.

istiod's translation (cluster_traffic_policy.go applyOutlierDetection):
consecutive5xxErrors N -> consecutive_5xx N enforced 100 % (N = 0: off); absent ->
Envoy's default, 5, enforced. consecutiveGatewayErrors N -> consecutive_gateway_failure
N enforced (absent: counted, never enforced). The deprecated consecutiveErrors is
only a validation warning: a block holding it alone still gets Envoy's default 5
consecutive 5xx. Success-rate ejection off. interval (10 s), baseEjectionTime
(30 s), maxEjectionPercent (Envoy's default 10 %), minHealthPercent -> the panic
threshold (0: never panic).

A 5xx from the host (a connect failure counts as 503, a timeout as 504) adds to its
consecutive counters, anything else resets them; reaching N ejects the host at once
unless (ejected + 1) / hosts would pass maxEjectionPercent. An ejected host returns
at the first interval sweep after min(baseEjectionTime x k, max(300 s, base)),
where k counts its ejections and goes down by one for each interval it stays
healthy after returning, so a host that keeps failing stays out longer each time.
Time is the cluster clock's (simulated seconds).
"""

from console.embedded.mesh.values import seconds

GATEWAY = (502, 503, 504)


class HostState:
    __slots__ = ("c5xx", "cgw", "ejected_at", "backoff", "ejections", "returned_at")

    def __init__(self):
        self.c5xx = self.cgw = 0
        self.ejected_at: float | None = None
        self.backoff = 0
        self.ejections = 0
        self.returned_at: float | None = None


class Detector:
    def __init__(self, clock, od: dict):
        self.clock = clock
        self.interval = max(0.001, seconds(od.get("interval"), 10.0))
        self.base = max(0.001, seconds(od.get("baseEjectionTime"), 30.0))
        self.max_time = max(300.0, self.base)
        pct = od.get("maxEjectionPercent")
        self.max_percent = min(100, pct) if isinstance(pct, int) and pct > 0 else 10
        health = od.get("minHealthPercent")
        self.min_health = health if isinstance(health, int) and health >= 0 else 0
        self.n5xx, self.enforce_5xx = _threshold(od.get("consecutive5xxErrors"), default_enforced=True)
        self.ngw, self.enforce_gw = _threshold(od.get("consecutiveGatewayErrors"), default_enforced=False)
        self.hosts: dict[tuple, HostState] = {}
        self.next_sweep = clock.elapsed() + self.interval

    # -- membership ------------------------------------------------------------------
    def track(self, keys) -> None:
        keys = set(keys)
        for k in keys - self.hosts.keys():
            self.hosts[k] = HostState()
        for k in [k for k in self.hosts if k not in keys]:
            del self.hosts[k]

    def ejected(self, key) -> bool:
        self.sweep()
        state = self.hosts.get(key)
        return state is not None and state.ejected_at is not None

    def healthy(self, keys: list) -> list:
        """The hosts to balance over: the unejected ones, or all in panic mode."""
        self.sweep()
        ok = [k for k in keys if not (k in self.hosts and self.hosts[k].ejected_at is not None)]
        if keys and self.min_health and 100.0 * len(ok) / len(keys) < self.min_health:
            return list(keys)
        return ok

    # -- results ---------------------------------------------------------------------
    def result(self, key, status: int) -> None:
        state = self.hosts.get(key)
        if state is None:
            return
        if 500 <= status <= 599:
            if status in GATEWAY:
                state.cgw += 1
                if state.cgw == self.ngw:
                    self._consecutive(key, state, gateway=True)
            else:
                state.cgw = 0
            state.c5xx += 1
            if state.c5xx == self.n5xx:
                self._consecutive(key, state, gateway=False)
        else:
            state.c5xx = state.cgw = 0

    def _consecutive(self, key, state: HostState, gateway: bool) -> None:
        if state.ejected_at is not None:
            return
        self.sweep()
        if gateway:
            state.cgw = 0
            enforced = self.enforce_gw
        else:
            state.c5xx = 0
            enforced = self.enforce_5xx
        active = sum(1 for s in self.hosts.values() if s.ejected_at is not None)
        if 100.0 * (active + 1) / len(self.hosts) > self.max_percent or not enforced:
            return
        state.ejected_at = self.clock.elapsed()
        state.ejections += 1
        if state.backoff * self.base < self.max_time + self.base:
            state.backoff += 1

    def sweep(self) -> None:
        """The interval timer's work, for every interval boundary passed since last time."""
        now = self.clock.elapsed()
        if now - self.next_sweep > 1000 * self.interval:     # long idle: the last 1000 will do
            self.next_sweep = now - 999 * self.interval - (now - self.next_sweep) % self.interval
        while self.next_sweep <= now:
            t = self.next_sweep
            for state in self.hosts.values():
                if state.ejected_at is not None and \
                        min(self.base * state.backoff, self.max_time) <= t - state.ejected_at:
                    state.ejected_at = None
                    state.c5xx = state.cgw = 0
                    state.returned_at = t
            for state in self.hosts.values():
                if state.ejected_at is None and state.returned_at is not None \
                        and t - state.returned_at >= self.interval and state.backoff > 0:
                    state.backoff -= 1
            self.next_sweep = t + self.interval


def _threshold(value, default_enforced: bool) -> tuple[int, bool]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value, value > 0
    return 5, default_enforced

"""A run's figures as the console and siege's summary read them, from one Stats.

live() is the snapshot dict (several a second), summarise() the result dict (the
end); the Engine and the Pool (several engines merged) both answer with these, so
their figures have one meaning.
"""

from __future__ import annotations

import resource

from console.loadgen import redact
from console.loadgen.options import Spec
from console.loadgen.stats import Stats, bottleneck


def cpu_seconds() -> float:
    """CPU time of this process so far (user + system)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


class Meter:
    """Requests/s and CPU % since the previous reading (at least 50 ms before): a live chart's."""

    def __init__(self, now: float, requests: int = 0, cpu: float = 0.0):
        self._last = (now, requests, cpu)

    def read(self, now: float, requests: int, cpu: float) -> tuple[float, float]:
        t, n, c = self._last
        dt = now - t
        if dt <= 0:
            return 0.0, 0.0
        if dt >= 0.05:
            self._last = (now, requests, cpu)
        return (requests - n) / dt, (cpu - c) / dt * 100


def live(st: Stats, rps: float, cpu: float, in_flight: int, workers: int = 1) -> dict:
    """The snapshot dict (console.loadgen's docstring lists it), from one engine's or a pool's."""
    t = st.transactions
    return {
        "elapsed": round(st.elapsed, 3),
        "requests": t + st.failed,
        "transactions": t,
        "successful": st.successful,
        "failed": st.failed,
        "availability": round(t / (t + st.failed) * 100, 2) if t else 0.0,
        "rps": round(rps, 1),
        "latency": st.percentiles(),
        "last_second": st.series[-1] if st.series else None,
        "status_codes": {str(k): v for k, v in sorted(st.codes.items())},
        "errors": dict(st.errors),
        "in_flight": in_flight,
        "late_sends": st.late,
        "dropped_sends": st.dropped,
        "cpu_percent": round(cpu, 1),
        "workers": workers,
    }


def summarise(spec: Spec, st: Stats, *, aborted: bool, interrupted: bool,
              started_at: str | None, cpu_seconds: float | None, workers: int = 1) -> dict:
    """The result dict (Engine.result(), Pool.result()): siege's keys, extras, series.

    generator_cpu_percent is the generator's CPU over the run in % of one core: with
    several workers it can pass 100 (the bottleneck test divides by `workers`).
    """
    out = st.siege()
    out.update(st.extras())
    el = st.elapsed
    out.update({
        "mode": "closed" if spec.rate is None else "open",
        "rate": spec.rate, "concurrent": spec.concurrent, "reps": spec.reps,
        "seconds": spec.seconds, "keepalive": spec.keepalive, "workers": workers,
        "aborted": aborted, "interrupted": interrupted, "started_at": started_at,
        "generator_cpu_percent": (round(cpu_seconds / el * 100, 1)
                                  if cpu_seconds is not None and el > 0 else None),
        "urls": [redact.url(f"{t.url} {t.method}" if t.method != "GET" else t.url)
                 for t in spec.targets],
        "series": st.series,
    })
    out["bottleneck"] = bottleneck(out)
    return out

"""The per-request path of the engine: what each answer touches, in one small module.

engine.Engine and stats.Stats are Python subclasses of EngineCore and Recorder: the
state a request reads or writes lives in these bases, and the flow of a transaction
(_Flow, _User) in this module, so that Cython can compile this module and http1.py
with the augmenting declarations beside them (core.pxd, http1.pxd) into extension
types: attribute access on a C struct and C-level calls instead of ~8 Python frames
a request (bench/loadgen/README.md). The file stays plain Python: it is what runs
with KUBELAB_PURE=1, or where the build is missing (console/loadgen/native.py).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Callable

from console.loadgen.failures import error_kind
from console.loadgen.http1 import Reply

REDIRECTS = (301, 302, 303, 307, 308)
MAX_HOPS = 5             # siege follows Location (follow-location = true); not forever
NO_END = 1 << 62         # "no total": more arrivals than any run can have


@dataclass
class Response:
    """What -v prints for one request (siege's layout lives in verbose.py)."""

    code: int | None
    version: str
    latency: float
    nbytes: int
    method: str
    path: str
    error: str | None = None
    detail: str = ""


class AioAnswer(Reply):
    """An answer from aiohttp, read as the http1 client's connection is (_Flow.answered)."""

    __slots__ = ("status", "version", "nbytes", "location", "done_at")

    def __init__(self, status: int, version: str, nbytes: int, location: str | None,
                 done_at: float):
        self.status, self.version, self.nbytes = status, version, nbytes
        self.location, self.done_at = location, done_at


class EngineCore:
    """What a request reads or writes of its engine (engine.Engine is the rest)."""

    # slots in the pure build: the instance's dict, holding more than CPython 3.11
    # shares between instances, costs about 3x a slot's time per access
    __slots__ = ("in_flight", "_ended", "_stopping", "_perf_clock", "on_response", "clock",
                 "_http1", "stats", "prepared", "_loop")


SMALL = 2048  # latencies below 2,048 us: HdrHistogram's exact buckets at 3 significant digits


class Recorder:
    """What an answer touches of the statistics: record() and _tally() (stats.Stats is
    the rest).

    The current second's answers, one list per figure: record() only appends; sums,
    extremes, counts and histogram buckets are taken in one pass when they are read
    (_tally, for Stats._take_in), not per answer. _taken: how many the totals include.
    """

    __slots__ = ("clock", "stop_time", "_next", "_lat", "_code", "_nb", "_taken",
                 "_total_time", "_bytes", "_longest", "_lowest", "_pending", "_small")

    def __init__(self):
        self._lat: list[float] = []
        self._code: list[int] = []
        self._nb: list[int] = []
        self._taken = 0
        self._total_time = 0.0
        self._bytes = 0
        self._longest = 0.0
        self._lowest = -1.0
        # bucketed latencies not yet in the histogram (HdrHistogram.record_value costs
        # ~10 us in Python): counts by exact us below SMALL, by bucket above
        self._small = [0] * 2048  # SMALL (a C array when compiled: its size written out)
        self._pending: dict[int, int] = {}

    def record(self, code: int, latency: float, nbytes: int, now: float | None = None) -> None:
        """One answer. The hot path: three appends (and a second closed once a second)."""
        t = self.clock() if now is None else now
        if t >= self._next:
            if self.stop_time is not None:
                return  # answered after the run's end: abandoned, not counted
            self._second(t)
        self._lat.append(latency)
        self._code.append(code)
        self._nb.append(nbytes)

    def _tally(self) -> tuple[int, int, dict[int, int]] | None:
        """The answers recorded since the last call, added to the totals, the extremes
        and the histogram's buckets: (how many, their bytes, their codes counted), or
        None when there are none."""
        lat, code, nb = self._lat, self._code, self._nb
        k, n = self._taken, len(lat)
        if k == n:
            return None
        self._taken = n
        total, hi, lo, nbytes = 0.0, self._longest, self._lowest, 0
        codes: dict[int, int] = {}
        last = run = 0   # codes come in runs (all 200): counted a run at a time
        pending = self._pending
        for i in range(k, n):
            x = lat[i]
            if x < 0.0:  # an injected clock may step back; and _small is a C array when compiled
                x = 0.0
            total += x
            if x > hi:
                hi = x
            if x < lo or lo < 0:
                lo = x
            v = int(x * 1e6) or 1
            if v < SMALL:
                self._small[v] += 1
            else:  # the 2048 sub-buckets of v's power of two (3 significant digits)
                shift = 1
                while v >> shift >= SMALL:
                    shift += 1
                v = (v >> shift) << shift
                pending[v] = pending.get(v, 0) + 1
            nbytes += nb[i]
            c = code[i]
            if c != last:
                if run:
                    codes[last] = codes.get(last, 0) + run
                last, run = c, 0
            run += 1
        codes[last] = codes.get(last, 0) + run
        self._total_time += total
        self._bytes += nbytes
        self._longest, self._lowest = hi, lo
        return n - k, nbytes, codes

    def _pour(self) -> dict[int, int]:
        """The latencies bucketed since the last call, {us: count}, for the histogram."""
        pending, self._pending = self._pending, {}
        for v in range(1, SMALL):
            if self._small[v]:
                pending[v] = self._small[v]
                self._small[v] = 0
        return pending

class _Flow:
    """One transaction, and the redirects it leads to, on callbacks: the generator's
    hot path (no task, no future per request). `then()` is called once it is over:
    answered, failed, or abandoned at the run's end."""

    __slots__ = ("engine", "session", "then", "p", "t0", "hops", "done")

    def __init__(self, engine: EngineCore, session, then: Callable[[], None]):
        self.engine, self.session, self.then = engine, session, then
        self.done = self.answered  # one bound method, not one per request

    def start(self, p: _Prepared, t0: float) -> None:
        e = self.engine
        e.in_flight += 1
        self.t0, self.hops, self.p = t0, 0, p
        if p.raw is not None:  # _go(p), inline (hot path)
            e._http1.send(p.key, p.raw, p.head, self.done)
        else:
            self._go(p)

    def _go(self, p: _Prepared) -> None:
        self.p = p
        e = self.engine
        if p.raw is not None:
            e._http1.send(p.key, p.raw, p.head, self.done)
        else:
            task = e._loop.create_task(e._aio(self.session, p))
            e._tasks.add(task)
            task.add_done_callback(self._aio_done)

    def _aio_done(self, task: asyncio.Task) -> None:
        self.engine._tasks.discard(task)
        if task.cancelled():
            self.answered(None, asyncio.CancelledError())
        else:
            exc = task.exception()
            self.answered(None if exc else task.result(), exc)

    def answered(self, a, exc: BaseException | None) -> None:
        """`a`: the answer (an http1 connection just read, or an AioAnswer), or None and `exc`."""
        e = self.engine
        if e._ended or exc is not None:
            if e._ended:  # the run's end aborted it: abandoned, as siege's threads
                return self._over(False)
            return self._error(exc)
        try:
            status = a.status
            # the client stamps perf_counter(); an injected clock rules
            now = a.done_at if e._perf_clock else e.clock()
            latency = now - self.t0
            failed = status >= 500 or status == 408  # is_failed_code, inline (hot path)
            if failed and not e._failure():
                return self._over(False)
            Recorder.record(e.stats, status, latency, a.nbytes, now)  # no lookup (hot path)
            if e.on_response:
                p = self.p
                e.on_response(Response(status, a.version, latency, a.nbytes, p.method, p.path))
            location = a.location
            if location and status in REDIRECTS and self.hops < MAX_HOPS:
                # as siege: the redirect is a transaction, and so is the page it leads to
                self.hops += 1
                self.t0 = now
                return self._go(e._follow(self.p, status, location))
        except Exception as bug:  # never a request that silently never ends
            return self._error(bug)
        if failed:
            return self._over(True)
        e.in_flight -= 1  # _over(False), inline (hot path)
        self.then()
    def _error(self, exc: BaseException) -> None:
        """Every socket-level failure is a counted failure (siege's)."""
        e = self.engine
        if not e._failure():
            return self._over(False)
        kind, detail = error_kind(exc)
        e.stats.error(kind)
        if e.on_error:
            p = self.p
            e.on_error(Response(None, "", e.clock() - self.t0, 0, p.method, p.path, kind, detail))
        self._over(True)

    def _over(self, failed: bool) -> None:
        e = self.engine
        e.in_flight -= 1
        if failed and e.budget.spent():
            e._abort()
        self.then()


class _User(_Flow):
    """siege's simulated user: requests one after the other, from its own starting URL."""

    __slots__ = ("targets", "wires", "n", "y", "left", "delay", "rng", "finished")

    def __init__(self, engine: EngineCore, session, uid: int):
        s, targets = engine.spec, engine.prepared
        n = len(targets)
        super().__init__(engine, session, self.after if s.delay > 0 else self.next)
        self.targets, self.n = targets, n
        self.wires = [(p.raw, p.key, p.head) for p in targets]  # what next() sends, unpacked
        self.y = uid * (n // s.concurrent) if n >= s.concurrent else 0  # siege's starting URL
        self.left = NO_END if s.reps is None else s.reps
        self.delay = s.delay
        self.rng = random.Random()
        self.finished = engine._loop.create_future()

    def next(self) -> None:
        e = self.engine
        if self.left <= 0 or e._stopping:
            if not self.finished.done():
                self.finished.set_result(None)
            return
        self.left -= 1
        i = self.y % self.n
        self.y += 1
        raw, key, head = self.wires[i]
        # self.start(self.targets[i], e.clock()), inline (hot path)
        e.in_flight += 1
        self.t0 = e.clock()
        self.hops = 0
        self.p = self.targets[i]
        if raw is not None:
            e._http1.send(key, raw, head, self.done)
        else:
            self._go(self.p)

    def after(self) -> None:
        """-d: a random pause after each request (siege's), not counted as response time."""
        self.engine._loop.call_later(self.rng.random() * self.delay, self.next)

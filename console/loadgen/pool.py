"""One run on several cores: siege's users (or --rate) split over worker processes.

    run = pool.make(spec, resolver)   # an Engine for one worker, else a Pool
    run.prepare()                     # resolve once, here: bad input before any load
    await run.run()                   # then snapshot(), seconds(), result(), stop()

A Pool has the Engine's interface. Each worker process runs an Engine on its Share
(a block of the users, or every n-th arrival of the rate) from a common start, and
reports every TICK: its figures so far (Stats.state()), the seconds it closed (raw),
its -v lines; at its end, its final state with the latency histogram (HdrHistogram's
encoding). The coordinator adds them up into one Stats (Stats.merge) and one series
(SeriesMerge), so siege's summary, the percentiles, codes, error kinds and the
series are the run's, exactly as one process would count them. siege's failure
threshold is the run's (a Budget over shared memory), and -v lines come back with
their times and are printed as one stream, in time order.

Ctrl-C and SIGTERM belong to the coordinator: workers ignore SIGINT and stop when
told, or when the coordinator is gone (their pipe closes).
"""

from __future__ import annotations

import asyncio
import heapq
import multiprocessing as mp
import os
import signal
import time
from datetime import datetime, timezone
from typing import Callable

from console.loadgen.engine import Engine, Response, Share, run_sync
from console.loadgen.failures import Budget
from console.loadgen.report import Meter, cpu_seconds, live, summarise
from console.loadgen.options import Spec
from console.loadgen.stats import SeriesMerge, Stats

TICK = 0.25          # a worker's report interval
TICK_VERBOSE = 0.05  # ... when its -v lines are wanted (they are printed as they come)
LEAD = 0.05          # the common start is this far after the last worker is ready


def cores() -> int:
    """The cores this process may run on (its affinity, as taskset or a cgroup sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def workers(spec: Spec) -> int:
    """How many processes a run uses: -j/--workers (default: the cores), at most one per user."""
    return max(1, min(spec.workers or cores(), spec.concurrent))


def make(spec: Spec, resolver=None, live: bool = False) -> Engine | Pool:
    """The run: one Engine in this process, or a Pool of worker processes.

    `live`: snapshot() will be asked for (a progress bar, the console's Load pane),
    so workers send their histogram with every report, not only at the end.
    """
    n = workers(spec)
    return Engine(spec, resolver) if n == 1 else Pool(spec, resolver, n, live)


class Pool:
    def __init__(self, spec: Spec, resolver=None, n: int = 2, live: bool = False,
                 clock: Callable[[], float] = time.perf_counter):
        self.spec = spec
        self.resolver = resolver
        self.n = n
        self.live = live
        self.clock = clock  # perf_counter is CLOCK_MONOTONIC: the same in every process
        self.on_response: Callable[[Response], None] | None = None
        self.on_error: Callable[[Response], None] | None = None
        self.prepared: list = []
        self.stats = Stats(clock)
        self.started_at: str | None = None
        self.aborted = False
        self.interrupted = False
        self.error: str | None = None   # a worker's own report of why it could not run
        self.lost: dict[int, int | None] = {}   # workers that ended without a result: exit codes
        self._stopping = False
        self._ended = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._conns: list = []
        self._procs: list = []
        self._ready: set[int] = set()
        self._latest: list[dict | None] = [None] * n
        self._final: dict[int, dict] = {}
        self._in_flight = [0] * n
        self._cpu = [0.0] * n
        self._marks = [0.0] * n
        self._series = SeriesMerge(n)
        self._lines: list = []
        self._seq = 0
        self._start: float | None = None
        self._cpu_here = 0.0
        self._meter = Meter(clock())

    # -- control ---------------------------------------------------------------
    def prepare(self) -> None:
        """Resolve and build the requests once (an Engine's prepare, for the largest share)."""
        engine = Engine(self.spec, self.resolver, share=Share(0, self.n))
        engine.prepare()
        self.prepared = engine.prepared

    def stop(self, abort: bool = False) -> None:
        """End the run early; safe from any thread or a signal handler."""
        if not self._ended and not abort:
            self.interrupted = True
        self._stopping = True
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._tell_all, ("stop", abort))

    def _tell_all(self, msg) -> None:
        for i, conn in enumerate(self._conns):
            if i not in self._final and i not in self.lost:
                try:
                    conn.send(msg)
                except OSError:
                    pass
        if self._wake is not None:
            self._wake.set()

    # -- running ---------------------------------------------------------------
    async def run(self) -> Stats:
        if not self.prepared:
            await asyncio.to_thread(self.prepare)
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        ctx = mp.get_context("spawn")
        failures = ctx.Value("q", 0)
        flags = {"live": self.live, "verbose": self.on_response is not None,
                 "errors": self.on_error is not None}
        try:
            for i in range(self.n):
                here, there = ctx.Pipe()
                proc = ctx.Process(target=_worker, name=f"kubelab-siege-{i + 1}", daemon=True,
                                   args=(there, self.spec, self.prepared, Share(i, self.n),
                                         failures, flags))
                proc.start()
                there.close()
                self._conns.append(here)
                self._procs.append(proc)
                _watch(self._loop, here, self._readable, i)
            await self._until(lambda: len(self._ready) + len(self.lost) >= self.n
                              or self._stopping)
            self._cpu_here = cpu_seconds()
            self._start = self.clock() + LEAD
            self.stats = self._merged()
            self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
            self._tell_all(("go", self._start))
            if self._stopping:  # stopped while starting: the workers end at once
                self._tell_all(("stop", False))
            await self._until(lambda: len(self._final) + len(self.lost) >= self.n)
        finally:
            self._ended = True
            for i, conn in enumerate(self._conns):
                if i not in self.lost:
                    self._loop.remove_reader(conn.fileno())
                conn.close()
            for proc in self._procs:
                await asyncio.to_thread(proc.join, 5)
                if proc.is_alive():
                    proc.kill()
        self._cpu_here = cpu_seconds() - self._cpu_here
        self._emit(final=True)
        self.stats = self._merged(final=True)
        return self.stats

    async def _until(self, done: Callable[[], bool]) -> None:
        while not done():
            self._wake.clear()
            await self._wake.wait()

    def _readable(self, i: int) -> None:
        conn = self._conns[i]
        try:
            while conn.poll():
                kind, body = conn.recv()
                self._on(i, kind, body)
        except (EOFError, OSError):
            self._loop.remove_reader(conn.fileno())
            if i not in self._final:
                self._gone(i)
        self._wake.set()

    def _on(self, i: int, kind: str, body) -> None:
        if kind == "ready":
            self._ready.add(i)
        elif kind in ("tick", "done"):
            self._latest[i] = body["state"]
            self._in_flight[i] = body["in_flight"]
            self._cpu[i] = body["cpu"]
            self._marks[i] = body["mark"]
            for t, what, r in body["lines"]:
                self._seq += 1
                heapq.heappush(self._lines, (t, self._seq, what, r))
            self._series.add(i, body["seconds"], body["closed"], final=kind == "done")
            if kind == "done":
                self._final[i] = body
                self.aborted = self.aborted or body["aborted"]
            self._emit()
        elif kind == "abort":  # one worker reached the run's failure limit: all end
            self.aborted = True
            self._tell_all(("stop", True))
        elif kind == "error":
            self.error = self.error or body
            self._stopping = True
            self._tell_all(("stop", False))

    def _gone(self, i: int) -> None:
        """A worker ended without its result (killed, crashed): the run cannot go on as
        asked; the others stop, and its figures are those of its last report."""
        self.lost[i] = None
        self._series.add(i, [], 0, final=True)
        self._stopping = True
        self._tell_all(("stop", False))

    def _emit(self, final: bool = False) -> None:
        """-v and [error] lines in time order: those no worker can still precede."""
        going = [m for j, m in enumerate(self._marks) if j not in self._final and j not in self.lost]
        mark = float("inf") if final or not going else min(going)
        while self._lines and self._lines[0][0] <= mark:
            _, _, what, r = heapq.heappop(self._lines)
            out = self.on_response if what == "r" else self.on_error
            if out:
                out(r)

    def _merged(self, final: bool = False) -> Stats:
        st = Stats(self.clock, start=self._start)
        for state in self._latest:
            if state is not None:
                st.merge(state)
        if final:
            st.series = self._series.finish()
            if st.stop_time is None:
                st.stop_time = self.clock()
        else:
            st.series = self._series.series
            # live: no end yet; not started yet: no time has passed
            st.stop_time = None if self._start is not None else st.start
        return st

    # -- reading ---------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return sum(self._in_flight)

    def seconds(self) -> list[dict]:
        """The merged series, closed up to the second every worker has closed."""
        return self._series.series

    def snapshot(self) -> dict:
        st = self.stats if self._ended else self._merged()
        cpu = sum(self._cpu) + cpu_seconds()
        rps, pct = self._meter.read(self.clock(), st.transactions + st.failed, cpu)
        return live(st, rps=rps, cpu=pct, in_flight=self.in_flight, workers=self.n)

    def result(self) -> dict:
        finals = self._final.values()
        cpu = None
        if finals and all(f["cpu_run"] is not None for f in finals):
            cpu = sum(f["cpu_run"] for f in finals) + self._cpu_here
        out = summarise(self.spec, self.stats, aborted=self.aborted,
                        interrupted=self.interrupted or any(f["interrupted"] for f in finals),
                        started_at=self.started_at, cpu_seconds=cpu, workers=self.n)
        if self.lost:
            out["workers_lost"] = {str(i + 1): self._procs[i].exitcode for i in self.lost}
        if self.error:
            out["worker_error"] = self.error
        return out


def _watch(loop: asyncio.AbstractEventLoop, conn, callback, *args) -> None:
    """Call back when `conn` has a message. uvloop makes a watched descriptor
    non-blocking, and a message larger than the pipe's buffer would then fail half
    sent or half read: it is made blocking again (the callback reads only when
    poll() says a message is there, and the other side writes it whole)."""
    loop.add_reader(conn.fileno(), callback, *args)
    os.set_blocking(conn.fileno(), True)


def troubles(result: dict) -> list[str]:
    """What went wrong with a pool's workers, in words (the result keeps it as fields)."""
    out = []
    if result.get("worker_error"):
        out.append(result["worker_error"])
    lost = result.get("workers_lost")
    if lost:
        codes = ", ".join(f"{w} (exit {c})" for w, c in lost.items())
        out.append(f"worker {codes} of {result['workers']} ended before the run did; "
                   "its figures are those of its last report")
    return out


# -- the worker process ---------------------------------------------------------------

def _worker(conn, spec: Spec, prepared: list, share: Share, failures, flags: dict) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to pass on
    engine = Engine(spec, share=share, budget=Budget(spec.failures, failures),
                    prepared=prepared, streamed=True)
    lines: list = []
    if flags["verbose"]:
        engine.on_response = lambda r: lines.append((engine.clock(), "r", r))
    if flags["errors"]:
        engine.on_error = lambda r: lines.append((engine.clock(), "e", r))
    try:
        engine.prepare()
        run_sync(_drive(engine, conn, lines, flags))
    except Exception as exc:  # said to the coordinator, never a silent exit
        _send(conn, ("error", f"worker {share.index + 1}: {type(exc).__name__}: {exc}"))


def _send(conn, msg) -> bool:
    try:
        conn.send(msg)
        return True
    except OSError:  # the coordinator is gone
        return False


def _report(engine: Engine, lines: list, hist: bool) -> dict:
    st = engine.stats
    st.tick()  # close the seconds that passed, quiet ones too
    body = {"state": st.state(hist), "seconds": st.take_seconds(), "closed": st.closed_seconds,
            "in_flight": engine.in_flight, "cpu": cpu_seconds(), "lines": lines[:],
            "mark": engine.clock()}
    lines.clear()
    return body


async def _drive(engine: Engine, conn, lines: list, flags: dict) -> None:
    loop = asyncio.get_running_loop()
    go: asyncio.Future = loop.create_future()

    def readable() -> None:
        try:
            while conn.poll():
                kind, arg = conn.recv()
                if kind == "go" and not go.done():
                    go.set_result(arg)
                elif kind == "stop":
                    engine.stop(abort=arg)
                    if not go.done():
                        go.set_result(None)
        except (EOFError, OSError):  # the coordinator is gone: end, nobody to report to
            loop.remove_reader(conn.fileno())
            engine.stop()
            if not go.done():
                go.set_result(None)

    _watch(loop, conn, readable)
    loop.add_signal_handler(signal.SIGTERM, engine.stop)
    engine.on_abort = lambda: _send(conn, ("abort", None))
    _send(conn, ("ready", None))
    start = await go
    task = asyncio.create_task(engine.run(start_at=start))
    tick = TICK_VERBOSE if flags["verbose"] else TICK
    while not task.done():
        await asyncio.wait([task], timeout=tick)
        if not task.done() and engine.started_at is not None:
            if not _send(conn, ("tick", _report(engine, lines, flags["live"]))):
                engine.stop()
    await task
    body = _report(engine, lines, True)
    body.update(aborted=engine.aborted, interrupted=engine.interrupted,
                cpu_run=engine.cpu_seconds)
    _send(conn, ("done", body))
    loop.remove_signal_handler(signal.SIGTERM)

"""The load engine: siege's closed loop (-c users) and an open loop (--rate R).

Plain http goes through http1.Http1Client (a lean keep-alive client: aiohttp's
per-request cost would cap the rate below siege's), on callbacks: a request is no
task and no future (core._Flow), which halves the CPU a request costs; https goes
through one aiohttp session, a task per request. In-flight requests at the end of
a timed run or at stop() are abandoned and not counted, as siege's cancelled
threads are. Use it in-process (`await Engine(spec).run()`), over several
processes (pool.py, -j N), or through console.loadgen.worker.LoadWorker in a
child process.
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
import resource
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import aiohttp
from yarl import URL

from console.errors import UsageError
from console.loadgen import http1
from console.loadgen.core import NO_END, AioAnswer, EngineCore, Response, _Flow, _User
from console.loadgen.failures import Budget
from console.loadgen.options import FORM, Spec
from console.loadgen.resolve import DirectResolver, Resolver, resolve_url
from console.loadgen.report import Meter, cpu_seconds, live, summarise
from console.loadgen.stats import Stats

LATE = 0.010             # an open-loop send leaving this much after its time is "late"


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed: ~25 % more requests/s from the same core (bench/loadgen).

    KUBELAB_UVLOOP=0 turns it off (to compare, or to rule it out).
    """
    try:
        if os.environ.get("KUBELAB_UVLOOP") == "0":
            raise ImportError
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_sync(coro):
    """asyncio.run on the generator's preferred loop."""
    with asyncio.Runner(loop_factory=new_loop) as runner:
        return runner.run(coro)


@dataclass(frozen=True)
class Share:
    """This engine's part of a run split over `of` processes (pool.py).

    Closed loop: users are dealt out in blocks (user ids stay the run's, so each
    user starts at the URL siege gives it); open loop: the rate and the count are
    split and the arrivals interleaved (index i sends arrivals i, i+of, ...), so
    together they send at --rate, evenly spaced.
    """

    index: int = 0
    of: int = 1


def portion(total: int, index: int, of: int) -> tuple[int, int]:
    """(first, count) of `total` items dealt out over `of` parts, the first ones larger."""
    base, extra = divmod(total, of)
    return index * base + min(index, extra), base + (index < extra)


@dataclass
class _Prepared:
    method: str
    url: URL
    body: bytes | None
    headers: dict[str, str]
    path: str                     # what -v shows after the method (display())
    raw: bytes | None = None      # prebuilt request for the http1 client (plain http)
    key: tuple[str, int] = ("", 0)  # its (host, port)
    head: bool = False            # HEAD: the answer has no body, whatever its head says

    def __post_init__(self):
        self.head = self.method == "HEAD"


def display(method: str, given: str) -> str:
    """The URL as siege's -v line shows it (url_get_display): the path for a GET, the
    whole URL as given for any other method ("POST http://customer:8080/customers")."""
    return URL(given).raw_path_qs if method == "GET" else given


def _ensure_files(users: int, concurrent: int, of: int) -> None:
    """Room for a socket per user of this process (`users` of the run's `concurrent`,
    over `of` processes): raise the soft open-files limit, or say why not."""
    need = users + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and need > soft:
        top = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))
            soft = top
        except (ValueError, OSError):
            pass
        if need > soft:
            where = "this process" if of == 1 else f"each of {of} processes"
            raise UsageError(f"-c {concurrent}: needs about {need} open files, and {where} "
                             f"may open {soft} (ulimit -n; or spread the users over more "
                             "processes with -j N)")


def _basic_auth(u: URL, headers: dict[str, str]) -> None:
    """http://user:pass@host/ sends Basic credentials, as siege, curl and aiohttp do."""
    if u.user is not None and not any(k.lower() == "authorization" for k in headers):
        token = base64.b64encode(f"{u.user}:{u.password or ''}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"


class Engine(EngineCore):
    """One process's run (what a request touches is in EngineCore, core.py)."""

    def __init__(self, spec: Spec, resolver: Resolver | None = None,
                 on_response: Callable[[Response], None] | None = None,
                 on_error: Callable[[Response], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter,
                 share: Share = Share(), budget: Budget | None = None,
                 prepared: list[_Prepared] | None = None, streamed: bool = False):
        """`share`, `budget`, `prepared` and `streamed` are for an engine of a pool (pool.py):
        its part of the users or the rate, the run's failure counter, the requests the
        coordinator built, and statistics kept raw for merging."""
        self.spec = spec
        self.resolver = resolver or DirectResolver()
        self.on_response = on_response   # answered requests (-v)
        self.on_error = on_error         # socket failures ([error] lines)
        self.on_abort: Callable[[], None] | None = None  # the failure threshold was reached here
        self.clock = clock
        self.share = share
        self.budget = budget or Budget(spec.failures)
        self.streamed = streamed
        self.first_user, self.users = portion(spec.concurrent, share.index, share.of)
        self.stats = Stats(clock, streamed)
        self.started_at: str | None = None
        self.aborted = False          # the failure threshold was reached
        self.interrupted = False      # stop() before the run's own end
        self.in_flight = 0
        self._stop: asyncio.Event | None = None
        self._stopping = False    # _stop is set (a flag: read once per request)
        self._halt: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.prepared: list[_Prepared] = prepared or []
        self._tasks: set[asyncio.Task] = set()   # aiohttp requests in flight
        self._perf_clock = clock is time.perf_counter
        self._meter = Meter(clock(), 0, cpu_seconds())
        self._ended = False
        self._cpu_start = self._cpu_end = None

    # -- control ---------------------------------------------------------------
    def stop(self, abort: bool = False) -> None:
        """End the run early; safe to call from any thread or a signal handler.

        `abort`: as the failure threshold ends it (another engine of the pool reached it).
        """
        if not self._ended:
            if abort:
                self.aborted = True
            else:
                self.interrupted = True
        if self._loop is not None and self._stop is not None:
            if not abort:
                self._loop.call_soon_threadsafe(self._halt.set)
            self._loop.call_soon_threadsafe(self._set_stop)

    def prepare(self) -> None:
        """Resolve and build the requests (blocking: may ask the cluster)."""
        _ensure_files(self.users, self.spec.concurrent, self.share.of)
        if not self.prepared:
            self.prepared = self._build()

    def _build(self) -> list[_Prepared]:
        s = self.spec
        out = []
        for t in s.targets:
            url, host = resolve_url(t.url, self.resolver)
            headers = {"User-Agent": s.user_agent, "Accept": "*/*"}
            headers.update(s.headers)
            if host:
                headers["Host"] = host
            if t.body is not None:
                headers.setdefault("Content-Type", s.content_type or FORM)
            elif s.content_type:
                headers.setdefault("Content-Type", s.content_type)
            if not s.keepalive:
                headers["Connection"] = "close"
            u = URL(url, encoded=True)
            prep = _Prepared(t.method, u, t.body, headers, display(t.method, t.url))
            if u.scheme == "http":
                _basic_auth(u, headers)
                prep.key = (u.host, u.port or 80)
                prep.raw = http1.build_request(t.method, u.raw_path_qs or "/",
                                               host or u.host_port_subcomponent, headers, t.body)
            out.append(prep)
        return out

    # -- running ---------------------------------------------------------------
    async def run(self, start_at: float | None = None) -> Stats:
        """The run; `start_at` (a clock() time): begin then, the pool's common start."""
        if not self.prepared:
            await asyncio.to_thread(self.prepare)
        s = self.spec
        self._loop = asyncio.get_running_loop()
        self._halt = asyncio.Event()      # stop(): now, not after the requests on their way
        self._stop = asyncio.Event()
        if self.interrupted:
            self._halt.set()
        if self.interrupted or self.aborted:
            self._set_stop()
        limit = self.users
        # ssl=False: like siege, load a lab's self-signed endpoint without verifying it
        connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0, force_close=not s.keepalive,
                                         ttl_dns_cache=300, ssl=False)
        timeout = aiohttp.ClientTimeout(total=s.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=True,
                                         cookie_jar=aiohttp.DummyCookieJar(),
                                         skip_auto_headers=("User-Agent",)) as session:
            self._http1 = http1.Http1Client(s.timeout, s.keepalive)
            if start_at is not None and start_at > self.clock():
                early = asyncio.ensure_future(self._stop.wait())
                await asyncio.wait([early], timeout=start_at - self.clock())
                early.cancel()
            self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
            self.stats = Stats(self.clock, self.streamed, start_at)
            self._cpu_start = cpu_seconds()
            self._meter = Meter(self.clock(), 0, self._cpu_start)
            if s.rate is None:
                users = [_User(self, session, self.first_user + i) for i in range(self.users)]
                for u in users:
                    u.next()
                work = asyncio.gather(*(u.finished for u in users))
            else:
                work = asyncio.create_task(self._open_loop(session, limit))
            stop_wait = asyncio.create_task(self._stop.wait())
            while True:  # -t: the loop's timers may fire up to its clock resolution early
                done, _ = await asyncio.wait([work, stop_wait], timeout=self._time_left(),
                                             return_when=asyncio.FIRST_COMPLETED)
                left = self._time_left()
                if done or left is None or left <= 0:
                    break
            if self.aborted and not self.interrupted and not work.done():
                await self._drain(work)
            # The end is a state, not only a cancellation: every request checks it when
            # its answer comes, and aborting the connections fails whatever is still in
            # flight at once (abandoned: not counted).
            self._end()
            stop_wait.cancel()
            work.cancel()
            for t in list(self._tasks):
                t.cancel()
            self._http1.close()
            await connector.close()
            await asyncio.gather(work, stop_wait, *self._tasks, return_exceptions=True)
            self._cpu_end = cpu_seconds()
        return self.stats

    def _time_left(self) -> float | None:
        """Seconds until -t's end (None: no time limit)."""
        s = self.spec
        return None if s.seconds is None else self.stats.start + s.seconds - self.clock()

    async def _drain(self, work) -> None:
        """After the failure threshold: the requests on their way finish and count, within
        --timeout and the time limit, unless stop() says now."""
        left, timeout = self._time_left(), self.spec.timeout
        grace = timeout if left is None else max(0.0, min(timeout, left))
        halt = asyncio.create_task(self._halt.wait())
        await asyncio.wait([work, halt], timeout=grace, return_when=asyncio.FIRST_COMPLETED)
        halt.cancel()

    def _end(self) -> None:
        """The run is over: figures freeze now; in-flight requests are abandoned, uncounted."""
        self._ended = True
        self.stats.finish()
        self._set_stop()

    def _set_stop(self) -> None:
        self._stopping = True
        self._stop.set()

    def _abort(self) -> None:
        """The failure threshold is reached: no user starts another request (run() lets
        those on their way finish), and the other engines of a pool are told."""
        told = self.aborted     # stop(abort=True) from the pool: _stop is only scheduled
        self.aborted = True
        self._set_stop()        # now: a user that failed past the limit starts nothing more
        if not told and self.on_abort:
            self.on_abort()

    def _failure(self) -> bool:
        """One more failed transaction: True to count it (False once the run has ended).

        Past the run's limit it still counts, and aborts this engine if another one of
        the pool reached the limit: siege's users each finish the request they are on
        when the threshold is reached, so it reports the limit plus what was in flight
        (4 users refused: 1027 failures; document 004's 100 users: 1123)."""
        if self._ended:
            return False
        if not self.budget.take():
            self._abort()
        return True

    async def _aio(self, session: aiohttp.ClientSession, p: _Prepared) -> tuple:
        """https (and whatever is not plain http) through aiohttp: an answer as http1's."""
        async with session.request(p.method, p.url, data=p.body, headers=p.headers,
                                   allow_redirects=False) as resp:
            nbytes = len(await resp.read())
        v = resp.version
        return AioAnswer(resp.status, f"HTTP/{v.major}.{v.minor}", nbytes,
                       resp.headers.get("Location"), self.clock())

    @staticmethod
    def _follow(p: _Prepared, status: int, location: str) -> _Prepared:
        url = p.url.join(URL(location))
        method, body = p.method, p.body
        if status in (301, 302, 303) and method != "HEAD":
            method, body = "GET", None
        headers = {k: v for k, v in p.headers.items() if k != "Content-Type" or body is not None}
        if url.raw_authority != p.url.raw_authority:
            headers.pop("Host", None)  # elsewhere: that server's own name
        given = URL(p.path)   # a GET's path, or the whole URL as the user gave it
        shown = given.join(URL(location)) if given.absolute else url
        q = _Prepared(method, url, body, headers, display(method, str(shown)))
        if url.scheme == "http":
            q.key = (url.host, url.port or 80)
            q.raw = http1.build_request(method, url.raw_path_qs or "/",
                                        headers.get("Host") or url.host_port_subcomponent,
                                        headers, body)
        return q

    async def _open_loop(self, session: aiohttp.ClientSession, limit: int) -> None:
        """Arrivals at --rate with at most `limit` in flight, and never a queue of unsent ones.

        The loop itself waits for a free slot before it creates a request, so at a rate
        the machine cannot reach memory stays flat and the shortfall is counted: a send
        is late when it leaves more than LATE after its time, dropped when it never
        leaves (no slot came free within --timeout of its time, or the run ended first).
        Latency runs from the intended time, as wrk2 measures (no coordinated omission).
        """
        s, targets, st = self.spec, self.prepared, self.stats
        total = s.total if s.total is not None else (
            None if s.reps is None else s.reps * s.concurrent)
        i, of = self.share.index, self.share.of
        if total is not None:
            total = portion(total, i, of)[1]
        cap = NO_END if total is None else total
        slots = asyncio.Semaphore(limit)
        rate = s.rate / of
        start = st.start + i / s.rate  # this engine's first arrival: the i-th of the run's
        period = 1.0 / rate

        def arrivals(t: float) -> int:
            """Arrivals whose time is at most t seconds into the run (capped at the total)."""
            return 0 if t < 0 else min(cap, math.floor(min(t * rate, NO_END)) + 1)

        sent = 0  # arrivals dealt with: sent or dropped
        try:
            while sent < cap and not self._stopping:
                if slots.locked():
                    st.slot_waits += 1
                await slots.acquire()
                intended = start + sent * period
                now = self.clock()
                if intended > now:
                    await asyncio.sleep(intended - now)
                    now = self.clock()
                if self._stopping:
                    slots.release()
                    break
                if now - intended > s.timeout:
                    skip = max(1, arrivals(now - s.timeout - start) - sent)
                    st.dropped += skip
                    sent += skip
                    slots.release()
                    continue
                if now - intended > LATE:
                    st.late += 1
                k = sent * of + i  # the run's arrival number: the URL it takes
                # from the intended time (a late send counts its wait), or from now when the
                # sleep above woke early (timers run up to the loop's clock resolution ahead)
                _Flow(self, session, slots.release).start(targets[k % len(targets)],
                                                          min(intended, now))
                sent += 1
            for _ in range(limit):  # every slot back: every request has ended
                await slots.acquire()
        finally:
            if self._ended and st.stop_time is not None:
                # due before the end and never sent: the generator could not keep up
                st.dropped += max(0, arrivals(st.stop_time - LATE - start) - sent)

    # -- reading ---------------------------------------------------------------
    def seconds(self) -> list[dict]:
        """The per-second series, closed up to now (for a log written as the run goes)."""
        return self.stats.tick()

    def snapshot(self) -> dict:
        """Live figures for a chart; cheap enough for 10 calls a second."""
        st = self.stats
        rps, cpu = self._meter.read(self.clock(), st.transactions + st.failed, cpu_seconds())
        return live(st, rps=rps, cpu=cpu, in_flight=self.in_flight)

    @property
    def cpu_seconds(self) -> float | None:
        """CPU this process spent on the run (None before its end)."""
        if self._cpu_start is None or self._cpu_end is None:
            return None
        return self._cpu_end - self._cpu_start

    def result(self) -> dict:
        """siege's keys, then the extras and the per-second series (JSON-ready)."""
        return summarise(self.spec, self.stats, aborted=self.aborted,
                         interrupted=self.interrupted, started_at=self.started_at,
                         cpu_seconds=self.cpu_seconds)

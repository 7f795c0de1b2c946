"""The load engine: siege's closed loop (-c users) and an open loop (--rate R).

Plain http goes through http1.Http1Client (a lean keep-alive client: aiohttp's
per-request cost would cap the rate below siege's), https through one aiohttp
session; both are sized to -c. In-flight requests at the end of
a timed run or at stop() are abandoned and not counted, as siege's cancelled
threads are. Use it in-process (`await Engine(spec).run()`) or through
console.loadgen.worker.LoadWorker in a child process.
"""

from __future__ import annotations

import asyncio
import base64
import math
import os
import random
import resource
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import aiohttp
from yarl import URL

from console.errors import UsageError
from console.loadgen import http1, redact
from console.loadgen.failures import error_kind
from console.loadgen.options import FORM, Spec
from console.loadgen.resolve import DirectResolver, Resolver, resolve_url
from console.loadgen.stats import Stats, bottleneck

REDIRECTS = (301, 302, 303, 307, 308)
MAX_HOPS = 5             # siege follows Location (follow-location = true); not forever
LATE = 0.010             # an open-loop send leaving this much after its time is "late"
_NO_END = 1 << 62        # "no total": more arrivals than any run can have


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


@dataclass
class _Prepared:
    method: str
    url: URL
    body: bytes | None
    headers: dict[str, str]
    path: str
    raw: bytes | None = None      # prebuilt request for the http1 client (plain http)
    host: str = ""
    port: int = 0


def _ensure_files(users: int) -> None:
    """Room for a socket per user: raise the soft open-files limit, or say why not."""
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
            raise UsageError(f"-c {users}: needs about {need} open files, and this process "
                             f"may open {soft} (ulimit -n)")


def _basic_auth(u: URL, headers: dict[str, str]) -> None:
    """http://user:pass@host/ sends Basic credentials, as siege, curl and aiohttp do."""
    if u.user is not None and not any(k.lower() == "authorization" for k in headers):
        token = base64.b64encode(f"{u.user}:{u.password or ''}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"


class Engine:
    def __init__(self, spec: Spec, resolver: Resolver | None = None,
                 on_response: Callable[[Response], None] | None = None,
                 on_error: Callable[[Response], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.spec = spec
        self.resolver = resolver or DirectResolver()
        self.on_response = on_response   # answered requests (-v)
        self.on_error = on_error         # socket failures ([error] lines)
        self.clock = clock
        self.stats = Stats(clock)
        self.started_at: str | None = None
        self.aborted = False          # the failure threshold was reached
        self.interrupted = False      # stop() before the run's own end
        self.in_flight = 0
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._prepared: list[_Prepared] = []
        self._snap = (clock(), 0, resource.getrusage(resource.RUSAGE_SELF))
        self._ended = False
        self._cpu_start = self._cpu_end = None

    # -- control ---------------------------------------------------------------
    def stop(self) -> None:
        """End the run early; safe to call from any thread or a signal handler."""
        if not self._ended:
            self.interrupted = True
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    def prepare(self) -> None:
        """Resolve and build the requests (blocking: may ask the cluster)."""
        s = self.spec
        _ensure_files(s.concurrent)
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
            path = URL(t.url).raw_path_qs
            prep = _Prepared(t.method, u, t.body, headers, path)
            if u.scheme == "http":
                _basic_auth(u, headers)
                prep.host, prep.port = u.host, u.port or 80
                prep.raw = http1.build_request(t.method, u.raw_path_qs or "/",
                                               host or u.host_port_subcomponent, headers, t.body)
            out.append(prep)
        self._prepared = out

    # -- running ---------------------------------------------------------------
    async def run(self) -> Stats:
        if not self._prepared:
            await asyncio.to_thread(self.prepare)
        s = self.spec
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self.interrupted:
            self._stop.set()
        limit = s.concurrent
        # ssl=False: like siege, load a lab's self-signed endpoint without verifying it
        connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0, force_close=not s.keepalive,
                                         ttl_dns_cache=300, ssl=False)
        timeout = aiohttp.ClientTimeout(total=s.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=True,
                                         cookie_jar=aiohttp.DummyCookieJar(),
                                         skip_auto_headers=("User-Agent",)) as session:
            self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
            self._http1 = http1.Http1Client(limit, s.timeout, s.keepalive)
            self.stats = Stats(self.clock)
            self._snap = (self.clock(), 0, resource.getrusage(resource.RUSAGE_SELF))
            self._cpu_start = self._snap[2]
            if s.rate is None:
                tasks = [asyncio.create_task(self._user(session, i)) for i in range(s.concurrent)]
            else:
                tasks = [asyncio.create_task(self._open_loop(session, limit))]
            all_done = asyncio.gather(*tasks)
            stop_wait = asyncio.create_task(self._stop.wait())
            await asyncio.wait([all_done, stop_wait], timeout=s.seconds,
                               return_when=asyncio.FIRST_COMPLETED)
            # The end is a state, not only a cancellation: every loop checks it, so a
            # cancel lost inside a library still ends that user at its next request, and
            # aborting the connections fails whatever is still in flight at once.
            self._end()
            stop_wait.cancel()
            for t in tasks:
                t.cancel()
            self._http1.close()
            await connector.close()
            await asyncio.gather(all_done, stop_wait, return_exceptions=True)
            self._cpu_end = resource.getrusage(resource.RUSAGE_SELF)
        return self.stats

    def _end(self) -> None:
        """The run is over: figures freeze now; in-flight requests are abandoned, uncounted."""
        self._ended = True
        self.stats.finish()
        self._stop.set()

    def _check_failures(self) -> None:
        if self.stats.failed >= self.spec.failures and not self.aborted:
            self.aborted = True
            self._end()

    async def _one(self, session: aiohttp.ClientSession, p: _Prepared, t0: float) -> None:
        stats = self.stats
        self.in_flight += 1
        try:
            for _ in range(MAX_HOPS + 1):
                status, version, nbytes, location, now = await self._send(session, p)
                latency = now - t0
                stats.record(status, latency, nbytes, now)
                if self.on_response:
                    self.on_response(Response(status, version, latency, nbytes, p.method, p.path))
                if status not in REDIRECTS or not location:
                    break
                # as siege: the redirect is a transaction, and so is the page it leads to
                p, t0 = self._follow(p, status, location), now
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every socket-level failure is a counted failure
            if self._ended:
                return  # the run's end aborted it: abandoned, as siege's cancelled threads
            kind, detail = error_kind(exc)
            stats.error(kind)
            if self.on_error:
                self.on_error(Response(None, "", self.clock() - t0, 0, p.method, p.path,
                                       kind, detail))
        finally:
            self.in_flight -= 1
        self._check_failures()

    async def _send(self, session: aiohttp.ClientSession, p: _Prepared):
        """(status, version, body bytes, Location, the time the answer was complete)."""
        if p.raw is not None:
            a = await self._http1.request(p.host, p.port, p.raw, p.method == "HEAD")
            # the client stamps perf_counter(); an injected clock keeps its own time
            done = a.done_at if self.clock is time.perf_counter else self.clock()
            return a.status, a.version, a.nbytes, a.location, done
        async with session.request(p.method, p.url, data=p.body, headers=p.headers,
                                   allow_redirects=False) as resp:
            nbytes = len(await resp.read())
        v = resp.version
        return (resp.status, f"HTTP/{v.major}.{v.minor}", nbytes, resp.headers.get("Location"),
                self.clock())

    @staticmethod
    def _follow(p: _Prepared, status: int, location: str) -> _Prepared:
        url = p.url.join(URL(location))
        method, body = p.method, p.body
        if status in (301, 302, 303) and method != "HEAD":
            method, body = "GET", None
        headers = {k: v for k, v in p.headers.items() if k != "Content-Type" or body is not None}
        if url.raw_authority != p.url.raw_authority:
            headers.pop("Host", None)  # elsewhere: that server's own name
        q = _Prepared(method, url, body, headers, url.raw_path_qs)
        if url.scheme == "http":
            q.host, q.port = url.host, url.port or 80
            q.raw = http1.build_request(method, url.raw_path_qs or "/",
                                        headers.get("Host") or url.host_port_subcomponent,
                                        headers, body)
        return q

    async def _user(self, session: aiohttp.ClientSession, uid: int) -> None:
        s, targets = self.spec, self._prepared
        n = len(targets)
        y = uid * (n // s.concurrent) if n >= s.concurrent else 0  # siege's starting URL
        rng = random.Random()
        i = 0
        while (s.reps is None or i < s.reps) and not self._stop.is_set():
            await self._one(session, targets[y % n], self.clock())
            y += 1
            i += 1
            if s.delay > 0:
                await asyncio.sleep(rng.random() * s.delay)

    async def _open_loop(self, session: aiohttp.ClientSession, limit: int) -> None:
        """Arrivals at --rate with at most `limit` in flight, and never a queue of unsent ones.

        The loop itself waits for a free slot before it creates a request, so at a rate
        the machine cannot reach memory stays flat and the shortfall is counted: a send
        is late when it leaves more than LATE after its time, dropped when it never
        leaves (no slot came free within --timeout of its time, or the run ended first).
        Latency runs from the intended time, as wrk2 measures (no coordinated omission).
        """
        s, targets, st = self.spec, self._prepared, self.stats
        total = s.total if s.total is not None else (
            None if s.reps is None else s.reps * s.concurrent)
        cap = _NO_END if total is None else total
        slots = asyncio.Semaphore(limit)
        pending: set[asyncio.Task] = set()
        start = self.clock()
        period = 1.0 / s.rate

        def arrivals(t: float) -> int:
            """Arrivals whose time is at most t seconds into the run (capped at the total)."""
            return 0 if t < 0 else min(cap, math.floor(min(t * s.rate, _NO_END)) + 1)

        def done(task: asyncio.Task) -> None:
            pending.discard(task)
            slots.release()

        sent = 0  # arrivals dealt with: sent or dropped
        try:
            while sent < cap and not self._stop.is_set():
                if slots.locked():
                    st.slot_waits += 1
                await slots.acquire()
                intended = start + sent * period
                now = self.clock()
                if intended > now:
                    await asyncio.sleep(intended - now)
                    now = self.clock()
                if self._stop.is_set():
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
                task = asyncio.create_task(self._one(session, targets[sent % len(targets)], intended))
                pending.add(task)
                task.add_done_callback(done)
                sent += 1
            if pending:
                await asyncio.gather(*pending)
        finally:
            for t in list(pending):
                t.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
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
        now = self.clock()
        requests = st.transactions + st.failed
        ru = resource.getrusage(resource.RUSAGE_SELF)
        t_prev, n_prev, ru_prev = self._snap
        dt = now - t_prev
        rps = (requests - n_prev) / dt if dt > 0 else 0.0
        cpu = ((ru.ru_utime + ru.ru_stime) - (ru_prev.ru_utime + ru_prev.ru_stime)) / dt * 100 if dt > 0 else 0.0
        if dt >= 0.05:
            self._snap = (now, requests, ru)
        t = st.transactions
        return {
            "elapsed": round(st.elapsed, 3),
            "requests": requests,
            "transactions": t,
            "successful": st.successful,
            "failed": st.failed,
            "availability": round(t / (t + st.failed) * 100, 2) if t else 0.0,
            "rps": round(rps, 1),
            "latency": st.percentiles(),
            "last_second": st.series[-1] if st.series else None,
            "status_codes": {str(k): v for k, v in sorted(st.codes.items())},
            "errors": dict(st.errors),
            "in_flight": self.in_flight,
            "late_sends": st.late,
            "dropped_sends": st.dropped,
            "cpu_percent": round(cpu, 1),
        }

    def _cpu_percent(self) -> float | None:
        """The process's CPU over the run, in % of one core: near 100 = the generator was the limit."""
        a, b, el = self._cpu_start, self._cpu_end, self.stats.elapsed
        if a is None or b is None or el <= 0:
            return None
        return round((b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime) / el * 100, 1)

    def result(self) -> dict:
        """siege's keys, then the extras and the per-second series (JSON-ready)."""
        s, st = self.spec, self.stats
        out = st.siege()
        out.update(st.extras())
        out.update({
            "mode": "closed" if s.rate is None else "open",
            "rate": s.rate, "concurrent": s.concurrent, "reps": s.reps, "seconds": s.seconds,
            "keepalive": s.keepalive, "aborted": self.aborted, "interrupted": self.interrupted,
            "started_at": self.started_at,
            "generator_cpu_percent": self._cpu_percent(),
            "urls": [redact.url(f"{t.url} {t.method}" if t.method != "GET" else t.url)
                     for t in s.targets],
            "series": st.series,
        })
        out["bottleneck"] = bottleneck(out)
        return out

"""Envoy's router filter for one request to one upstream cluster: host choice,
retries, timeouts, outlier results and the local replies Envoy words
(source/common/router/router.cc, retry_state_impl.cc).

- Overflow (a circuit breaker) is never retried and never counts against the host:
  503 "upstream connect error or disconnect/reset before headers. reset reason:
  overflow" with `x-envoy-overloaded: true`.
- A connect failure, a reset, a per-try timeout are retried when retryOn has a
  policy for them (5xx and gateway-error cover all three; connect-failure,
  reset, reset-before-request their own); an upstream response is retried on
  5xx / gateway-error (502-504) / retriable-4xx (409) / listed status codes,
  never when it carries x-envoy-overloaded. `attempts` is the number of retries;
  retried requests avoid the hosts already tried; the back-off is Envoy's jittered
  exponential one from 25 ms (istio's `backoff`), capped at ten times that.
- The route timeout covers the whole exchange, retries included (504 "upstream
  request timeout"); perTryTimeout each try (ignored when not below the timeout).
- Replies that passed an upstream carry `x-envoy-upstream-service-time` (ms since
  the router took the request) and the Envoy's `server` header.
Durations are the cluster clock's; the request's own pace (see
network/upstream.py) is the app's.
"""

import asyncio
import random
import time

from console.embedded.apps.base import Request, Response
from console.embedded.mesh.pool import ConnectFailure, Overflow
from console.embedded.mesh.values import seconds

RESET = "upstream connect error or disconnect/reset before headers. "
REASONS = {"connect": "remote connection failure, transport failure reason: delayed connect "
                      "error: Connection refused",
           "reset": "connection termination", "overflow": "overflow"}
DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"


def _request_id() -> str:
    """A UUID v4 as Envoy's x-request-id (cheaper than uuid.uuid4)."""
    h = f"{random.getrandbits(128) & ~(0xF000 << 64) & ~(0xC << 60) | (0x4000 << 64) | (0x8 << 60):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class EnvoyResponse(Response):
    """A response that came out of an Envoy: its header names go out in lower case."""

    envoy = True


def local_reply(status: int, body: str, server: str, overloaded: bool = False) -> EnvoyResponse:
    headers = {"x-envoy-overloaded": "true"} if overloaded else {}
    headers["server"] = server
    return EnvoyResponse(status, body.encode(), "text/plain", headers)


class RetryPolicy:
    """A VirtualService's `retries` as istiod gives it to Envoy (route/retry/retry.go)."""

    def __init__(self, retries, default_on: str = DEFAULT_RETRY_ON, per_try_allowed: bool = True):
        self.num, self.on, self.codes, self.per_try, self.base = 2, set(), set(), None, 0.025
        if isinstance(retries, dict):
            attempts = retries.get("attempts")
            self.num = attempts if isinstance(attempts, int) and attempts > 0 else 0
            text = retries.get("retryOn") if isinstance(retries.get("retryOn"), str) else ""
            default_on = text or default_on
            if per_try_allowed:
                self.per_try = seconds(retries.get("perTryTimeout"))
            self.base = seconds(retries.get("backoff"), 0.025) or 0.025
        for part in default_on.split(","):
            part = part.strip()
            if part.isdigit():
                self.codes.add(int(part))
            elif part:
                self.on.add(part)
        if self.codes:          # istiod adds it when only status codes are listed
            self.on.add("retriable-status-codes")

    def on_status(self, status: int, headers: dict) -> bool:
        if "x-envoy-overloaded" in headers:
            return False
        on = self.on
        return (("5xx" in on and 500 <= status <= 599)
                or ("gateway-error" in on and status in (502, 503, 504))
                or ("retriable-4xx" in on and status == 409)
                or ("retriable-status-codes" in on and status in self.codes))

    def on_reset(self, kind: str) -> bool:
        on = self.on
        if kind == "overflow":
            return False
        if on & {"5xx", "gateway-error", "reset"}:
            return True
        if kind == "connect":
            return bool(on & {"connect-failure", "reset-before-request"})
        return False

    def backoff(self, n: int) -> float:
        ceiling = self.base * 10
        return min(random.uniform(0, ((1 << n) - 1) * self.base), ceiling)


class Router:
    def __init__(self, clock, server: str, detect: bool = True):
        self.clock = clock
        self.server = server
        self.detect = detect

    async def _within(self, aw, sim_seconds: float | None):
        if sim_seconds is None:
            return await aw
        return await asyncio.wait_for(aw, self.clock.real(max(0.0, sim_seconds)))

    async def forward(self, cluster, hosts: list, req: Request, policy: RetryPolicy,
                      timeout: float | None, realtime: bool, worker: int) -> EnvoyResponse:
        clock = self.clock
        started = clock.elapsed()
        t0 = time.monotonic()
        deadline = started + timeout if timeout else None
        per_try = policy.per_try if policy.per_try and (not timeout or policy.per_try < timeout) else None
        tried: set = set()
        retried = 0
        request_id = req.headers.get("x-request-id") or _request_id()
        while True:
            remaining = None if deadline is None else deadline - clock.elapsed()
            if remaining is not None and remaining <= 0:
                return local_reply(504, "upstream request timeout", self.server)
            host = cluster.pick(hosts, worker, tried)
            if host is None:
                return local_reply(503, "no healthy upstream", self.server)
            tried.add(host.key)
            headers = dict(req.headers)
            headers.update({"x-forwarded-proto": "http", "x-request-id": request_id,
                            "x-envoy-attempt-count": str(retried + 1)})
            attempt = Request(req.method, req.target, headers, req.body, req.client)
            kind, resp = await self._try(cluster, host, attempt, realtime, worker, per_try, remaining)
            if kind == "global-timeout":
                return local_reply(504, "upstream request timeout", self.server)
            if kind == "ok":
                if not policy.on_status(resp.status, resp.headers):
                    return self._passed(resp, t0, started, realtime)
            elif kind == "overflow" or not policy.on_reset(kind):
                return self._failed(kind, retried)
            if retried >= policy.num or cluster.retrying >= cluster.limits.retries:
                return self._passed(resp, t0, started, realtime) if kind == "ok" \
                    else self._failed(kind, retried)
            retried += 1
            cluster.retrying += 1
            try:
                wait = policy.backoff(retried)
                if deadline is not None and clock.elapsed() + wait >= deadline:
                    await clock.sleep(max(0.0, deadline - clock.elapsed()))
                    return local_reply(504, "upstream request timeout", self.server)
                await clock.sleep(wait)
            finally:
                cluster.retrying -= 1

    async def _try(self, cluster, host, req, realtime, worker, per_try, remaining):
        pool = cluster.pool(worker, host)
        mark = self.clock.elapsed()
        try:
            conn = await self._within(pool.stream(realtime), remaining)
        except asyncio.TimeoutError:
            return "global-timeout", None
        except Overflow:
            return "overflow", None
        except ConnectFailure:
            self._result(cluster, host, 503)
            return "connect", None
        if remaining is not None:
            remaining -= self.clock.elapsed() - mark
        by_try = per_try is not None and (remaining is None or per_try < remaining)
        limit = per_try if by_try else remaining
        try:
            resp = await self._within(conn.send(req, realtime), limit)
        except asyncio.TimeoutError:
            pool.done(conn, reusable=False)
            self._result(cluster, host, 504)
            return ("timeout" if by_try else "global-timeout"), None
        except ConnectionResetError:
            pool.done(conn, reusable=False)
            self._result(cluster, host, 503)
            return "reset", None
        except BaseException:
            pool.done(conn, reusable=False)
            raise
        if conn.reset:
            pool.done(conn, reusable=False)
            self._result(cluster, host, 503)
            return "reset", None
        pool.done(conn, reusable=resp.headers.get("connection", "").lower() != "close")
        self._result(cluster, host, resp.status)
        return "ok", resp

    def _result(self, cluster, host, status: int) -> None:
        if self.detect and cluster.detector is not None:
            cluster.detector.result(host.key, status)

    def _failed(self, kind: str, retried: int) -> EnvoyResponse:
        if kind == "timeout":
            return local_reply(504, "upstream request timeout", self.server)
        body = RESET + ("retried and the latest " if retried else "") + "reset reason: " + REASONS[kind]
        return local_reply(503, body, self.server, overloaded=kind == "overflow")

    def _passed(self, resp: Response, t0: float, started: float, realtime: bool) -> EnvoyResponse:
        ms = (time.monotonic() - t0) if realtime else (self.clock.elapsed() - started)
        headers = {k: v for k, v in resp.headers.items() if k.lower() != "server"}
        headers["server"] = self.server
        headers["x-envoy-upstream-service-time"] = str(int(ms * 1000))
        return EnvoyResponse(resp.status, resp.body, resp.content_type, headers)

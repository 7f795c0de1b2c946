"""A lean HTTP/1.1 client for plain-http load: prebuilt request bytes, keep-alive pool.

Why not aiohttp's ClientSession for everything: on this 2-core box its per-request
overhead caps a generator at ~1.3k req/s, below siege itself; a protocol that
writes prebuilt bytes and only counts the body does 5-8x that (figures in
bench/loadgen/run). aiohttp still serves https (engine.py).

Handles Content-Length, chunked and close-delimited bodies, HEAD/1xx/204/304,
Connection: close and HTTP/1.0; the body is counted, not kept.
"""

from __future__ import annotations

import asyncio
import time

import httptools

_MAX_HEAD = 64 * 1024


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.x we can read."""


class ServerClosed(ConnectionError):
    """The connection ended cleanly before a whole response arrived."""


def build_request(method: str, target: str, host: str, headers: dict[str, str],
                  body: bytes | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "host"]
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    # UTF-8 as curl and aiohttp send what they were given; options.py has refused CR/LF
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


class _HeadOnly(Exception):
    """Raised from on_headers_complete: the answer to HEAD ends at its head."""


class _Enough(Exception):
    """Raised from _Fields.on_headers_complete: the fields are read."""


_VERSIONS = {"1.1": "HTTP/1.1", "1.0": "HTTP/1.0"}
_NO_BODY = (204, 304)


class _Fields:
    """The two things a load generator needs from the header fields: Location (3xx)
    and whether the body's length is given. A second llhttp pass over the head, made
    only for a 3xx or an answer that will not be kept alive: the hot path (a 2xx on a
    kept-alive connection) pays no Python call per header field."""

    __slots__ = ("parser", "location", "framed")

    def __init__(self, head: bytes):
        self.location: str | None = None
        self.framed = False   # Content-Length or Transfer-Encoding: the body does not end at the close
        self.parser = httptools.HttpResponseParser(self)
        try:
            self.parser.feed_data(head)
        except httptools.HttpParserError:
            pass  # _Enough, or what the first pass has already reported

    def on_message_begin(self) -> None:  # an interim answer (100 Continue) comes first
        self.location, self.framed = None, False

    def on_header(self, name: bytes, value: bytes) -> None:
        low = name.lower()
        if low == b"content-length" or low == b"transfer-encoding":
            self.framed = True
        elif low == b"location":
            self.location = value.strip().decode("latin-1") or None

    def on_headers_complete(self) -> None:
        if self.parser.get_status_code() >= 200:
            raise _Enough


class _Conn(asyncio.Protocol):
    """One connection; llhttp (httptools) frames the answers, we count body bytes.

    httptools has no way to tell the parser that an answer belongs to a HEAD
    (MagicStack/httptools#47) nor to feed it the end of a close-delimited body:
    the first ends the parse at on_headers_complete (and a fresh parser takes the
    next answer), the second is read from connection_lost (llhttp says such an
    answer is not to be kept alive, and _Fields that its length was not given).
    """

    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.deadline = 0.0
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.got_bytes = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.version = ""
        self.keep = False
        self.nbytes = 0
        self.location = None   # for 3xx: where siege would follow
        self.framed = True     # a Content-Length or Transfer-Encoding said where the body ends
        self.in_head = True
        self.head = b""        # the bytes fed while the head was being read
        self.head_only = False

    # asyncio callbacks --------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        if self.waiter is None:  # a server that talks unasked: not a connection to reuse
            self.abort()
            return
        if self.in_head:
            self.head = self.head + data if self.head else data
            if len(self.head) > _MAX_HEAD:
                self._fail(ProtocolError("response head too large"))
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadOnly):
                self.parser = httptools.HttpResponseParser(self)  # this one stopped mid-answer
                self._done(self.keep)
            else:
                self._fail(exc.__context__ or exc)
        except httptools.HttpParserError as exc:
            self._fail(ProtocolError(f"bad response: {exc}"))

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            if not self.in_head and not self.framed and self.status not in _NO_BODY:
                self._done(False)  # the body ran until the close: that was its end
            elif exc is not None:
                self.waiter.set_exception(exc)
            else:
                self.waiter.set_exception(ServerClosed("server closed the connection"))

    # llhttp callbacks ---------------------------------------------------------
    def on_headers_complete(self) -> None:
        p = self.parser
        self.status = status = p.get_status_code()
        if status >= 200:
            self.in_head = False
            v = p.get_http_version()
            self.version = _VERSIONS.get(v) or "HTTP/" + v
            self.keep = p.should_keep_alive()
            if not self.keep or 300 <= status < 400:
                fields = _Fields(self.head)
                self.location, self.framed = fields.location, fields.framed
            if self.head_only:
                raise _HeadOnly

    def on_body(self, body: bytes) -> None:
        self.nbytes += len(body)

    def on_message_complete(self) -> None:
        if self.status < 200:  # an interim answer (100 Continue): the real one follows
            head_only, head = self.head_only, self.head
            self._reset()
            self.head_only, self.head = head_only, head  # _Fields reads past the interim one
            return
        self._done(self.keep)

    # ending -------------------------------------------------------------------
    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self.abort()

    def _done(self, keep: bool) -> None:
        w, self.waiter = self.waiter, None
        if w is not None and not w.done():
            # stamp the time here, not when the awaiting task resumes: a busy loop's
            # scheduling delay is the generator's, not the server's
            w.set_result((self.status, self.version, self.nbytes, keep, self.location,
                          time.perf_counter()))

    # use ------------------------------------------------------------------------
    def send(self, raw: bytes, head_only: bool, deadline: float) -> asyncio.Future:
        self._reset()
        self.head_only = head_only
        self.got_bytes = False
        self.deadline = deadline
        self.waiter = w = self.loop.create_future()
        self.transport.write(raw)
        return w

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class Http1Client:
    """Keep-alive connections to one or more host:port.

    It does not bound how many requests are in flight: the engine does (one per
    user in a closed loop, its slots in an open one), so a request here costs no
    semaphore. A request is the hot path of the generator: one coroutine, one future.
    """

    def __init__(self, timeout: float, keepalive: bool = True):
        self.timeout = timeout
        self.keepalive = keepalive
        self.idle: dict[tuple[str, int], list[_Conn]] = {}
        self.all: set[_Conn] = set()
        # one sweeper instead of a timer per request (a timer costs as much as parsing)
        self._sweeper: asyncio.Task | None = None
        self._loop = asyncio.get_running_loop()
        self.closed = False

    async def _connect(self, host: str, port: int) -> _Conn:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the connection
        # when a cancel arrives as it completes (CPython gh-86296), and a cancelled user
        # then went on sending after the run's end
        async with asyncio.timeout(self.timeout):
            _, conn = await self._loop.create_connection(_Conn, host, port)
        if self.closed:  # the run ended while connecting: no connection outlives it
            conn.abort()
            raise ServerClosed("the run has ended")
        self.all.add(conn)
        if self._sweeper is None:
            self._sweeper = self._loop.create_task(self._sweep())
        return conn

    async def request(self, host: str, port: int, raw: bytes, head_only: bool = False):
        """(status, "HTTP/1.x", body bytes, Location or None, done_at: perf_counter()).

        Raises OSError (refused, reset), TimeoutError, ServerClosed, ProtocolError.
        """
        pool = self.idle.get((host, port))
        if pool is None:
            pool = self.idle[(host, port)] = []
        for attempt in (0, 1):
            conn = None
            while pool:
                c = pool.pop()
                if not c.closed:
                    conn = c
                    break
            reused = conn is not None
            if conn is None:
                conn = await self._connect(host, port)
            try:
                status, version, nbytes, keep, location, done_at = await conn.send(
                    raw, head_only, self._loop.time() + self.timeout)
            except asyncio.CancelledError:
                conn.abort()
                self.all.discard(conn)
                raise
            except OSError as exc:  # ConnectionError, TimeoutError
                conn.abort()
                self.all.discard(conn)
                # a kept-alive connection the server had just closed: one fresh try,
                # as browsers do, when not a byte of the answer came back
                if reused and attempt == 0 and not conn.got_bytes and not isinstance(exc, TimeoutError):
                    continue
                raise
            if keep and self.keepalive and not conn.closed:
                pool.append(conn)
            else:
                conn.abort()
                self.all.discard(conn)
            return status, version, nbytes, location, done_at
        raise AssertionError("unreachable")

    async def _sweep(self) -> None:
        step = min(0.1, self.timeout / 10)
        while True:
            await asyncio.sleep(step)
            now = self._loop.time()
            for conn in list(self.all):
                w = conn.waiter
                if w is not None and conn.deadline <= now and not w.done():
                    w.set_exception(TimeoutError("timed out"))

    def close(self) -> None:
        """Abort every connection: requests still in flight fail at once."""
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for c in list(self.all):
            c.abort()
        self.all.clear()
        self.idle.clear()

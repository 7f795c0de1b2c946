"""A lean HTTP/1.1 client for plain-http load: prebuilt request bytes, keep-alive pool.

Why not aiohttp's ClientSession for everything: on this 2-core box its per-request
overhead caps a generator at ~1.3k req/s, below siege itself; a protocol that
writes prebuilt bytes and only counts the body does 5-8x that (figures in
bench/loadgen/run). aiohttp still serves https (engine.py).

Handles Content-Length, chunked and close-delimited bodies, HEAD/1xx/204/304,
Connection: close and HTTP/1.0; the body is counted, not kept.

Compiled by Cython with the types in http1.pxd (setup.py; console/loadgen/native.py
says which build runs): an attribute or method added to _Conn or Http1Client is
declared there too.
"""

from __future__ import annotations

import asyncio
from time import perf_counter
from typing import Callable

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
    """What a load generator needs from the header fields: Location (3xx) and, at a
    close, whether the head was whole (its status) and the body's length given. A
    second llhttp pass over the head, made only for a 3xx or at a close: the hot path
    (a 2xx on a kept-alive connection) pays no Python call per header field."""

    __slots__ = ("parser", "location", "framed", "status")

    def __init__(self, head: bytes):
        self.location: str | None = None
        self.framed = False   # Content-Length or Transfer-Encoding: the body does not end at the close
        self.status = 0       # of the final answer, once its head is whole
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
        status = self.parser.get_status_code()
        if status >= 200:
            self.status = status
            raise _Enough


class _HeadWatch:
    """llhttp's callbacks for the answer to a HEAD: its head is the whole of it."""

    __slots__ = ("conn",)

    def __init__(self, conn: _Conn):
        self.conn = conn

    def on_headers_complete(self) -> None:
        c = self.conn
        p = c.parser
        status = p.get_status_code()
        if status >= 200:  # not an interim answer (100 Continue)
            c.status, c.keep = status, p.should_keep_alive()
            if 300 <= status < 400:
                c.location = _Fields(c.head).location
            v = p.get_http_version()
            c.head_version = _VERSIONS.get(v) or "HTTP/" + v
            raise _HeadOnly


Answer = tuple  # request(): (status, "HTTP/1.x", body bytes, kept alive, Location or None, done_at)
# send()'s `done(conn, None)`: the answer is read off the connection (status, version,
# nbytes, keep, location, done_at), before anything else is sent on it; or
# `done(None, error)`
Done = Callable[["_Conn | None", BaseException | None], None]


class Reply:
    """What the engine reads of an answer: status, nbytes, location, done_at (and
    `version`, "HTTP/1.x"): a connection just read (_Conn), or the engine's own
    for aiohttp's. Typed in http1.pxd; as plain Python, no slots of its own (a
    base's slots cost _Conn's other attributes CPython's fast path)."""

    __slots__ = ()


class _Conn(Reply):
    """One connection; llhttp (httptools) frames the answers, we count body bytes.

    The hot path (an answer kept alive) is two llhttp callbacks, on_body and
    on_message_complete, and the handing on: no Python call per header field, and
    none at the end of the head. So "still in the head" is "no body byte yet"
    (llhttp never gives an empty one), and the rarer cases read the head again
    (_Fields): a 3xx's Location, and at the close, whether the body ran until it.
    httptools has no way to tell the parser that an answer belongs to a HEAD
    (MagicStack/httptools#47) nor to feed it the end of a close-delimited body:
    a HEAD's answer has a parser of its own (_HeadWatch) that stops at the head,
    and a close-delimited body ends in connection_lost.
    """

    def __init__(self, client: Http1Client, key: tuple[str, int]):
        self.client = client
        self.key = key
        self.keepalive = client.keepalive
        self.pool: list[_Conn] = []     # the client's idle list for this key
        self.transport: asyncio.Transport | None = None
        self.loop = client.loop
        self.parser = httptools.HttpResponseParser(self)
        self.headed = False     # the parser is (was) a HEAD's: the next answer needs a fresh one
        self.done: Done | None = None   # the request in flight: who hears its answer
        self.raw = b""
        self.reused = False
        self.sent = self.swept = 0      # requests sent on it, and as the sweeper last saw
        self.since = 0.0                # the sweeper's loop.time() when it first saw this one
        self.complete = False   # a whole answer has been read, not yet handed on
        self.done_at = 0.0      # perf_counter() when it was
        self.closed = False
        self.status = 0
        self.keep = False
        self.head_only = False
        self.head_version = ""  # HEAD: "HTTP/1.x", read before its parser is replaced
        self.nbytes = 0
        self.location = None    # for 3xx: where siege would follow
        self.head = b""         # the bytes fed before the body began

    @property
    def version(self) -> str:
        """The answer's "HTTP/1.x" (asked of llhttp only when wanted: -v lines; llhttp
        keeps it until the next answer begins)."""
        if self.head_only:
            return self.head_version
        v = self.parser.get_http_version()
        return _VERSIONS.get(v) or "HTTP/" + v

    @property
    def got_bytes(self) -> bool:
        """Some of the answer came back (a stale connection's request is tried again only
        when none did)."""
        return bool(self.nbytes or self.head)

    # asyncio callbacks (asyncio.Protocol's, duck-typed: an extension type has no
    # Python base class) ------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def pause_writing(self) -> None:
        pass  # requests are small and one at a time per connection: nothing to hold back

    def resume_writing(self) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        if self.done is None:  # a server that talks unasked: not a connection to reuse
            self.abort()
            return
        if not self.nbytes:  # still in the head (or a body yet to begin)
            self.head = self.head + data if self.head else data
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadOnly):
                self._complete(self.keep)
            else:
                self._fail(exc.__context__ or exc)
                return
        except httptools.HttpParserError as exc:
            self._fail(ProtocolError(f"bad response: {exc}"))
            return
        # the answer is handed on here, outside llhttp's callbacks: what the engine
        # does with it (the next request, on this very connection) is not parsing
        if self.complete:  # Http1Client._answered's way with an answer, inline (hot path)
            self.complete = False
            done, self.done = self.done, None
            if self.keep and self.keepalive and not self.closed:
                self.pool.append(self)
            else:
                self.client._drop(self)
            done(self, None)
        elif not self.nbytes and len(self.head) > _MAX_HEAD:
            self._fail(ProtocolError("response head too large"))

    def eof_received(self) -> None:
        self.closed = True  # not to be reused: the transport closes (None: let it)

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.done is not None:
            f = _Fields(self.head) if self.head and not self.head_only else None
            if f is not None and f.status and not f.framed and f.status not in _NO_BODY:
                # the body ran until the close: that was its end
                self.status, self.location = f.status, f.location
                self._complete(False)
                self.complete = False
                self.client._answered(self, None)
            else:
                self.client._answered(self, exc or ServerClosed("server closed the connection"))
        else:  # an idle one the server closed: forget it (its pool skips it when popped)
            self.client.all.discard(self)

    # llhttp callbacks ---------------------------------------------------------
    def on_body(self, body: bytes) -> None:
        self.nbytes += len(body)

    def on_message_complete(self) -> None:
        p = self.parser
        status = p.get_status_code()
        if status < 200:  # an interim answer (100 Continue): the real one follows
            return        # (no body; its head stays in self.head, _Fields reads past it)
        self.status = status
        self.keep = p.should_keep_alive()  # llhttp's answer holds only until this returns
        if 300 <= status < 400:
            self.location = _Fields(self.head).location
        # stamp the time here, not when the engine gets to it: a busy loop's
        # scheduling delay is the generator's, not the server's
        self.complete, self.done_at = True, perf_counter()

    # ending -------------------------------------------------------------------
    def _complete(self, keep: bool) -> None:
        self.keep, self.complete, self.done_at = keep, True, perf_counter()

    def answer(self) -> Answer:
        """The answer just read, as a tuple (request()'s)."""
        return (self.status, self.version, self.nbytes, self.keep, self.location, self.done_at)

    def _fail(self, exc: BaseException) -> None:
        if self.done is not None:
            self.client._answered(self, exc)
        self.abort()

    # use ------------------------------------------------------------------------
    def send(self, raw: bytes, head_only: bool, done: Done, reused: bool) -> None:
        # one statement each: four or more names at once build a tuple (hot path)
        self.raw = raw
        self.head_only = head_only
        self.done = done
        self.reused = reused
        self.nbytes = 0
        self.location = None
        self.head = b""
        self.sent += 1
        if head_only or self.headed:
            self.headed = head_only
            self.parser = httptools.HttpResponseParser(_HeadWatch(self) if head_only else self)
        try:
            self.transport.write(raw)
        except (RuntimeError, OSError) as exc:
            # uvloop refuses a write on a transport it has just closed (the server's
            # FIN came before connection_lost): the answer is an error, given later,
            # never from inside send() (reused: one fresh try, as for a stale one)
            self.closed = True
            self.loop.call_soon(self._fail, ServerClosed(f"connection closed: {exc}"))

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class Http1Client:
    """Keep-alive connections to one or more host:port, driven by callbacks.

    send() starts a request and calls `done(conn, None)` or `done(None, error)`
    once, from the event loop (never from inside send()). No future, no task per
    request: this is the generator's hot path. It does not bound how many requests
    are in flight (the engine does: one per user, or its open loop's slots).
    request() is the same, awaited.
    """

    def __init__(self, timeout: float, keepalive: bool = True):
        self.timeout = timeout
        self.keepalive = keepalive
        self.loop = asyncio.get_running_loop()
        self.idle: dict[tuple[str, int], list[_Conn]] = {}
        self.all: set[_Conn] = set()
        self._connecting: set[asyncio.Task] = set()
        # one sweeper instead of a timer per request (a timer costs as much as parsing)
        self._sweeper: asyncio.Task | None = None
        self.closed = False

    def send(self, key: tuple[str, int], raw: bytes, head_only: bool, done: Done) -> None:
        """Send `raw` on an idle connection to key (host, port), or a new one.

        Errors given to `done`: OSError (refused, reset), TimeoutError, ServerClosed,
        ProtocolError.
        """
        pool = self.idle.get(key)
        while pool:
            conn = pool.pop()
            if not conn.closed:
                conn.send(raw, head_only, done, True)
                return
        self._open(key, raw, head_only, done)

    async def request(self, host: str, port: int, raw: bytes, head_only: bool = False) -> Answer:
        """send(), awaited: the answer, or the error raised."""
        fut = self.loop.create_future()

        def done(conn, exc) -> None:
            if not fut.done():
                fut.set_exception(exc) if exc is not None else fut.set_result(conn.answer())

        self.send((host, port), raw, head_only, done)
        return await fut

    def _answered(self, conn: _Conn, exc: BaseException | None) -> None:
        done, conn.done = conn.done, None
        if exc is None:
            if conn.keep and self.keepalive and not conn.closed:
                conn.pool.append(conn)
            else:
                self._drop(conn)
            done(conn, None)
            return
        self._drop(conn)
        # a kept-alive connection the server had just closed: one fresh try, as
        # browsers do, when not a byte of the answer came back
        if conn.reused and not conn.got_bytes and not isinstance(exc, TimeoutError) \
                and not self.closed:
            self._open(conn.key, conn.raw, conn.head_only, done)
            return
        done(None, exc)

    def _drop(self, conn: _Conn) -> None:
        conn.abort()
        self.all.discard(conn)

    def _open(self, key: tuple[str, int], raw: bytes, head_only: bool, done: Done) -> None:
        if self.closed:
            self.loop.call_soon(done, None, ServerClosed("the run has ended"))
            return
        task = self.loop.create_task(self._connect(key))
        self._connecting.add(task)
        task.add_done_callback(lambda t: self._opened(t, raw, head_only, done))

    def _opened(self, task: asyncio.Task, raw: bytes, head_only: bool, done: Done) -> None:
        self._connecting.discard(task)
        if task.cancelled():
            done(None, ServerClosed("the run has ended"))
        elif task.exception() is not None:
            done(None, task.exception())
        else:
            task.result().send(raw, head_only, done, False)

    async def _connect(self, key: tuple[str, int]) -> _Conn:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the connection
        # when a cancel arrives as it completes (CPython gh-86296)
        async with asyncio.timeout(self.timeout):
            _, conn = await self.loop.create_connection(lambda: _Conn(self, key), *key)
        if self.closed:  # the run ended while connecting: no connection outlives it
            conn.abort()
            raise ServerClosed("the run has ended")
        conn.pool = self.idle.setdefault(key, [])
        self.all.add(conn)
        if self._sweeper is None:
            self._sweeper = self.loop.create_task(self._sweep())
        return conn

    async def _sweep(self) -> None:
        """--timeout: a request still unanswered `timeout` after the first sweep that saw
        it fails (so between timeout and timeout + 2 steps after it left; a clock read
        per request would cost more than this whole sweep)."""
        step = min(0.1, self.timeout / 10)
        while True:
            await asyncio.sleep(step)
            now = self.loop.time()
            for conn in list(self.all):
                if conn.done is None:
                    continue
                if conn.swept != conn.sent:
                    conn.swept, conn.since = conn.sent, now
                elif now - conn.since >= self.timeout:
                    conn._fail(TimeoutError("timed out"))

    def close(self) -> None:
        """Abort every connection and connect: requests still in flight fail at once."""
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for task in list(self._connecting):
            task.cancel()
        for c in list(self.all):
            c.abort()
        self.all.clear()
        self.idle.clear()

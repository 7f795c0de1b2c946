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
from typing import NamedTuple

_MAX_HEAD = 64 * 1024


class Answer(NamedTuple):
    status: int
    version: str        # "HTTP/1.1"
    nbytes: int         # body bytes (decoded from chunks)
    location: str | None
    done_at: float      # time.perf_counter() when the last byte arrived


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


class _Conn(asyncio.Protocol):
    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.used = False
        self.got_bytes = False
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.version = ""
        self.mode = None       # None = reading the head; "len", "chunked", "close"
        self.left = 0          # bytes left in a body or in the current chunk
        self.nbytes = 0
        self.location = None   # for 3xx: where siege would follow
        self.keep = True
        self.head_only = False
        self.chunk_state = 0   # 0 size line, 1 data, 2 CRLF after data, 3 trailers

    # asyncio callbacks --------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        self.buf += data
        if self.waiter is not None:
            try:
                self._parse()
            except ProtocolError as exc:
                self._fail(exc)

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            if self.mode == "close":
                self.nbytes += len(self.buf)
                self.buf.clear()
                self._done()
            elif exc is not None:
                self.waiter.set_exception(exc)
            else:
                self.waiter.set_exception(ServerClosed("server closed the connection"))

    # parsing --------------------------------------------------------------------
    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        self.abort()

    def _done(self) -> None:
        w, self.waiter = self.waiter, None
        if w is not None and not w.done():
            # stamp the time here, not when the awaiting task resumes: a busy loop's
            # scheduling delay is the generator's, not the server's
            w.set_result((self.status, self.version, self.nbytes, self.keep, self.location,
                          time.perf_counter()))

    def _parse(self) -> None:
        buf = self.buf
        if self.mode is None:
            i = buf.find(b"\r\n\r\n")
            if i < 0:
                if len(buf) > _MAX_HEAD:
                    raise ProtocolError("response head too large")
                return
            self._head(bytes(buf[:i]))
            del buf[:i + 4]
            if 100 <= self.status < 200:  # an interim answer (100 Continue): the real one follows
                head_only = self.head_only
                self._reset()
                self.head_only = head_only
                self._parse()
                return
        if self.mode == "len":
            take = min(self.left, len(buf))
            if take:
                del buf[:take]
                self.left -= take
                self.nbytes += take
            if self.left == 0:
                self._done()
        elif self.mode == "chunked":
            self._chunks()
        elif self.mode == "close":
            self.nbytes += len(buf)
            buf.clear()

    def _head(self, head: bytes) -> None:
        if not head.startswith(b"HTTP/1.") or len(head) < 12:
            raise ProtocolError(f"bad status line {head[:40]!r}")
        try:
            self.status = int(head[9:12])
        except ValueError:
            raise ProtocolError(f"bad status line {head[:40]!r}") from None
        self.version = "HTTP/1.1" if head[7] == 49 else head[:8].decode("latin-1")
        # only three headers matter; find them in the lowered head, no per-line split
        low = head.lower() + b"\r\n"
        length = _header(low, b"\r\ncontent-length:")
        if length is not None:
            try:
                length = int(length)
            except ValueError:
                raise ProtocolError("bad Content-Length") from None
        chunked = b"chunked" in (_header(low, b"\r\ntransfer-encoding:") or b"")
        conn = _header(low, b"\r\nconnection:") or b""
        if 300 <= self.status < 400:
            i = low.find(b"\r\nlocation:")
            if i >= 0:  # offsets of the lowered head are the head's: keep the URL's case
                i += 11
                self.location = head[i:low.find(b"\r\n", i)].strip().decode("latin-1") or None
        self.keep = conn != b"close" and (self.version == "HTTP/1.1" or conn == b"keep-alive")
        if self.head_only or self.status in (204, 304):
            self.mode, self.left = "len", 0
        elif chunked:
            self.mode = "chunked"
        elif length is not None:
            self.mode, self.left = "len", length
        else:
            self.mode, self.keep = "close", False

    def _chunks(self) -> None:
        buf = self.buf
        while True:
            if self.chunk_state == 0:
                i = buf.find(b"\r\n")
                if i < 0:
                    return
                try:
                    size = int(bytes(buf[:i]).split(b";")[0], 16)
                except ValueError:
                    raise ProtocolError("bad chunk size") from None
                del buf[:i + 2]
                self.left = size
                self.chunk_state = 1 if size else 3
            elif self.chunk_state == 1:
                take = min(self.left, len(buf))
                del buf[:take]
                self.left -= take
                self.nbytes += take
                if self.left:
                    return
                self.chunk_state = 2
            elif self.chunk_state == 2:
                if len(buf) < 2:
                    return
                del buf[:2]
                self.chunk_state = 0
            else:  # trailers: lines until an empty one
                i = buf.find(b"\r\n")
                if i < 0:
                    return
                del buf[:i + 2]
                if i == 0:
                    self._done()
                    return

    # use ------------------------------------------------------------------------
    def send(self, raw: bytes, head_only: bool) -> asyncio.Future:
        self._reset()
        self.head_only = head_only
        self.got_bytes = False
        self.buf.clear()
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return self.waiter

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class Http1Client:
    """Connections to one or more host:port, at most `limit` in use at once."""

    def __init__(self, limit: int, timeout: float, keepalive: bool = True):
        self.timeout = timeout
        self.keepalive = keepalive
        self.slots = asyncio.Semaphore(limit)
        self.idle: dict[tuple[str, int], list[_Conn]] = {}
        self.all: set[_Conn] = set()
        # one sweeper instead of a timer per request (a timer costs as much as parsing)
        self.deadlines: dict[asyncio.Future, float] = {}
        self._sweeper: asyncio.Task | None = None
        self.closed = False

    async def _connect(self, host: str, port: int) -> _Conn:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the connection
        # when a cancel arrives as it completes (CPython gh-86296), and a cancelled user
        # then went on sending after the run's end
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout):
            _, conn = await loop.create_connection(_Conn, host, port)
        if self.closed:  # the run ended while connecting: no connection outlives it
            conn.abort()
            raise ServerClosed("the run has ended")
        self.all.add(conn)
        return conn

    async def request(self, host: str, port: int, raw: bytes, head_only: bool = False):
        """An Answer: status, "HTTP/1.x", body bytes, Location or None, done_at.

        Raises OSError (refused, reset), TimeoutError, ServerClosed, ProtocolError.
        """
        async with self.slots:
            key = (host, port)
            pool = self.idle.setdefault(key, [])
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
                    status, version, nbytes, keep, location, done_at = await self._exchange(
                        conn, raw, head_only)
                except (ConnectionError, OSError) as exc:
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
                return Answer(status, version, nbytes, location, done_at)
        raise AssertionError("unreachable")

    async def _exchange(self, conn: _Conn, raw: bytes, head_only: bool):
        loop = asyncio.get_running_loop()
        if self._sweeper is None:
            self._sweeper = loop.create_task(self._sweep())
        fut = conn.send(raw, head_only)
        self.deadlines[fut] = loop.time() + self.timeout
        try:
            return await fut
        except asyncio.CancelledError:
            conn.abort()
            self.all.discard(conn)
            raise
        finally:
            self.deadlines.pop(fut, None)

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        step = min(0.1, self.timeout / 10)
        while True:
            await asyncio.sleep(step)
            now = loop.time()
            for fut, deadline in list(self.deadlines.items()):
                if deadline <= now:
                    _expire(fut)

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


def _header(low: bytes, name: bytes) -> bytes | None:
    i = low.find(name)
    if i < 0:
        return None
    i += len(name)
    return low[i:low.find(b"\r\n", i)].strip()


def _expire(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError("timed out"))

#!/usr/bin/env python3
"""httptools (llhttp) against the hand-written HTTP/1.1 framing kubelab had before issue 13.

The product parses responses with httptools (console/loadgen/http1.py). The framing
it replaced is kept here, as HandConn, only so that this bench can say what the
change costs or saves:

  bench/loadgen/parsers.py micro          µs per answer, each parser, canned answers
  bench/loadgen/parsers.py cli ARGS...    kubelab siege ARGS on the hand-written
                                          framing (-j1: one process; bench/loadgen/run
                                          puts it beside the product's row)

HandConn is a drop-in for http1._Conn (same client interface: send/abort/_fail,
the answer read off the connection); `cli` swaps it in for this process. Both run
as plain Python (KUBELAB_PURE=1), the build they were compared in.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
# the two framings as Python, as they were compared: the compiled build's _Conn
# cannot be swapped, nor take this bench's stand-in client (console/loadgen/native.py)
os.environ["KUBELAB_PURE"] = "1"

from console.loadgen import http1  # noqa: E402
from console.loadgen.http1 import ProtocolError, ServerClosed  # noqa: E402

_MAX_HEAD = 64 * 1024


def _header(low: bytes, name: bytes) -> bytes | None:
    i = low.find(name)
    if i < 0:
        return None
    i += len(name)
    return low[i:low.find(b"\r\n", i)].strip()


class HandConn(http1._Conn):
    """The framing of console/loadgen/http1.py before httptools (commit 0cf68ad):
    Content-Length, chunked, close-delimited, HEAD/1xx/204/304, found in the head
    with bytes.find, no per-line split."""

    version = ""        # set from the status line (http1._Conn asks llhttp for it)
    got_bytes = False   # set as bytes come (http1._Conn reads it off its state)

    def __init__(self, client, key):
        self.buf = bytearray()
        super().__init__(client, key)
        self._reset()

    def _reset(self) -> None:
        self.nbytes, self.location = 0, None
        self.mode = None       # None = reading the head; "len", "chunked", "close"
        self.left = 0          # bytes left in a body or in the current chunk
        self.keep = True
        self.chunk_state = 0   # 0 size line, 1 data, 2 CRLF after data, 3 trailers

    def send(self, raw, head_only, done, reused) -> None:
        self.buf.clear()
        self._reset()
        self.got_bytes = False
        super().send(raw, head_only, done, reused)

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        if self.done is None:
            self.abort()
            return
        self.buf += data
        try:
            self._parse()
        except ProtocolError as exc:
            self._fail(exc)
            return
        if self.complete:
            self.complete = False
            self.client._answered(self, None)

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.done is None:
            self.client.all.discard(self)
        elif self.mode == "close":
            self.nbytes += len(self.buf)
            self.buf.clear()
            self._complete(False)
            self.complete = False
            self.client._answered(self, None)
        else:
            self.client._answered(self, exc or ServerClosed("server closed the connection"))

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
            if 100 <= self.status < 200:  # an interim answer: the real one follows
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
                self._complete(self.keep)
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
            if i >= 0:
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
                    self._complete(self.keep)
                    return


# --- micro: the same answers through each parser, no sockets ----------------------------------

NGINX = (b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 14:00:00 GMT\r\n"
         b"Content-Type: text/html\r\nContent-Length: 6\r\n"
         b"Last-Modified: Tue, 01 Dec 2026 13:00:00 GMT\r\nConnection: keep-alive\r\n"
         b'ETag: "abc-6"\r\nAccept-Ranges: bytes\r\n\r\nhello\n')
CASES = {
    "nginx 200, Content-Length, one packet": [NGINX],
    "the same in two packets": [NGINX[:60], NGINX[60:]],
    "chunked, 3 chunks": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          b"5\r\nhello\r\n6\r\n world\r\n1\r\n!\r\n0\r\n\r\n"],
    "302 with Location": [b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n"
                          b"Location: /New/Place?A=1\r\n\r\n"],
}


class _Transport:
    def write(self, data) -> None:
        pass

    def abort(self) -> None:
        pass


class _Client:
    """What a _Conn asks of Http1Client: its loop, keepalive, and where answers go."""

    def __init__(self, loop):
        self.loop, self.keepalive, self.all = loop, True, set()
        self.answers = 0

    def done(self, conn, exc) -> None:
        if exc is not None:
            raise exc
        self.answers += 1

    def _answered(self, conn, exc) -> None:
        done, conn.done = conn.done, None
        done(conn, exc)

    def _drop(self, conn) -> None:
        pass


def micro(n: int = 20_000, rounds: int = 15) -> None:
    """Each parser in turn, `rounds` times over (a busy shared box drifts): the best."""
    import asyncio

    async def go():
        loop = asyncio.get_running_loop()
        print(f"µs per answer (best of {rounds} interleaved rounds of {n}), parse and frame "
              "only, no sockets:")
        print(f"  {'':<40} {'httptools':>10} {'hand-written':>13}")
        for name, packets in CASES.items():
            best = {}
            for _ in range(rounds):
                for cls in (http1._Conn, HandConn):
                    client = _Client(loop)
                    conn = cls(client, ("127.0.0.1", 80))
                    conn.connection_made(_Transport())
                    t0 = time.perf_counter()
                    for _ in range(n):
                        conn.send(b"GET / HTTP/1.1\r\n\r\n", False, client.done, True)
                        for p in packets:
                            conn.data_received(p)
                    dt = (time.perf_counter() - t0) / n * 1e6
                    assert client.answers == n, (name, cls, client.answers)
                    best[cls] = min(dt, best.get(cls, dt))
            print(f"  {name:<40} {best[http1._Conn]:10.2f} {best[HandConn]:13.2f}")

    asyncio.run(go())


def cli(argv: list[str]) -> int:
    """kubelab siege on HandConn: one process (the swap is this process's)."""
    http1._Conn = HandConn
    from console import cli as main
    return main.main(["siege", "-j1", *argv])


if __name__ == "__main__":
    if sys.argv[1:2] == ["micro"]:
        micro()
    elif sys.argv[1:2] == ["cli"]:
        sys.exit(cli(sys.argv[2:]))
    else:
        print(__doc__)
        sys.exit(2)

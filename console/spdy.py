"""SPDY/3 framing, as Kubernetes streams it (moby/spdystream, k8s.io/apimachinery
httpstream/spdy): what `kubectl port-forward` speaks to the API server, tunneled in
WebSocket binary messages since kubectl 1.31 (subprotocol
"SPDY/3.1+portforward.k8s.io", KEP-4006), or over a plain HTTP upgrade before.

Sans-IO, shared by the embedded API server and the console's port-forward client
(so it imports nothing of kubelab):

    framer = Framer()
    for frame in framer.feed(data):       # bytes in, whole frames out (any split)
        ...
    framer.syn_stream(1, {"streamtype": "data", "port": "8080", "requestid": "0"})

Header blocks are zlib-compressed with SPDY/3's dictionary, one compression
stream per direction for the connection's life, each block sync-flushed (as Go's
compress/zlib Flush does). Like spdystream there is no flow control: WINDOW_UPDATE
is read and ignored, never sent. Port-forward's stream headers (core/v1 constants):
streamType ("error" | "data"), port, requestID; names travel lower-cased.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
DATA = 0                                   # not a control type: a data frame
FLAG_FIN = 0x01
# RST_STREAM status codes
PROTOCOL_ERROR, INVALID_STREAM, REFUSED_STREAM, CANCEL, INTERNAL_ERROR = 1, 2, 3, 5, 6
MAX_DATA = (1 << 24) - 1

TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"   # WebsocketsSPDYTunnelingPrefix + portforward.k8s.io
PORTFORWARD_PROTOCOL = "portforward.k8s.io"

_WORDS = (
    "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
    "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
    "cache-control", "connection", "content-base", "content-encoding", "content-language",
    "content-length", "content-location", "content-md5", "content-range", "content-type",
    "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
    "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
    "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
    "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent",
    "vary", "via", "warning", "www-authenticate", "method", "get", "status", "200 OK",
    "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin")
_TAIL = (b"100101201202205206300302303304305306307402405406407408409410411412413414415416417"
         b"502504505203 Non-Authoritative Information204 No Content301 Moved Permanently"
         b"400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
         b"501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct "
         b"Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
         b"image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,"
         b"publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.")


def _dictionary() -> bytes:
    """The SPDY/3 header-compression dictionary (draft 3, section 2.6.10.1): 1,423 bytes."""
    return b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL


DICTIONARY = _dictionary()


class ProtocolError(Exception):
    """The peer sent something that is not SPDY/3 (the connection should end)."""


@dataclass
class Frame:
    type: int                       # DATA or a control type
    stream: int = 0
    flags: int = 0
    headers: dict = field(default_factory=dict)
    data: bytes = b""
    value: int = 0                  # RST/GOAWAY status, PING id, WINDOW_UPDATE delta

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


class Framer:
    def __init__(self, max_frame: int = MAX_DATA):
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY,
                                         zdict=DICTIONARY)
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._buf = bytearray()
        self.max_frame = max_frame

    # -- reading -------------------------------------------------------------------
    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        out = []
        while len(self._buf) >= 8:
            first, second = struct.unpack_from(">II", self._buf)
            length = second & 0xFFFFFF
            if length > self.max_frame:
                raise ProtocolError(f"frame of {length} bytes is too large")
            if len(self._buf) < 8 + length:
                break
            body = bytes(self._buf[8:8 + length])
            del self._buf[:8 + length]
            flags = second >> 24
            if first & 0x80000000:
                version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
                if version != VERSION:
                    raise ProtocolError(f"SPDY version {version}, not 3")
                frame = self._control(kind, flags, body)
                if frame is not None:
                    out.append(frame)
            else:
                out.append(Frame(DATA, first & 0x7FFFFFFF, flags, data=body))
        return out

    def _control(self, kind: int, flags: int, body: bytes) -> Frame | None:
        try:
            if kind == SYN_STREAM:
                stream = struct.unpack_from(">I", body)[0] & 0x7FFFFFFF
                return Frame(kind, stream, flags, self._headers(body[10:]))
            if kind in (SYN_REPLY, HEADERS):
                stream = struct.unpack_from(">I", body)[0] & 0x7FFFFFFF
                return Frame(kind, stream, flags, self._headers(body[4:]))
            if kind in (RST_STREAM, GOAWAY, WINDOW_UPDATE):
                stream, value = struct.unpack_from(">II", body)
                return Frame(kind, stream & 0x7FFFFFFF, flags, value=value & 0x7FFFFFFF
                             if kind == WINDOW_UPDATE else value)
            if kind == PING:
                return Frame(kind, flags=flags, value=struct.unpack_from(">I", body)[0])
            if kind == SETTINGS:
                return Frame(kind, flags=flags, data=body)
        except struct.error:
            raise ProtocolError(f"control frame {kind} is too short") from None
        return None                  # unknown control frames are ignored (spec 2.2.1)

    def _headers(self, block: bytes) -> dict:
        try:
            raw = self._inflate.decompress(block)
        except zlib.error as exc:
            raise ProtocolError(f"header block does not inflate: {exc}") from None
        headers, pos = {}, 4
        try:
            (count,) = struct.unpack_from(">I", raw)
            for _ in range(count):
                (n,) = struct.unpack_from(">I", raw, pos)
                name = raw[pos + 4:pos + 4 + n].decode("latin-1").lower()
                pos += 4 + n
                (n,) = struct.unpack_from(">I", raw, pos)
                headers[name] = raw[pos + 4:pos + 4 + n].decode("latin-1")
                pos += 4 + n
        except struct.error:
            raise ProtocolError("header block is cut short") from None
        return headers

    # -- writing -------------------------------------------------------------------
    def _block(self, headers: dict) -> bytes:
        raw = struct.pack(">I", len(headers))
        for name, value in headers.items():
            n, v = str(name).lower().encode("latin-1"), str(value).encode("latin-1")
            raw += struct.pack(">I", len(n)) + n + struct.pack(">I", len(v)) + v
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    @staticmethod
    def _frame(kind: int, flags: int, body: bytes) -> bytes:
        return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body

    def syn_stream(self, stream: int, headers: dict, fin: bool = False) -> bytes:
        body = struct.pack(">IIBB", stream, 0, 0, 0) + self._block(headers)
        return self._frame(SYN_STREAM, FLAG_FIN if fin else 0, body)

    def syn_reply(self, stream: int, headers: dict | None = None, fin: bool = False) -> bytes:
        return self._frame(SYN_REPLY, FLAG_FIN if fin else 0,
                           struct.pack(">I", stream) + self._block(headers or {}))

    @staticmethod
    def data(stream: int, payload: bytes = b"", fin: bool = False) -> bytes:
        out = []
        for i in range(0, max(len(payload), 1), MAX_DATA):
            chunk = payload[i:i + MAX_DATA]
            last = i + MAX_DATA >= len(payload)
            out.append(struct.pack(">II", stream & 0x7FFFFFFF,
                                   ((FLAG_FIN if fin and last else 0) << 24) | len(chunk)) + chunk)
        return b"".join(out)

    def rst_stream(self, stream: int, status: int = CANCEL) -> bytes:
        return self._frame(RST_STREAM, 0, struct.pack(">II", stream, status))

    def ping(self, ping_id: int) -> bytes:
        return self._frame(PING, 0, struct.pack(">I", ping_id))

    def goaway(self, last_stream: int = 0, status: int = 0) -> bytes:
        return self._frame(GOAWAY, 0, struct.pack(">II", last_stream, status))

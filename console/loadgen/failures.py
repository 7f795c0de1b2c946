"""What went wrong with a request, in siege's words: refused, reset, timeout, ...

The kinds are the keys of the summary's "Errors" line and of result["errors"];
the detail is what the [error] line says. Budget counts failures against siege's
--failures limit.
"""

from __future__ import annotations

import asyncio
import errno
import socket

import aiohttp

from console.loadgen import http1

_DNS_ERRORS = tuple(t for t in (getattr(aiohttp, "ClientConnectorDNSError", None),) if t)


def error_kind(exc: BaseException) -> tuple[str, str]:
    """(kind, detail) for a failed request: refused, reset, timeout, closed, ..."""
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "timeout", "connection timed out"
    if isinstance(exc, socket.gaierror):
        return "dns", f"unable to resolve the host: {exc.strerror or exc}"
    if isinstance(exc, _DNS_ERRORS):
        return "dns", "unable to resolve the host"
    if isinstance(exc, ConnectionRefusedError):
        return "refused", "unable to connect: Connection refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return "reset", "read error: Connection reset by peer"
    if isinstance(exc, http1.ServerClosed):
        return "closed", "server closed the connection"
    if isinstance(exc, http1.ProtocolError):
        return "protocol", str(exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_err = exc.os_error
        if isinstance(os_err, ConnectionRefusedError) or getattr(os_err, "errno", 0) == errno.ECONNREFUSED:
            return "refused", "unable to connect: Connection refused"
        return "connect", f"unable to connect: {getattr(os_err, 'strerror', None) or os_err}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "closed", "server closed the connection"
    if isinstance(exc, aiohttp.ClientOSError):
        if exc.errno in (errno.ECONNRESET, errno.EPIPE):
            return "reset", "read error: Connection reset by peer"
        return "socket", exc.strerror or str(exc)
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "truncated", "response body cut short"
    if isinstance(exc, aiohttp.ClientResponseError):
        return "protocol", exc.message or "bad HTTP response"
    if isinstance(exc, OSError):
        return "socket", exc.strerror or str(exc)
    return "other", f"{type(exc).__name__}: {exc}"


class Budget:
    """siege's --failures: the run aborts when this many transactions failed.

    One engine counts its own; the engines of a pool share a counter in shared
    memory (a multiprocessing.Value), so the limit is the run's, not each one's.
    Past the limit no request starts, but those on their way still count, as
    siege's do (see Engine._failure).
    """

    def __init__(self, limit: int, shared=None):
        self.limit = limit
        self.shared = shared
        self.count = 0

    def take(self) -> bool:
        """Count one failure; False when the limit had already been reached (by any engine)."""
        if self.shared is None:
            if self.count >= self.limit:
                return False
            self.count += 1
            return True
        with self.shared.get_lock():
            if self.shared.value >= self.limit:
                return False
            self.shared.value += 1
            return True

    def spent(self) -> bool:
        return (self.count if self.shared is None else self.shared.value) >= self.limit

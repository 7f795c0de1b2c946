"""Connections as kube-apiserver's http.Server bounds them (server/secure_serving.go).

ReadHeaderTimeout (32 s there): a connection whose request head has not fully
arrived in time is closed, so a client that sends half a request and waits
(slowloris) cannot hold connections open for ever. aiohttp has no such timer;
HeadTimeout stands in front of its protocol and arms one per connection until the
first head is complete (later requests on a kept-alive connection fall under
aiohttp's keep-alive timeout, 90 s as IdleTimeout). Request bodies are taken as
sent: like Go's server, no Content-Encoding is decoded (AppRunner(auto_decompress=False)).
"""

import asyncio

READ_HEADER_TIMEOUT = 32.0
IDLE_TIMEOUT = 90.0


class HeadTimeout(asyncio.Protocol):
    def __init__(self, inner: asyncio.Protocol, timeout: float):
        self.inner = inner
        self.timeout = timeout
        self.transport = None
        self._timer: asyncio.TimerHandle | None = None
        self._tail = b""

    def connection_made(self, transport) -> None:
        self.transport = transport
        self._timer = asyncio.get_running_loop().call_later(self.timeout, self._expire)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._timer is not None:
            seen = self._tail + data
            if b"\r\n\r\n" in seen:
                self._cancel()
            else:
                self._tail = seen[-3:]
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def connection_lost(self, exc) -> None:
        self._cancel()
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        self.transport.abort()


async def listen(runner, host: str, port: int, ssl_context, head_timeout: float):
    """An asyncio Server for an aiohttp AppRunner (after setup()), heads bounded in time."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: HeadTimeout(runner.server(), head_timeout),
                                    host, port, ssl=ssl_context, reuse_address=True)

"""pods/{name}/exec over WebSocket, the way kubectl 1.30+ and the official client
speak it (v5.channel.k8s.io / v4.channel.k8s.io: one byte of channel, then data;
0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 resize, 255 close a stream).

As the kubelet's streaming server: output is sent as it is written (coalesced
per turn of the event loop, in 32 KiB frames, bytes untouched), stdin is fed
as it arrives and a v5 close of channel 0 is end-of-file, resize frames size
the tty, the exit status comes last on channel 3 (`NonZeroExitCode` with the
code as its cause), and a command the runtime cannot start is the
InternalError containerd gives. The client going away hangs the session up.
Frames may be binary or text (the Python client writes text).
SPDY (kubectl before 1.30) is answered with a 400 that says so.
"""

import asyncio
import hashlib
import json
import os
from collections import deque

from aiohttp import WSMsgType, web

from console.embedded.api.logs import _container
from console.embedded.api.status import ApiError, bad_request, not_found

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
FRAME = 32 * 1024


def _status(code: int, argv: list[str]) -> dict:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"{argv}, exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def _start_failed(error: str) -> dict:
    """What kubelet sends when containerd could not start the exec'd process."""
    exec_id = hashlib.sha256(os.urandom(16)).hexdigest()
    cause = (f"error executing command in container: failed to exec in container: failed to "
             f'start exec "{exec_id}": {error}')
    return {"metadata": {}, "status": "Failure", "message": f"Internal error occurred: {cause}",
            "reason": "InternalError", "details": {"causes": [{"message": cause}]}, "code": 500}


def _flag(q, name: str) -> bool:
    return q.get(name) in ("true", "1")


class _Sender:
    """Output frames in order, merged while the socket is busy."""

    def __init__(self, ws):
        self.ws = ws
        self.queue: deque = deque()
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.broken = False
        self.task = asyncio.ensure_future(self._run())

    def put(self, channel: int, data) -> None:
        if self.broken or not data:
            return
        data = data.encode() if isinstance(data, str) else bytes(data)
        if self.queue and self.queue[-1][0] == channel and len(self.queue[-1][1]) < FRAME:
            self.queue[-1][1].extend(data)
        else:
            self.queue.append((channel, bytearray(data)))
        self.idle.clear()
        self.wake.set()

    async def _run(self) -> None:
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                while self.queue:
                    channel, data = self.queue.popleft()
                    for i in range(0, len(data), FRAME):
                        await self.ws.send_bytes(bytes([channel]) + bytes(data[i:i + FRAME]))
                self.idle.set()
        except (ConnectionResetError, RuntimeError):
            self.broken = True
            self.queue.clear()
            self.idle.set()

    async def drain(self) -> None:
        await self.idle.wait()

    def close(self) -> None:
        self.task.cancel()


async def serve(request, cluster, t) -> web.StreamResponse:
    q = request.query
    argv = q.getall("command", [])
    pod = cluster.store.get("pods", t.namespace or "", t.name)
    if pod is None:
        raise not_found("pods", t.name)
    if not argv:
        raise bad_request("you must specify at least one command for the container")
    container = _container(pod, q.get("container"))
    if not (pod.get("spec") or {}).get("nodeName"):
        raise bad_request(f"pod {t.name} does not have a host assigned")
    kubelet = getattr(cluster, "kubelet", None)
    c = kubelet.container(t.namespace, t.name, container) if kubelet else None
    if c is None or getattr(c, "state", None) != "running" or c.app is None:
        raise bad_request(f'unable to upgrade connection: container not found ("{container}")')
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise ApiError(400, "exec needs a WebSocket upgrade (v5.channel.k8s.io); this client "
                       "offered " + (request.headers.get("Upgrade") or "none") +
                       " (kubectl 1.30 or newer speaks WebSocket)", "BadRequest")
    ws = web.WebSocketResponse(protocols=PROTOCOLS, heartbeat=30)
    await ws.prepare(request)
    sender = _Sender(ws)
    want_out, want_err = q.get("stdout", "true") != "false", _flag(q, "stderr")
    session = c.app.exec_session(
        argv, out=(lambda d: sender.put(STDOUT, d)) if want_out else (lambda d: None),
        err=(lambda d: sender.put(STDERR, d)) if want_err else (lambda d: None),
        tty=_flag(q, "tty"), stdin=_flag(q, "stdin"))
    reader = None
    try:
        error = session.start_error()
        if error:
            await ws.send_bytes(bytes([ERROR]) + json.dumps(_start_failed(error)).encode())
            return ws
        session.start()
        reader = asyncio.ensure_future(_read(ws, session))
        done, _ = await asyncio.wait([session.task, reader], return_when=asyncio.FIRST_COMPLETED)
        if session.task not in done:          # the client left first
            await session.hangup()
            return ws
        code = await session.wait()
        await sender.drain()
        if not sender.broken:
            await ws.send_bytes(bytes([ERROR]) + json.dumps(_status(code, argv)).encode())
    except (ConnectionResetError, RuntimeError):
        await session.hangup()
    finally:
        if reader is not None:
            reader.cancel()
        sender.close()
        await ws.close()
    return ws


async def _read(ws, session) -> None:
    """The client's frames until it closes the connection."""
    async for msg in ws:
        if msg.type == WSMsgType.BINARY:
            data = msg.data
        elif msg.type == WSMsgType.TEXT:
            data = msg.data.encode("utf-8", "surrogateescape") if msg.data else b""
            if msg.data and ord(msg.data[0]) < 256:
                data = bytes([ord(msg.data[0])]) + msg.data[1:].encode()
        else:
            break
        if not data:
            continue
        channel, payload = data[0], data[1:]
        if channel == STDIN:
            session.feed(payload)
        elif channel == RESIZE:
            try:
                size = json.loads(payload or b"{}")
                session.resize(int(size.get("Width", 0)), int(size.get("Height", 0)))
            except (ValueError, TypeError, AttributeError):
                pass
        elif channel == CLOSE and payload[:1] == bytes([STDIN]):
            session.close_stdin()

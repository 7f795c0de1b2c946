"""pods/{name}/portforward over WebSocket, the two ways kube-apiserver and the
kubelet speak it:

SPDY/3.1+portforward.k8s.io  kubectl 1.31+ (KEP-4006): SPDY frames tunneled in
    WebSocket binary messages. Per local connection kubectl opens an error stream
    then a data stream, both with headers streamType, port, requestID; the kubelet
    pairs them by requestID, connects to localhost:port in the pod, copies bytes
    both ways, and writes any failure to the error stream ("error forwarding port
    8080 to pod <sandbox>, uid : ..."), which makes kubectl drop the connection
    ("lost connection to pod"). PINGs are echoed.
v4.channel.k8s.io            the WebSocket channel protocol (the Python client):
    ?ports=8080,9090, one TCP connection per port, channel 2i data and 2i+1 error,
    each channel's first message the port as two bytes, little-endian.

The connection reaches the pod's app in its network namespace (network/proxy.py
PodPort), as socat/nsenter do on a node: no Service, no mesh. A plain SPDY upgrade
(kubectl 1.30 and older, POST) is answered with a 400 that says so.
"""

import asyncio
import hashlib
import logging
import struct

from aiohttp import WSMsgType, web

from console import spdy
from console.embedded.api.status import ApiError, bad_request, not_found
from console.embedded.network.proxy import HttpConn, PodPort

log = logging.getLogger("kubelab.api.portforward")
CHANNEL_PROTOCOLS = ("v4.channel.k8s.io", "channel.k8s.io")
PROTOCOLS = (spdy.TUNNEL_PROTOCOL,) + CHANNEL_PROTOCOLS
PAIR_TIMEOUT = 30.0        # kubelet's streamCreationTimeout


def _running_pod(cluster, t) -> tuple[dict, object]:
    pod = cluster.store.get("pods", t.namespace or "", t.name)
    if pod is None:
        raise not_found("pods", t.name)
    if not (pod.get("spec") or {}).get("nodeName"):
        raise bad_request(f"pod {t.name} does not have a host assigned")
    kubelet = getattr(cluster, "kubelet", None)
    worker = kubelet.worker(t.namespace, t.name) if kubelet else None
    phase = (pod.get("status") or {}).get("phase")
    if worker is None or phase != "Running":
        raise bad_request(f"unable to upgrade connection: pod {t.name} is not running "
                          f"(phase {phase or 'Pending'})")
    return pod, worker


def sandbox_id(uid: str) -> str:
    return hashlib.sha256(f"sandbox/{uid}".encode()).hexdigest()


async def serve(request, cluster, t) -> web.StreamResponse:
    pod, worker = _running_pod(cluster, t)
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise ApiError(400, "port-forward needs a WebSocket upgrade (" + spdy.TUNNEL_PROTOCOL +
                       " or v4.channel.k8s.io); this client offered " +
                       (request.headers.get("Upgrade") or "none") +
                       " (kubectl 1.31 or newer speaks WebSocket)", "BadRequest")
    ports = []
    for text in ",".join(request.query.getall("ports", [])).split(","):
        if text.strip():
            try:
                ports.append(int(text))
            except ValueError:
                raise bad_request(f"invalid port {text!r}")
    ws = web.WebSocketResponse(protocols=PROTOCOLS, heartbeat=30, max_msg_size=0)
    await ws.prepare(request)
    target = Target(worker, pod["metadata"].get("uid", ""))
    try:
        if ws.ws_protocol == spdy.TUNNEL_PROTOCOL:
            await Tunnel(ws, target).run()
        elif ws.ws_protocol in CHANNEL_PROTOCOLS:
            await Channels(ws, target, ports).run()
    except (ConnectionResetError, RuntimeError):
        pass
    except spdy.ProtocolError as exc:
        log.info("port-forward to %s/%s: %s", t.namespace, t.name, exc)
    finally:
        await ws.close()
    return ws


class Target:
    """The pod end: a connection to one of its ports, or the kubelet's words for why not."""

    def __init__(self, worker, uid: str):
        self.worker, self.uid = worker, uid

    def open(self, port: int, transport):
        """An HttpConn bound to the pod's app at `port`; raises OSError with the kubelet's message."""
        sandbox = sandbox_id(self.uid)
        head = f"error forwarding port {port} to pod {sandbox}, uid : "
        if self.worker.removed:
            raise OSError(head + f'failed to find sandbox "{sandbox}" in store: not found')
        app = self.worker.listener(port)
        if app is None:
            raise OSError(head + f"failed to execute portforward in network namespace "
                          f'"/var/run/netns/cni-{self.uid}": failed to connect to localhost:{port} '
                          f'inside namespace "{sandbox}", IPv4: dial tcp4 127.0.0.1:{port}: '
                          f"connect: connection refused IPv6 dial tcp6 [::1]:{port}: connect: "
                          "connection refused ")
        conn = HttpConn(PodPort(app, port))
        conn.client = "127.0.0.1"          # port-forward enters the pod as localhost
        conn.connection_made(transport)
        return conn

    def reset_message(self, port: int) -> str:
        return (f"error forwarding port {port} to pod {sandbox_id(self.uid)}, uid : "
                "read: connection reset by peer")


class _Transport(asyncio.Transport):
    """What HttpConn writes to: bytes go back over one stream of the WebSocket."""

    def __init__(self, on_data, on_close, on_reset):
        super().__init__()
        self._on_data, self._on_close, self._on_reset = on_data, on_close, on_reset
        self._closing = False

    def write(self, data) -> None:
        if not self._closing:
            self._on_data(bytes(data))

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._on_close()

    def abort(self) -> None:
        if not self._closing:
            self._closing = True
            self._on_reset()

    def is_closing(self) -> bool:
        return self._closing

    def get_extra_info(self, name, default=None):
        return default


class Tunnel:
    """One SPDY session in one WebSocket: streams paired by requestID."""

    def __init__(self, ws, target: Target):
        self.ws, self.target = ws, target
        self.framer = spdy.Framer()
        self.out: asyncio.Queue = asyncio.Queue()
        self.pairs: dict[str, dict] = {}          # requestID -> {"error": id, "data": id, ...}
        self.by_stream: dict[int, dict] = {}

    def send(self, data: bytes) -> None:
        self.out.put_nowait(data)

    async def _writer(self) -> None:
        while True:
            data = await self.out.get()
            if data is None:
                return
            await self.ws.send_bytes(data)

    async def run(self) -> None:
        writer = asyncio.ensure_future(self._writer())
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.BINARY:
                    if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                        break
                    continue
                for frame in self.framer.feed(msg.data):
                    if not self.on_frame(frame):
                        return
        finally:
            for pair in list(self.pairs.values()):
                conn = pair.get("conn")
                if conn is not None:
                    conn.connection_lost(None)
            self.out.put_nowait(None)
            try:
                await asyncio.wait_for(writer, 5)
            except (asyncio.TimeoutError, ConnectionResetError, RuntimeError):
                writer.cancel()

    def on_frame(self, f: spdy.Frame) -> bool:
        if f.type == spdy.SYN_STREAM:
            self.send(self.framer.syn_reply(f.stream))
            kind, rid = f.headers.get("streamtype"), f.headers.get("requestid", "")
            try:
                port = int(f.headers.get("port", ""))
            except ValueError:
                self.send(self.framer.rst_stream(f.stream, spdy.PROTOCOL_ERROR))
                return True
            pair = self.pairs.setdefault(rid, {"port": port})
            pair[kind] = f.stream
            self.by_stream[f.stream] = pair
            if "error" in pair and "data" in pair and "conn" not in pair:
                self._connect(rid, pair)
            elif len(pair) == 2:
                asyncio.get_running_loop().call_later(PAIR_TIMEOUT, self._unpaired, rid)
        elif f.type == spdy.DATA:
            pair = self.by_stream.get(f.stream)
            conn = pair.get("conn") if pair else None
            if conn is not None and f.stream == pair.get("data"):
                if f.data:
                    conn.data_received(f.data)
                if f.fin:                   # the local client closed its side
                    if conn.busy:
                        conn.closing = True
                    else:
                        conn.transport.close()
        elif f.type == spdy.RST_STREAM:
            pair = self.by_stream.get(f.stream)
            if pair is not None and pair.get("conn") is not None:
                pair["conn"].connection_lost(None)
                self._forget(pair)
        elif f.type == spdy.PING:
            self.send(self.framer.ping(f.value))
        elif f.type == spdy.GOAWAY:
            return False
        return True

    def _unpaired(self, rid: str) -> None:
        pair = self.pairs.get(rid)
        if pair is not None and "conn" not in pair:
            for kind in ("error", "data"):
                if kind in pair:
                    self.send(self.framer.rst_stream(pair[kind], spdy.REFUSED_STREAM))
            self._forget(pair)

    def _forget(self, pair: dict) -> None:
        for kind in ("error", "data"):
            self.by_stream.pop(pair.get(kind), None)
        self.pairs = {k: v for k, v in self.pairs.items() if v is not pair}

    def _connect(self, rid: str, pair: dict) -> None:
        data, error, port = pair["data"], pair["error"], pair["port"]

        def closed():                       # the pod's side ended: FIN both ways
            self.send(self.framer.data(data, fin=True) + self.framer.data(error, fin=True))
            self._forget(pair)

        def reset():                        # the app died under the connection
            self.send(self.framer.data(error, self.target.reset_message(port).encode(), fin=True)
                      + self.framer.rst_stream(data))
            self._forget(pair)

        transport = _Transport(lambda b: self.send(self.framer.data(data, b)), closed, reset)
        try:
            pair["conn"] = self.target.open(port, transport)
        except OSError as exc:
            self.send(self.framer.data(error, str(exc).encode(), fin=True)
                      + self.framer.data(data, fin=True))
            self._forget(pair)


class Channels:
    """The channel protocol: one connection per requested port, for the socket's life."""

    def __init__(self, ws, target: Target, ports: list[int]):
        self.ws, self.target, self.ports = ws, target, ports
        self.conns: dict[int, HttpConn] = {}
        self.out: asyncio.Queue = asyncio.Queue()
        self.open_ports = 0

    async def run(self) -> None:
        if not self.ports:
            await self.ws.send_bytes(bytes([1]) + b"query parameter \"port\" is required")
            return
        writer = asyncio.ensure_future(self._writer())
        for i, port in enumerate(self.ports):
            prefix = struct.pack("<H", port)
            self.out.put_nowait(bytes([2 * i]) + prefix)
            self.out.put_nowait(bytes([2 * i + 1]) + prefix)
            self._open(i, port)
        try:
            async for msg in self.ws:
                if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
                if msg.type != WSMsgType.BINARY or not msg.data:
                    continue
                channel, payload = msg.data[0], msg.data[1:]
                conn = self.conns.get(channel // 2) if channel % 2 == 0 else None
                if conn is not None and payload:
                    conn.data_received(payload)
                if self.open_ports == 0:
                    break
        finally:
            for conn in self.conns.values():
                conn.connection_lost(None)
            self.out.put_nowait(None)
            try:
                await asyncio.wait_for(writer, 5)
            except (asyncio.TimeoutError, ConnectionResetError, RuntimeError):
                writer.cancel()

    async def _writer(self) -> None:
        while True:
            data = await self.out.get()
            if data is None:
                break
            await self.ws.send_bytes(data)
        if self.open_ports == 0:     # every port's connection ended: so does the socket
            await self.ws.close()

    def _open(self, i: int, port: int) -> None:
        def done(message: str | None):
            if message:
                self.out.put_nowait(bytes([2 * i + 1]) + message.encode())
            self.conns.pop(i, None)
            self.open_ports -= 1
            if self.open_ports == 0:
                self.out.put_nowait(None)    # the writer sends what is left, then closes

        self.open_ports += 1
        transport = _Transport(lambda b: self.out.put_nowait(bytes([2 * i]) + b),
                               lambda: done(None), lambda: done(self.target.reset_message(port)))
        try:
            self.conns[i] = self.target.open(port, transport)
        except OSError as exc:
            done(str(exc))

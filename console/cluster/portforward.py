"""Port-forward to a Service through the API server, following its ready endpoints.

`kubectl port-forward svc/order 8080` picks one pod when it starts and dies with
it. Here a local listener on 127.0.0.1 stands for the Service port, and each
connection made to it goes, like kube-proxy's, to one of the Service's ready pods
picked at random — or, when none is ready, to one that is still serving while it
terminates (kube-proxy's fallback, console/endpoints.py: a scale-down's or a
rollout's last old pods) — through pods/portforward on the API server: SPDY tunneled in a
WebSocket as kubectl 1.31+ does it (one tunnel per pod, a stream pair per
connection), or the v4.channel.k8s.io WebSocket protocol (one socket per
connection) when the API server does not offer the tunnel (before 1.31). When a
pod leaves that set no new connection goes to it (a re-target); the connections
it had end as its app ends them. A connection with no pod to go to, or refused by
the kubelet, is reset, as a Service without endpoints resets it.

    hub = Hub(conn)                        # a thread with its event loop, per session
    host, port = hub.forward("default", "order", 8080)
    hub.stats("default", "order", 8080)    # pods, connections, re-targets, refusals
    hub.close()

The ready set comes from an EndpointSlice informer (informers.py: list, watch,
resume, relist on 410) in the namespace. Credentials are the connection's own:
the kubernetes client's Configuration (its exec plugin refreshes the token before
each new tunnel), its CA, client certificate and proxy.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import struct
import threading
from urllib.parse import quote

from console import bus as busmod
from console import spdy
from console.endpoints import usable
from console.errors import UsageError

log = logging.getLogger("kubelab.portforward")
CHANNEL = "v4.channel.k8s.io"
SERVICE_NAME = "kubernetes.io/service-name"


class Refused(ConnectionError):
    """The API server or the kubelet said no (its words)."""


def client_tls(cfg) -> tuple[ssl.SSLContext, dict]:
    """An SSL context and the auth headers from a kubernetes Configuration."""
    if cfg.ssl_ca_cert:
        ctx = ssl.create_default_context(cafile=cfg.ssl_ca_cert)
    else:
        ctx = ssl.create_default_context()
    if cfg.cert_file:
        ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
    if not cfg.verify_ssl:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    headers = {}
    for setting in cfg.auth_settings().values():      # refreshes an exec plugin's token
        if setting.get("in") == "header" and setting.get("value"):
            headers[setting["key"]] = setting["value"]
    return ctx, headers


# -- one connection's two directions, whichever protocol carries it --------------------
class Pipe:
    """Bytes from the pod (recv; None at its end) and to it (send, eof, reset)."""

    def __init__(self, send, eof, reset):
        self.incoming: asyncio.Queue = asyncio.Queue()
        self.error = ""
        self._send, self._eof, self._reset = send, eof, reset

    async def recv(self) -> bytes | None:
        return await self.incoming.get()

    def send(self, data: bytes) -> None:
        self._send(data)

    def eof(self) -> None:
        self._eof()

    def reset(self) -> None:
        self._reset()


class Tunnel:
    """One SPDY-over-WebSocket session to one pod; a stream pair per connection."""

    def __init__(self, ws):
        self.ws = ws
        self.framer = spdy.Framer()
        self.out: asyncio.Queue = asyncio.Queue()
        self.next_id = 1
        self.request = 0
        self.streams: dict[int, tuple[str, Pipe]] = {}
        self.closed = False
        self._tasks = [asyncio.ensure_future(self._read()), asyncio.ensure_future(self._write())]

    def _put(self, data: bytes) -> None:
        if not self.closed:
            self.out.put_nowait(data)

    async def _write(self) -> None:
        try:
            while (data := await self.out.get()) is not None:
                await self.ws.send_bytes(data)
        except (ConnectionError, RuntimeError):
            pass
        finally:
            self._close()

    async def _read(self) -> None:
        import aiohttp
        try:
            async for msg in self.ws:
                if msg.type != aiohttp.WSMsgType.BINARY:
                    continue
                for f in self.framer.feed(msg.data):
                    self._frame(f)
        except (spdy.ProtocolError, ConnectionError, RuntimeError) as exc:
            log.info("port-forward tunnel ended: %s", exc)
        finally:
            self._close()

    def _frame(self, f: spdy.Frame) -> None:
        kind, pipe = self.streams.get(f.stream, (None, None))
        if f.type == spdy.DATA and pipe is not None:
            if kind == "error":
                pipe.error += f.data.decode("utf-8", "replace")
            elif f.data:
                pipe.incoming.put_nowait(f.data)
            if f.fin:
                self.streams.pop(f.stream, None)
                if kind == "data":
                    pipe.incoming.put_nowait(None)
                elif pipe.error:           # the kubelet gave up on this connection
                    pipe.incoming.put_nowait(None)
        elif f.type == spdy.RST_STREAM and pipe is not None:
            self.streams.pop(f.stream, None)
            pipe.incoming.put_nowait(None)
        elif f.type == spdy.PING:
            self._put(self.framer.ping(f.value))
        elif f.type == spdy.GOAWAY:
            self._close()

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for _, pipe in list(self.streams.values()):
            pipe.incoming.put_nowait(None)
        self.streams.clear()
        self.out.put_nowait(None)
        asyncio.ensure_future(self.ws.close())

    def open(self, port: int) -> Pipe:
        if self.closed:
            raise ConnectionResetError("the tunnel to the pod is closed")
        error, data, rid = self.next_id, self.next_id + 2, str(self.request)
        self.next_id += 4
        self.request += 1

        def reset():
            self.streams.pop(error, None)
            self.streams.pop(data, None)
            self._put(self.framer.rst_stream(data))
        pipe = Pipe(lambda b: self._put(self.framer.data(data, b)),
                    lambda: self._put(self.framer.data(data, fin=True)), reset)
        self.streams[error] = ("error", pipe)
        self.streams[data] = ("data", pipe)
        headers = {"streamtype": "error", "port": str(port), "requestid": rid}
        self._put(self.framer.syn_stream(error, headers))
        self._put(self.framer.data(error, fin=True))          # kubectl writes nothing on it
        self._put(self.framer.syn_stream(data, dict(headers, streamtype="data")))
        return pipe

    async def close(self) -> None:
        self._close()
        for t in self._tasks:
            t.cancel()


async def channel_pipe(ws, port: int) -> Pipe:
    """One connection over the channel protocol: data on channel 0, errors on 1,
    each starting with the port as two bytes little-endian."""
    import aiohttp
    pipe = Pipe(lambda b: asyncio.ensure_future(ws.send_bytes(b"\x00" + b)),
                lambda: None, lambda: asyncio.ensure_future(ws.close()))
    seen = {0: False, 1: False}

    async def read():
        try:
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.BINARY or not msg.data:
                    continue
                ch, payload = msg.data[0], msg.data[1:]
                if ch in seen and not seen[ch]:
                    seen[ch] = True
                    if struct.unpack("<H", payload[:2])[0] != port:
                        break
                    continue
                if ch == 0:
                    pipe.incoming.put_nowait(payload)
                elif ch == 1:
                    pipe.error += payload.decode("utf-8", "replace")
        finally:
            pipe.incoming.put_nowait(None)
    asyncio.ensure_future(read())
    return pipe


# -- the hub: a loop thread, tunnels per pod, listeners per Service port ---------------
class Hub:
    def __init__(self, conn):
        self.conn = conn
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="port-forward",
                                       daemon=True)
        self.thread.start()
        self.forwards: dict[tuple[str, str, int], ServiceForward] = {}
        self.slices: dict[str, dict[str, dict]] = {}          # namespace -> uid -> slice
        self._informers = {}
        self._lock = threading.Lock()
        self._http = None
        self.tunnels: dict[tuple[str, str], Tunnel] = {}
        self.channel_only = False      # the API server offered no SPDY tunnel

    def _run(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # -- endpoints ------------------------------------------------------------------------
    def _watch(self, namespace: str) -> None:
        from console.cluster.informers import Informer
        with self._lock:
            if namespace in self._informers:
                return
            private = busmod.Bus()
            sub = private.subscribe()
            table = self.slices.setdefault(namespace, {})
            synced = threading.Event()

            def fold():
                while not sub.closed:
                    for ev in sub.get_batch(timeout=1.0):
                        if isinstance(ev, busmod.ObjectChanged):
                            if ev.type == "DELETED":
                                table.pop(ev.uid, None)
                            else:
                                table[ev.uid] = ev.obj
                        elif isinstance(ev, busmod.Synced):
                            for uid in set(table) - set(ev.uids):
                                table.pop(uid, None)
                            synced.set()
                        elif isinstance(ev, busmod.WatchState) and ev.state != "live" and ev.detail:
                            log.info("endpoint slices in %s: %s", namespace, ev.detail)
            threading.Thread(target=fold, name=f"forward-slices-{namespace}", daemon=True).start()
            inf = Informer(self.conn.api, namespace, "endpointslices", private).start()
            self._informers[namespace] = (inf, sub)
        synced.wait(30)

    def targets(self, namespace: str, service: str, port_name: str) -> tuple[list[tuple[str, int]], bool]:
        """(pod, target port) of each endpoint of the Service port that takes new
        connections (kube-proxy's rule), and whether they are terminating ones."""
        found = []
        for sl in list(self.slices.get(namespace, {}).values()):
            if (sl.get("metadata", {}).get("labels") or {}).get(SERVICE_NAME) != service:
                continue
            number = next((p.get("port") for p in sl.get("ports") or []
                           if (p.get("name") or "") == port_name), None)
            if number is None:
                continue
            found += [(ep, int(number)) for ep in sl.get("endpoints") or []
                      if (ep.get("targetRef") or {}).get("kind") == "Pod"]
        chosen, terminating = usable(found, lambda pair: pair[0])
        return sorted({(ep["targetRef"]["name"], port) for ep, port in chosen}), terminating

    # -- the public door ------------------------------------------------------------------
    def forward(self, namespace: str, service: str, port: int) -> tuple[str, int]:
        """The local address that stands for Service `service` port `port`."""
        key = (namespace, service, port)
        fwd = self.forwards.get(key)
        if fwd is None:
            from console.cluster import rest
            try:
                svc = rest.get(self.conn.api, "Service", namespace, service)
            except Exception as exc:
                from console.cluster.errors import message_of
                raise UsageError(f"service {service}: {message_of(exc)}") from None
            sp = next((p for p in (svc.get("spec") or {}).get("ports") or [] if p.get("port") == port), None)
            if sp is None:
                raise UsageError(f"service {service} has no port {port}")
            self._watch(namespace)
            fwd = ServiceForward(self, namespace, service, port, sp.get("name") or "")
            self._run(fwd.listen())
            self.forwards[key] = fwd
        return fwd.address

    def stats(self, namespace: str, service: str, port: int) -> dict:
        fwd = self.forwards.get((namespace, service, port))
        return {} if fwd is None else fwd.stats()

    def close(self) -> None:
        for inf, sub in list(self._informers.values()):
            inf.stop()
            sub.close()
        self._informers.clear()

        async def shut():
            for fwd in self.forwards.values():
                fwd.close()
            # the connections still being served end here, not as tasks destroyed pending
            # when the loop stops ("Task was destroyed but it is pending!")
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in others:
                t.cancel()
            await asyncio.gather(*others, return_exceptions=True)
            for t in list(self.tunnels.values()):
                await t.close()
            if self._http is not None:
                await self._http.close()
        try:
            self._run(shut(), 10)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    # -- in the loop ----------------------------------------------------------------------
    def _url(self, namespace: str, pod: str, port: int | None = None) -> str:
        base = self.conn.api.configuration.host.rstrip("/")
        url = f"{base}/api/v1/namespaces/{quote(namespace)}/pods/{quote(pod)}/portforward"
        return url + (f"?ports={port}" if port is not None else "")

    async def _connect(self, url: str, protocols: tuple[str, ...]):
        import aiohttp
        if self._http is None:
            self._http = aiohttp.ClientSession()
        cfg = self.conn.api.configuration
        ctx, headers = client_tls(cfg)
        try:
            return await self._http.ws_connect(url, protocols=protocols, ssl=ctx, headers=headers,
                                               heartbeat=30, max_msg_size=0, proxy=cfg.proxy or None,
                                               timeout=aiohttp.ClientWSTimeout(ws_receive=None))
        except aiohttp.WSServerHandshakeError as exc:
            raise Refused(f"{exc.status} {exc.message}") from None

    async def pipe(self, namespace: str, pod: str, port: int) -> Pipe:
        """A connection to `pod`:`port` through the API server."""
        if not self.channel_only:
            tunnel = self.tunnels.get((namespace, pod))
            if tunnel is None or tunnel.closed:
                try:
                    ws = await self._connect(self._url(namespace, pod), (spdy.TUNNEL_PROTOCOL,))
                except Refused as exc:
                    if not str(exc).startswith("400"):
                        raise
                    ws = None                  # an API server before 1.31: no tunnel
                if ws is not None and ws.protocol == spdy.TUNNEL_PROTOCOL:
                    tunnel = self.tunnels[(namespace, pod)] = Tunnel(ws)
                else:
                    if ws is not None:
                        await ws.close()
                    self.channel_only = True
            if not self.channel_only:
                return tunnel.open(port)
        ws = await self._connect(self._url(namespace, pod, port), (CHANNEL,))
        return await channel_pipe(ws, port)

    def sweep(self, namespace: str, ready: set[str]) -> None:
        """Tunnels to pods that no longer take connections close once theirs ended."""
        for key, t in list(self.tunnels.items()):
            if key[0] == namespace and key[1] not in ready and (t.closed or not t.streams):
                del self.tunnels[key]
                asyncio.ensure_future(t.close())


class ServiceForward:
    """One Service port: a local listener, the pods behind it, what happened."""

    def __init__(self, hub: Hub, namespace: str, service: str, port: int, port_name: str):
        self.hub, self.namespace, self.service, self.port, self.port_name = \
            hub, namespace, service, port, port_name
        self.server = None
        self.address = ("127.0.0.1", 0)
        self.connections = 0
        self.refused = 0               # connections reset at once: no pod to go to, or the API said no
        self.dropped = 0               # connections the kubelet ended with an error (the pod went)
        self.retargets = 0             # pods that left the ready set while we used them
        self.fallback = False          # no ready pod: to serving-and-terminating ones
        self.to_terminating = 0        # connections sent so (kube-proxy's fallback)
        self.last_error = ""
        self._used: set[str] = set()
        self.open: dict[str, int] = {}     # pod -> connections open to it now

    async def listen(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.address = self.server.sockets[0].getsockname()[:2]

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def stats(self) -> dict:
        ready, terminating = self.hub.targets(self.namespace, self.service, self.port_name)
        self._notice({p for p, _ in ready}, terminating)
        return {"service": self.service, "port": self.port, "address": "%s:%d" % self.address,
                "pods": [p for p, _ in ready], "terminating": terminating,
                "connections": self.connections, "refused": self.refused, "dropped": self.dropped,
                "retargets": self.retargets, "to_terminating": self.to_terminating,
                "in_use": dict(self.open),
                "last_error": self.last_error}

    def _notice(self, names: set[str], terminating: bool) -> None:
        """Pods we sent connections to that no longer take them: new ones go elsewhere."""
        for gone in self._used - names:
            self.retargets += 1
            log.info("port-forward %s/%s: pod %s is no longer ready; re-targeting to %s",
                     self.namespace, self.service, gone, ", ".join(sorted(names)) or "nothing")
        if terminating and not self.fallback:
            log.info("port-forward %s/%s: no ready pod; to %s while they terminate, as kube-proxy",
                     self.namespace, self.service, ", ".join(sorted(names)))
        self.fallback = terminating
        self._used &= names

    def _pick(self) -> tuple[str, int] | None:
        ready, terminating = self.hub.targets(self.namespace, self.service, self.port_name)
        names = {p for p, _ in ready}
        self._notice(names, terminating)
        self.hub.sweep(self.namespace, names)
        if not ready:
            return None
        self.to_terminating += terminating
        pod, port = random.choice(ready)
        self._used.add(pod)
        return pod, port

    async def _serve(self, reader, writer) -> None:
        self.connections += 1
        picked = self._pick()
        pipe = None
        if picked is not None:
            try:
                pipe = await self.hub.pipe(self.namespace, *picked)
            except Exception as exc:      # the API server said no, or cannot be reached
                self.last_error = str(exc)
        if pipe is None:
            self.refused += 1
            writer.transport.abort()
            return
        pod = picked[0]
        self.open[pod] = self.open.get(pod, 0) + 1

        async def up():
            try:
                while data := await reader.read(65536):
                    pipe.send(data)
                pipe.eof()
            except ConnectionError:
                pipe.reset()

        sending = asyncio.ensure_future(up())
        clean = True
        try:
            while (data := await pipe.recv()) is not None:
                writer.write(data)
                await writer.drain()
            clean = not pipe.error
        except ConnectionError:
            clean = False
        finally:
            sending.cancel()
            self.open[pod] -= 1
            if not self.open[pod]:
                del self.open[pod]
            if pipe.error:
                self.dropped += 1
                self.last_error = pipe.error
            if clean:
                writer.close()
            else:
                writer.transport.abort()

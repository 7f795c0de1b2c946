"""A Service port on a loopback listener, speaking HTTP/1.1 to the pods' apps.

Like kube-proxy (iptables mode), a plain connection is bound to one READY
endpoint, picked at random when it opens. While no endpoint would take it (none,
or no app listening on the port) the listener refuses connections, as a real
client is refused (gate.py); a connection given to one pod whose app is not
listening while others are is reset. Requests then go straight to the app's
in-process handler (no second TCP hop) -- through the pod's inbound sidecar
when it has one (console/embedded/mesh).

Where a connection comes from decides what it meets (`origin`):
  "host"     the per-Service listener (kubelab.dev/host-ports): the lab's client
             pod in the Service's namespace; when that namespace is injected it
             goes through that pod's Envoy (mesh.stand_in), which picks an
             endpoint per request and applies DestinationRules/VirtualServices
  "outside"  NodePorts and LoadBalancer addresses: kube-proxy only
  "pod"      a pod's egress listener (egress.py): requests routed by Host
The choice is made when the connection opens, as a sidecar is there or not for
a connection's life; rule changes act on the next request.
"""

import asyncio
import logging
import random
import socket
import struct
from collections import deque

from console.embedded.apps.base import REASONS, Request, Response, SecondStamp, head_lines
from console.embedded.controllers.base import map_matches, pod_ready

MAX_HEAD = 64 * 1024
log = logging.getLogger("kubelab.network")


def reset(transport) -> None:
    """Close with RST, as a port nobody listens on answers."""
    sock = transport.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    transport.abort()


class ServiceProxy:
    """One Service port: its endpoints and what a new connection to it reaches."""

    def __init__(self, network, svc: dict, svc_port: dict):
        self.network = network
        self.svc = svc
        self.svc_port = svc_port
        self.server: asyncio.AbstractServer | None = None
        self.address = ""
        self.connections = 0
        self.requests = 0
        self.witness = None           # (worker, port) last found to take connections

    @property
    def key(self) -> tuple[str, str]:
        return (self.svc["metadata"].get("namespace") or "default", self.svc["metadata"]["name"])

    @property
    def fqdn(self) -> str:
        ns, name = self.key
        return f"{name}.{ns}.svc.cluster.local"

    def endpoints(self) -> list[tuple[str, int]]:
        return self.network.endpoints(self.svc, self.svc_port)

    def accepting(self, origin: str) -> bool:
        """Would a connection opened now meet something that takes it? Host traffic
        into an injected namespace meets its client's Envoy, which always does; else
        a usable endpoint whose pod listens on the port (its app, or its inbound
        sidecar). The last one found is checked first (the pod still running,
        ready, selected and listening): at 5,000 endpoints most asks cost nothing."""
        if origin == "host" and self.network.mesh.injected(self.key[0]):
            return True
        if self.witness is not None and self._takes(*self.witness, strict=True):
            return True
        kubelet = getattr(self.network.cluster, "kubelet", None)
        self.witness = None
        for ip, port in self.endpoints():
            worker = kubelet.by_ip.get(ip) if kubelet is not None else None
            if worker is not None and self._takes(worker, port):
                self.witness = (worker, port)
                return True
        return False

    def _takes(self, worker, port: int, strict: bool = False) -> bool:
        if worker.removed:
            return False
        if strict:
            pod = worker.pod
            if pod["metadata"].get("deletionTimestamp") or not pod_ready(pod) or not map_matches(
                    (self.svc.get("spec") or {}).get("selector"), pod["metadata"].get("labels")):
                return False
        return self.network.mesh.accepts(worker, port)

    def pick(self):
        """kube-proxy's choice for a new connection: (pod worker, port), or None."""
        eps = self.endpoints()
        if not eps:
            return None
        ip, port = random.choice(eps)
        kubelet = getattr(self.network.cluster, "kubelet", None)
        worker = kubelet.by_ip.get(ip) if kubelet is not None else None
        return None if worker is None else (worker, port)

    def target(self):
        """What a plain connection reaches: (peer, send(req)), or None (reset)."""
        picked = self.pick()
        if picked is None:
            return None
        worker, port = picked
        mesh = self.network.mesh
        if not mesh.has_sidecar(worker):         # the plain path: the app's own handler
            app = worker.listener(port)
            return None if app is None else (app, app.handle)
        got = mesh.target(worker, self.fqdn, self.svc_port["port"], port)
        if got is None:
            return None
        peer, send = got
        return peer, lambda req: send(req, True)

    def stand_in(self):
        """The connection's Envoy when host traffic meets the mesh (injected namespace)."""
        mesh = self.network.mesh
        ns, _ = self.key
        if not mesh.injected(ns):
            return None
        envoy = mesh.stand_in(ns)
        worker, key, port = envoy.worker(), self.key, self.svc_port["port"]
        return envoy, lambda req: envoy.forward(key, port, req, True, worker)


class PodPort:
    """One port of one pod, reached as a port-forward reaches it: straight into the
    pod's network namespace (localhost:port), no Service, no kube-proxy, no mesh."""

    def __init__(self, app, port: int):
        self.app, self.port = app, port
        self.connections = 0
        self.requests = 0

    def stand_in(self):
        return None                  # localhost inside the pod: no Envoy in the way

    def target(self):
        if self.app is None or not self.app.accepts(self.port):
            return None
        return self.app, self.app.handle


class HttpConn(asyncio.Protocol):
    def __init__(self, proxy: "ServiceProxy | None", origin: str = "host", egress=None):
        self.proxy = proxy
        self.origin = origin
        self.egress = egress          # origin "pod": the pod's egress (egress.py)
        self.app = None               # the peer: an app, a pod's sidecar, an Envoy
        self.send = None              # req -> Response | awaitable
        self.task: asyncio.Future | None = None     # the request in progress
        self.transport = None
        self.buf = b""
        self.queue: deque = deque()
        self.busy = False
        self.closing = False      # close after the response in progress
        self.client = "10.244.0.1"
        self._continued = False
        self._date = SecondStamp("%a, %d %b %Y %H:%M:%S GMT")   # the connection's own (no module cache)

    # -- connection ----------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        if self.origin == "pod":
            self.app, self.send = self.egress.listener_peer(self)
        elif self.proxy is not None:
            self.proxy.connections += 1
            got = (self.origin == "host" and self.proxy.stand_in()) or self.proxy.target()
            if got:
                self.app, self.send = got
        if self.app is None:
            reset(transport)
            return
        self.app.connections.add(self)

    def connection_lost(self, exc) -> None:
        if self.app is not None:
            self.app.connections.discard(self)
        self.queue.clear()
        if self.task is not None and not self.task.done():
            self.task.cancel()      # the client went: its request goes too (a pending slot, ...)

    def drop(self, graceful: bool) -> None:
        """The app went away: idle connections close (FIN), busy or killed ones reset."""
        if self.transport is None or self.transport.is_closing():
            return
        if graceful and not self.busy:
            self.transport.close()
        elif graceful:
            self.closing = True
        else:
            reset(self.transport)

    # -- requests ------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self.buf:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEAD:
                    self._fail(431)
                    return
                break
            parsed = self._parse(end)
            if parsed is None:
                break
            self.queue.append(parsed)
        self._pump()
        self._maybe_continue()

    def _maybe_continue(self) -> None:
        """100 Continue for a request waiting for its body, once it is its turn."""
        if self._continued or self.busy or self.queue or not self.buf or self.transport.is_closing():
            return
        end = self.buf.find(b"\r\n\r\n")
        if end >= 0 and b"\r\nexpect: 100-continue" in self.buf[:end].lower():
            self._continued = True
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _parse(self, end: int):
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            self._fail(400)
            return None
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        rest = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body, used = self._chunked(rest)
            if body is None:
                return None
            rest = used
        else:
            try:
                n = int(headers.get("content-length", 0) or 0)
            except ValueError:
                self._fail(400)
                return None
            if len(self.buf) < rest + n:
                return None
            self._continued = False
            body = self.buf[rest:rest + n]
            rest += n
        self.buf = self.buf[rest:]
        conn = headers.get("connection", "").lower()
        keep = conn != "close" if version == "HTTP/1.1" else conn == "keep-alive"
        return Request(method, target, headers, body, self.client), keep

    def _chunked(self, pos: int):
        body = []
        while True:
            eol = self.buf.find(b"\r\n", pos)
            if eol < 0:
                return None, pos
            try:
                size = int(self.buf[pos:eol].split(b";")[0], 16)
            except ValueError:
                self._fail(400)
                return None, pos
            if size == 0:
                if self.buf[eol + 2:eol + 4] == b"\r\n":
                    return b"".join(body), eol + 4
                end = self.buf.find(b"\r\n\r\n", eol)   # trailers
                return (None, pos) if end < 0 else (b"".join(body), end + 4)
            if len(self.buf) < eol + 2 + size + 2:
                return None, pos
            body.append(self.buf[eol + 2:eol + 2 + size])
            pos = eol + 2 + size + 2

    def _pump(self) -> None:
        while self.queue and not self.busy and not self.closing:
            req, keep = self.queue.popleft()
            app = self.app
            if app is None or not app.listening:
                reset(self.transport)      # the app died under this connection
                return
            if self.proxy is not None:
                self.proxy.requests += 1
            try:
                result = self.send(req)
            except Exception:   # a simulated app's bug answers 500, never kills the proxy
                log.exception("app handler")
                result = Response(500, b"", "text/plain")
            if isinstance(result, Response):
                self._write(result, keep, req.method)
            else:
                self.busy = True
                task = self.task = asyncio.ensure_future(result)
                task.add_done_callback(lambda t, keep=keep, app=app, m=req.method: self._done(t, keep, app, m))
                return

    def _done(self, task, keep: bool, app, method: str) -> None:
        self.busy = False
        if self.transport is None or self.transport.is_closing():
            return
        if task.cancelled() or task.exception() is not None or not app.listening and not self.closing:
            reset(self.transport)           # killed mid-request: the connection drops
            return
        self._write(task.result(), keep and not self.closing, method)
        if self.closing:
            self.transport.close()
            return
        self._pump()
        self._maybe_continue()

    def _write(self, resp: Response, keep: bool, method: str = "GET") -> None:
        lines = "".join(f"{k}: {v}\r\n" for k, v in head_lines(resp, keep, self._date()))
        head = f"HTTP/1.1 {resp.status} {REASONS.get(resp.status, 'Unknown')}\r\n{lines}\r\n"
        self.transport.write(head.encode() + (b"" if method == "HEAD" else resp.body))
        if not keep:
            self.transport.close()

    def _fail(self, status: int) -> None:
        self._write(Response(status, b"", "text/plain"), keep=False)
        self.buf = b""

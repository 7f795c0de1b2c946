"""A pod's outbound path: where a connection from one of its containers goes.

`cluster.network.egress(worker)` is the pod's Egress (one per pod, made on first
use). Names resolve as the pod's resolv.conf would have them (search
<ns>.svc.cluster.local, svc.cluster.local):
  localhost, 127.0.0.1, the pod's own IP or hostname  -> the pod's own containers
  another pod's IP                                    -> that pod
  a Service: name, name.ns, name.ns.svc[.cluster.local], its ClusterIP, or its
  LoadBalancer ingress IP (kube-proxy short-circuits those inside the cluster)
                                                      -> the Service's endpoints

Service traffic from a pod without a sidecar is kube-proxy's: one READY
endpoint at random per connection, met by that pod's inbound sidecar if it has
one. From a pod with an istio-proxy sidecar it goes through the sidecar's Envoy
(console/embedded/mesh: DestinationRule and VirtualService act there); while
that sidecar is not running every outbound connection is refused, as iptables
sends it to a port nobody listens on. Pod IPs and localhost bypass the Envoy.

For in-process callers (curl/wget in the shell, apps that call other Services):
  await egress.request(host, port, Request) -> Response
    LookupError             the name does not resolve ("Could not resolve host")
    ConnectionRefusedError  nothing listens there (no endpoint, app not booted)
    ConnectionResetError    the app died holding the request
  Time is the cluster's (the app's `call`); wrap it in asyncio.wait_for with
  clock.real(seconds) for a client timeout.
  egress.knows(host) -> bool (would the name resolve).

For a process "inside" the pod that speaks real HTTP (kubelab's siege engine
run for `kubectl exec siege -- siege ...`):
  await egress.listen() -> "127.0.0.1:<port>"
    a loopback listener whose connections count as this pod's: each request
    goes where its Host header (or an absolute-form target, as to an HTTP proxy)
    names, exactly as `request` would send it, at real-time pace (the app's
    `handle`). Point every in-cluster URL at it and keep the URL's authority as
    the Host header (console.loadgen.resolve does). A name that does not
    resolve, or a connection the pod would have had refused or reset, resets
    the listener's connection (the client sees a socket error); through a
    sidecar such failures are Envoy's 503s instead. Closed when the pod goes.
"""

import asyncio
import ipaddress
from urllib.parse import urlsplit

from console.embedded.network.upstream import exchange

SUFFIXES = (".svc.cluster.local", ".svc")
LOCAL = ("localhost", "127.0.0.1", "::1")


class Egress:
    def __init__(self, network, worker):
        self.network = network
        self.cluster = network.cluster
        self.worker = worker
        self.namespace = worker.key[0]
        self._server: asyncio.AbstractServer | None = None
        self._address: str | None = None

    # -- names ---------------------------------------------------------------------
    def service(self, host: str) -> tuple[str, str] | None:
        """(namespace, name) of the Service host names, or None."""
        host = host.lower().rstrip(".")
        store = self.cluster.store
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            name = host
            for suffix in SUFFIXES:
                if name.endswith(suffix):
                    name = name[: -len(suffix)]
                    break
            parts = name.split(".")
            if len(parts) > 2:
                return None
            key = (parts[1] if len(parts) == 2 else self.namespace, parts[0])
            return key if store.peek("services", *key) is not None else None
        return self.network.service_at(host)

    def local(self, host: str) -> bool:
        return host in LOCAL or host in (self.worker.ip, self.worker.key[1])

    def knows(self, host: str) -> bool:
        return (self.local(host) or host in self.cluster.kubelet.by_ip
                or self.service(host) is not None)

    # -- requests ------------------------------------------------------------------
    async def request(self, host: str, port: int, req, realtime: bool = False, conn=None):
        if self.local(host):
            return await exchange(self._listener(self.worker, port), req, realtime)
        other = self.cluster.kubelet.by_ip.get(host)
        if other is not None:
            return await exchange(self._listener(other, port), req, realtime)
        key = self.service(host)
        if key is None:
            raise LookupError(host)
        proxy = self.network.proxies.get(key, {}).get(port)
        if proxy is None:
            raise ConnectionRefusedError(f"{host}:{port}")
        mesh = self.network.mesh
        envoy = mesh.outbound(self.worker)
        if envoy is not None:
            if mesh.proxy_app(self.worker) is None:
                raise ConnectionRefusedError(f"{host}:{port}")   # iptables -> a dead 15001
            worker = conn.envoy_worker if conn is not None else envoy.worker()
            return await envoy.forward(key, port, req, realtime, worker)
        bound = None if conn is None else conn.bound.get((key, port))
        if bound is None:
            picked = proxy.pick()
            got = None if picked is None else mesh.target(picked[0], proxy.fqdn, port, picked[1])
            if got is None:
                raise ConnectionRefusedError(f"{host}:{port}")
            bound = got
            if conn is not None:           # kube-proxy keeps a connection on its endpoint
                conn.bound[(key, port)] = bound
        peer, send = bound
        if not peer.listening:
            if conn is not None:
                conn.bound.pop((key, port), None)
            raise ConnectionResetError(f"{host}:{port}")
        return await send(req, realtime)

    @staticmethod
    def _listener(worker, port: int):
        app = worker.listener(port)
        if app is None:
            raise ConnectionRefusedError(f"{worker.ip}:{port}")
        return app

    # -- a loopback door for processes inside the pod --------------------------------
    async def listen(self) -> str:
        if self._address is None:
            from console.embedded.network.proxy import HttpConn

            self._server = await asyncio.get_running_loop().create_server(
                lambda: HttpConn(None, origin="pod", egress=self), "127.0.0.1", 0)
            self._address = "127.0.0.1:%d" % self._server.sockets[0].getsockname()[1]
        return self._address

    def listener_peer(self, conn):
        """For a new listener connection: (peer, send(req)); the pod is the peer."""
        conn.bound = {}
        envoy = self.network.mesh.outbound(self.worker)
        conn.envoy_worker = envoy.worker() if envoy is not None else 0
        return _PodPeer(self), lambda req: self._from_listener(conn, req)

    async def _from_listener(self, conn, req):
        target = req.target
        if "://" in target:                     # absolute form, as to a proxy
            parts = urlsplit(target)
            authority = parts.netloc
            req.target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
            req.headers["host"] = authority
        authority = req.headers.get("host", "")
        host, _, port = authority.rpartition(":") if authority.count(":") == 1 else (authority, "", "")
        host = host or authority
        try:
            return await self.request(host, int(port) if port.isdigit() else 80, req,
                                      realtime=True, conn=conn)
        except (LookupError, ConnectionError):
            raise ConnectionResetError(authority) from None

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
            self._address = None


class _PodPeer:
    """The pod as a listener connection's peer: it listens while it runs."""

    def __init__(self, egress):
        self.egress = egress
        self.connections: set = set()

    @property
    def listening(self) -> bool:
        return not self.egress.worker.removed

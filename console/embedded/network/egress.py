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
endpoint at random per connection (every `request` is a new connection). From a
pod with an istio-proxy sidecar it goes through that sidecar's Envoy (the mesh).

For in-process callers (curl/wget in the shell, apps that call other Services):
  await egress.request(host, port, Request) -> Response
    LookupError             the name does not resolve ("Could not resolve host")
    ConnectionRefusedError  nothing listens there (no endpoint, app not booted)
    ConnectionResetError    the app died holding the request
  Time is the cluster's (the app's `call`); wrap it in asyncio.wait_for with
  clock.real(seconds) for a client timeout.
  egress.knows(host) -> bool (would the name resolve).
"""

import ipaddress

from console.embedded.network.upstream import exchange

SUFFIXES = (".svc.cluster.local", ".svc")
LOCAL = ("localhost", "127.0.0.1", "::1")


class Egress:
    def __init__(self, network, worker):
        self.network = network
        self.cluster = network.cluster
        self.worker = worker
        self.namespace = worker.key[0]

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
            return key if store.get("services", *key) is not None else None
        return self.network.service_at(host)

    def local(self, host: str) -> bool:
        return host in LOCAL or host in (self.worker.ip, self.worker.key[1])

    def knows(self, host: str) -> bool:
        return (self.local(host) or host in self.cluster.kubelet.by_ip
                or self.service(host) is not None)

    # -- requests ------------------------------------------------------------------
    async def request(self, host: str, port: int, req):
        if self.local(host):
            return await exchange(self._listener(self.worker, port), req)
        other = self.cluster.kubelet.by_ip.get(host)
        if other is not None:
            return await exchange(self._listener(other, port), req)
        key = self.service(host)
        if key is None:
            raise LookupError(host)
        proxy = self.network.proxies.get(key, {}).get(port)
        app = None if proxy is None else proxy.connect()
        if app is None:
            raise ConnectionRefusedError(f"{host}:{port}")
        return await exchange(app, req)

    @staticmethod
    def _listener(worker, port: int):
        app = worker.listener(port)
        if app is None:
            raise ConnectionRefusedError(f"{worker.ip}:{port}")
        return app

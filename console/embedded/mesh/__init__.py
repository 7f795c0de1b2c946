"""The service mesh: Istio's DestinationRules and VirtualServices acting on traffic.

`cluster.network.mesh` (made by the network component) answers, for the
Service proxies and the pods' egress:
  has_sidecar(worker)       the pod was injected (an istio-proxy container)
  outbound(worker)          that pod's client-side Envoy (envoy.Envoy), or None
  inbound(worker)           its server-side Envoy (envoy.Inbound)
  injected(namespace)       istio-injection=enabled (or an istio.io/rev label)
  stand_in(namespace)       the client-side Envoy host traffic meets (see below)
  deliver(worker, ...)      a request at an endpoint pod: its inbound sidecar or its app

Host traffic (the per-Service loopback listeners: `kubelab siege`, the console's
Load pane) stands for the lab's client pod -- the siege pod -- in the Service's
namespace: when that namespace is injected, such a pod would carry a sidecar, so
the listener plays that pod's Envoy (one stand-in per namespace, shared by every
host connection to it). Outside traffic (LoadBalancer addresses, NodePorts)
meets no client sidecar, only the endpoint pods' inbound ones.
"""

from console.embedded.mesh.config import DR, VS, MeshConfig
from console.embedded.mesh.envoy import Envoy, Inbound
from console.embedded.mesh.pool import ConnectFailure
from console.embedded.network.upstream import exchange

SIDECAR = "istio-proxy"
SUFFIX = ".svc.cluster.local"


class Mesh:
    def __init__(self, network):
        self.network = network
        self.cluster = network.cluster
        self.clock = self.cluster.clock
        self.config = MeshConfig(self.cluster.store)
        self._outbound: dict[str, Envoy] = {}
        self._inbound: dict[str, Inbound] = {}
        self._stand_ins: dict[str, Envoy] = {}
        self._keys: dict[str, tuple[int, tuple | None]] = {}

    def on_change(self, ev) -> None:
        if ev.res in (DR, VS):
            self.config.changed()
        elif ev.res == "namespaces":
            name = ev.obj["metadata"]["name"]
            if ev.type == "DELETED":
                envoy = self._stand_ins.pop(name, None)
                if envoy is not None:
                    envoy.close()

    # -- who has a sidecar -----------------------------------------------------------
    @staticmethod
    def has_sidecar(worker) -> bool:
        return any(c.get("name") == SIDECAR
                   for c in (worker.pod.get("spec") or {}).get("containers") or [])

    @staticmethod
    def proxy_app(worker):
        """The running istio-proxy's process, or None (not started, crashed)."""
        c = worker.container(SIDECAR)
        if c is None or c.state != "running" or c.app is None or not c.app.listening:
            return None
        return c.app

    def outbound(self, worker) -> Envoy | None:
        if not self.has_sidecar(worker):
            return None
        envoy = self._outbound.get(worker.uid)
        if envoy is None:
            labels = worker.pod["metadata"].get("labels") or {}
            envoy = self._outbound[worker.uid] = Envoy(self, worker.key[0], labels)
        return envoy

    def inbound(self, worker) -> Inbound:
        got = self._inbound.get(worker.uid)
        if got is None or got.pod is not worker:
            got = self._inbound[worker.uid] = Inbound(self, worker)
        return got

    def injected(self, namespace: str) -> bool:
        ns = self.cluster.store.peek("namespaces", "", namespace)
        labels = ((ns or {}).get("metadata") or {}).get("labels") or {}
        if labels.get("istio-injection") == "enabled":
            return True
        return "istio.io/rev" in labels and labels.get("istio-injection") != "disabled"

    def stand_in(self, namespace: str) -> Envoy:
        envoy = self._stand_ins.get(namespace)
        if envoy is None:
            envoy = self._stand_ins[namespace] = Envoy(self, namespace, None)
        return envoy

    def forget(self, worker) -> None:
        for table in (self._outbound, self._inbound):
            got = table.pop(worker.uid, None)
            if got is not None:
                got.close()

    # -- endpoints -------------------------------------------------------------------
    def service_key(self, fqdn: str) -> tuple[str, str] | None:
        """(namespace, name) of the Service fqdn names, or None."""
        cached = self._keys.get(fqdn)
        if cached is not None and cached[0] == self.network.generation:
            return cached[1]
        key = None
        if fqdn.endswith(SUFFIX):
            parts = fqdn[: -len(SUFFIX)].split(".")
            if len(parts) == 2 and self.cluster.store.peek("services", parts[1], parts[0]) is not None:
                key = (parts[1], parts[0])
        self._keys[fqdn] = (self.network.generation, key)
        return key

    def hosts(self, cluster, key: tuple[str, str], port: int) -> list:
        """The cluster's hosts now: the Service port's READY endpoints (a subset's by labels)."""
        gen = (self.network.generation, id(cluster.subset))
        cached = cluster.hosts_at
        if cached is not None and cached[0] == gen:
            return cached[1]
        svc = self.cluster.store.peek("services", *key)
        ports = ((svc or {}).get("spec") or {}).get("ports") or []
        sp = next((p for p in ports if p.get("port") == port), None)
        found = []
        if svc is not None and sp is not None:
            by_ip = self.cluster.kubelet.by_ip
            for ip, target in self.network.endpoints(svc, sp):
                w = by_ip.get(ip)
                labels = (w.pod["metadata"].get("labels") or {}) if w is not None else {}
                if cluster.subset is None or all(labels.get(k) == v for k, v in cluster.subset.items()):
                    found.append((ip, target, labels))
        hosts = cluster.set_hosts(found)
        cluster.hosts_at = (gen, hosts)
        return hosts

    def connect(self, host, fqdn: str, svc_port: int):
        """A client Envoy's connection to an endpoint: (peer, send) or ConnectFailure."""
        w = self.cluster.kubelet.by_ip.get(host.ip)
        if w is None:
            raise ConnectFailure(host.ip)
        got = self.target(w, fqdn, svc_port, host.port)
        if got is None:
            raise ConnectFailure(f"{host.ip}:{host.port}")
        peer, send = got
        return peer, send

    def _peer(self, worker, port: int):
        """What takes a connection to the pod's port: its sidecar (while it runs) or the
        app listening there; None when it is refused."""
        return self.proxy_app(worker) if self.has_sidecar(worker) else worker.listener(port)

    def accepts(self, worker, port: int) -> bool:
        """Whether a connection to the pod's port is taken: target() would not be None."""
        return self._peer(worker, port) is not None

    def target(self, worker, fqdn: str, svc_port: int, port: int):
        """What a connection to the pod's port reaches: (peer, send(req, realtime)), or
        None when it is refused. With a sidecar: its inbound Envoy."""
        peer = self._peer(worker, port)
        if peer is None:
            return None
        if self.has_sidecar(worker):
            inbound = self.inbound(worker)
            w = inbound.worker()
            return peer, lambda req, realtime: inbound.handle(fqdn, svc_port, port, req, realtime, w)
        return peer, lambda req, realtime: exchange(peer, req, realtime)

    def close(self) -> None:
        for table in (self._outbound, self._inbound, self._stand_ins):
            for envoy in table.values():
                envoy.close()
            table.clear()

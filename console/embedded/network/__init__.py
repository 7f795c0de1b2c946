"""Service proxies: every Service port reachable from the host.

Each TCP port of a Service with a cluster IP gets a listener on 127.0.0.1 (an
ephemeral port), published on the Service as the annotation
`kubelab.dev/host-ports`: {"8080": "127.0.0.1:40123"}. NodePorts are also
opened on 127.0.0.1:<nodePort> when that port is free, as kind's port mapping
would; LoadBalancer Services get an address of their own in 127.0.0.0/8 on
their own ports (lb.py). Each listener refuses connections while no endpoint
would take one (gate.py), looked at again as the Service's slices change and as
apps open and close their ports.

Started by the kubelet component (it is the nodes' kube-proxy);
`cluster.network` is the object below.
"""

import asyncio
import json
import logging

from console.embedded.network.egress import Egress
from console.embedded.network.endpoints import ready_endpoints
from console.embedded.network.gate import Gate
from console.embedded.network.lb import LoadBalancers
from console.embedded.network.proxy import HttpConn, ServiceProxy

log = logging.getLogger("kubelab.network")
ANNOTATION = "kubelab.dev/host-ports"
SLICES = "endpointslices.discovery.k8s.io"
WATCHED = {"pods", "endpoints", SLICES, "services"}


class Network:
    def __init__(self, cluster):
        self.cluster = cluster
        self.proxies: dict[tuple[str, str], dict[int, ServiceProxy]] = {}
        self.generation = 0                       # bumped by every change the proxies watch
        self._cache: dict[tuple, tuple[int, list]] = {}
        # per Service: the generation of the last change that may move its endpoints
        # (its slices, Endpoints, itself; its pods only while it is read from them)
        self._moved: dict[tuple[str, str], int] = {}
        self._from_pods: set[tuple[str, str]] = set()
        self._queue: asyncio.Queue = asyncio.Queue()
        self._node_ports: dict[int, tuple[Gate, tuple]] = {}   # -> (listener, key)
        self._egress: dict[str, Egress] = {}      # pod uid ->
        self._later: set[str] = set()             # namespaces whose refusing gates to look at soon
        self.lbs = LoadBalancers(self)
        from console.embedded.mesh import Mesh   # the mesh builds on network's modules

        self.mesh = Mesh(self)

    # -- a pod's outbound path (egress.py) ---------------------------------------------
    def egress(self, worker) -> Egress:
        got = self._egress.get(worker.uid)
        if got is None or got.worker is not worker:
            got = self._egress[worker.uid] = Egress(self, worker)
        return got

    def forget_pod(self, worker) -> None:
        """The pod is gone: its egress goes with it."""
        got = self._egress.get(worker.uid)
        if got is not None and got.worker is worker:
            del self._egress[worker.uid]
            got.close()
        self.mesh.forget(worker)

    def service_at(self, ip: str) -> tuple[str, str] | None:
        """The Service whose ClusterIP (or LoadBalancer ingress IP) is ip."""
        for svc in self.cluster.store.scan("services"):
            spec = svc.get("spec") or {}
            ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
            if spec.get("clusterIP") == ip or ip in (spec.get("clusterIPs") or ()) \
                    or any(i.get("ip") == ip for i in ingress):
                return (svc["metadata"].get("namespace") or "default", svc["metadata"]["name"])
        return None

    # -- what the proxies ask ---------------------------------------------------------
    def endpoints(self, svc: dict, svc_port: dict) -> list[tuple[str, int]]:
        meta = svc["metadata"]
        skey = (meta.get("namespace") or "default", meta["name"])
        key = (meta.get("uid"), svc_port.get("name") or "", svc_port.get("port"))
        moved = self._moved.get(skey, 0)
        hit = self._cache.get(key)
        if hit is not None and hit[0] == moved:
            return hit[1]
        eps, from_pods = ready_endpoints(self.cluster.store, svc, svc_port)
        (self._from_pods.add if from_pods else self._from_pods.discard)(skey)
        self._cache[key] = (moved, eps)
        return eps

    def _move(self, key: tuple[str, str]) -> None:
        self._moved[key] = self.generation

    def address(self, namespace: str, service: str, port: int) -> str | None:
        proxy = self.proxies.get((namespace, service), {}).get(port)
        return proxy.address if proxy else None

    # -- keeping listeners in step with Services ---------------------------------------
    def on_change(self, ev) -> None:
        self.mesh.on_change(ev)
        meta = ev.obj["metadata"]
        if ev.res == "namespaces":
            self._soon(meta["name"])          # injected or not: the host listeners' Envoy
        if ev.res not in WATCHED:
            return
        self.generation += 1
        ns = meta.get("namespace") or "default"
        if ev.res == "services":
            self._move((ns, meta["name"]))
            self._queue.put_nowait((ns, meta["name"]))
        elif ev.res == SLICES:
            names = {((o["metadata"].get("labels") or {}).get("kubernetes.io/service-name"))
                     for o in (ev.obj, ev.old) if o is not None} - {None}
            for name in names:
                self._move((ns, name))
                self.regate((ns, name))
        elif ev.res == "endpoints":
            self._move((ns, meta["name"]))
            self.regate((ns, meta["name"]))
        else:
            for key in [k for k in self._from_pods if k[0] == ns]:
                self._move(key)
            self._soon(ns)     # pods: the Services read from pods, and the gates' witnesses

    # -- the listeners' gates ---------------------------------------------------------
    def gates(self, key: tuple[str, str]):
        for proxy in self.proxies.get(key, {}).values():
            yield proxy.server
        for gate, owner in self._node_ports.values():
            if owner == key:
                yield gate
        held = self.lbs.held.get(key)
        if held is not None:
            yield from held.servers.values()

    def regate(self, key: tuple[str, str]) -> None:
        """Open or shut key's listeners as its endpoints' pods would take connections."""
        for gate in list(self.gates(key)):
            gate.refresh()

    def ports_changed(self, worker, opened: bool) -> None:
        """One of worker's apps opened or closed its ports: a shut listener may open
        now; an open one may shut only when it counted on that pod."""
        for key, proxies in list(self.proxies.items()):
            if opened or any(p.witness is not None and p.witness[0] is worker
                             for p in proxies.values()):
                for gate in list(self.gates(key)):
                    if gate.open != opened:
                        gate.refresh()

    def _soon(self, namespace: str) -> None:
        if not self._later:
            asyncio.get_running_loop().call_soon(self._regate_later)
        self._later.add(namespace)

    def _regate_later(self) -> None:
        namespaces, self._later = self._later, set()
        for key in list(self.proxies):
            if key[0] in namespaces:
                self.regate(key)

    def wanted(self, key: tuple[str, str], number: int, origin: str) -> bool:
        proxy = self.proxies.get(key, {}).get(number)
        return proxy is not None and proxy.accepting(origin)

    async def run(self) -> None:
        self.cluster.store.subscribe(self.on_change)
        for svc in self.cluster.store.scan("services"):
            self._queue.put_nowait((svc["metadata"].get("namespace") or "default",
                                    svc["metadata"]["name"]))
        try:
            while True:
                key = await self._queue.get()
                try:
                    await self.sync(key)
                except Exception:
                    log.exception("service proxy for %s/%s", *key)
        finally:
            for key in list(self.proxies):
                self._close(key, set())
            self.lbs.close_all()
            self.mesh.close()
            for egress in list(self._egress.values()):
                egress.close()

    def _close(self, key, keep: set[int], keep_node_ports: set[int] = frozenset()) -> None:
        for port, proxy in list(self.proxies.get(key, {}).items()):
            if port not in keep:
                proxy.server.close()
                del self.proxies[key][port]
        for node_port, (server, owner) in list(self._node_ports.items()):
            if owner == key and node_port not in keep_node_ports:
                server.close()
                del self._node_ports[node_port]
        if not self.proxies.get(key):
            self.proxies.pop(key, None)

    async def sync(self, key: tuple[str, str]) -> None:
        svc = self.cluster.store.get("services", *key)
        spec = (svc or {}).get("spec") or {}
        if svc is None or spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None":
            self._close(key, set())
            self.lbs.release(key, svc)
            return
        ports = {p["port"]: p for p in spec.get("ports") or []
                 if isinstance(p.get("port"), int) and (p.get("protocol") or "TCP") == "TCP"}
        current = self.proxies.setdefault(key, {})
        for number, sp in ports.items():
            proxy = current.get(number)
            if proxy is not None and proxy.svc["metadata"].get("uid") != svc["metadata"].get("uid"):
                self._close(key, set(ports) - {number})
                proxy = None
            if proxy is None:
                proxy = ServiceProxy(self, svc, sp)
                current[number] = proxy
                proxy.server = Gate(lambda proxy=proxy: HttpConn(proxy), "127.0.0.1", 0,
                                    lambda proxy=proxy: proxy.accepting("host"))
                proxy.address = "127.0.0.1:%d" % proxy.server.port
            proxy.svc, proxy.svc_port, proxy.witness = svc, sp, None
            self._open_node_port(key, number, sp.get("nodePort"))
        node_ports = {sp.get("nodePort") for sp in ports.values()}
        self._close(key, set(ports), node_ports)
        self._publish(key, svc)
        await self.lbs.sync(key, self.cluster.store.get("services", *key), sorted(ports),
                            lambda number: HttpConn(self.proxies.get(key, {}).get(number),
                                                    origin="outside"),
                            lambda number: self.wanted(key, number, "outside"))
        self.regate(key)

    def _open_node_port(self, key, number: int, node_port) -> None:
        if not isinstance(node_port, int):
            return
        held = self._node_ports.get(node_port)
        if held is not None and held[1] == key:
            return
        if held is not None:             # another Service had it: hand it over
            held[0].close()
            del self._node_ports[node_port]

        def connection():   # the Service's proxy of the moment (None: reset)
            return HttpConn(self.proxies.get(key, {}).get(number), origin="outside")
        try:
            server = Gate(connection, "127.0.0.1", node_port,
                          lambda: self.wanted(key, number, "outside"))
        except OSError as exc:   # taken on this host: the ephemeral address still works
            log.info("nodePort %s not opened on 127.0.0.1: %s", node_port, exc.strerror)
            return
        self._node_ports[node_port] = (server, key)

    def _publish(self, key, svc: dict) -> None:
        want = {str(p): proxy.address for p, proxy in sorted(self.proxies.get(key, {}).items())}
        text = json.dumps(want, separators=(",", ":"))
        reg = self.cluster.registry

        def annotate(obj):
            ann = obj["metadata"].setdefault("annotations", {}) or {}
            if ann.get(ANNOTATION) == text:
                return False
            ann[ANNOTATION] = text
            obj["metadata"]["annotations"] = ann

        if want:
            reg.mutate("services", key[0], key[1], annotate)


async def run(cluster) -> None:
    network = Network(cluster)
    cluster.network = network
    await network.run()

"""LoadBalancer Services: an address of their own, as a cloud's service controller
gives them.

Each Service of type LoadBalancer gets an IP in 127.0.0.0/8 (Linux routes the
whole block to loopback) that listens on the Service's own ports and shows as
EXTERNAL-IP (status.loadBalancer.ingress), so a lab's `http PUT
http://<EXTERNAL-IP>:8080/actuator/down` works as typed. Addresses are tried
from 127.0.0.2 upwards, skipping this cluster's own; a port that another process
(another embedded cluster, a test run) already holds there moves the Service on
to the next address. `spec.loadBalancerIP` inside 127.0.0.0/8 is tried first.
Nothing to be had after MAX_TRIES addresses: EXTERNAL-IP stays <pending> with a
SyncLoadBalancerFailed event, as when a cloud cannot provision one.

As the real service controller: the finalizer service.kubernetes.io/
load-balancer-cleanup holds a deleted Service until its address is released; a
Service with spec.loadBalancerClass is some other controller's and left alone;
events EnsuringLoadBalancer / EnsuredLoadBalancer / DeletingLoadBalancer /
DeletedLoadBalancer from "service-controller". Traffic on these addresses is
outside traffic: kube-proxy to one endpoint per connection, no client sidecar.
"""

import errno
import ipaddress
import logging

from console.embedded.network.gate import Gate

log = logging.getLogger("kubelab.network")
FINALIZER = "service.kubernetes.io/load-balancer-cleanup"
FIRST = int(ipaddress.ip_address("127.0.0.2"))
LAST = int(ipaddress.ip_address("127.255.255.254"))
MAX_TRIES = 64


class Held:
    def __init__(self, ip: str):
        self.ip = ip
        self.servers: dict[int, Gate] = {}

    def close(self, keep: set[int] = frozenset()) -> None:
        for port in [p for p in self.servers if p not in keep]:
            self.servers.pop(port).close()


class LoadBalancers:
    def __init__(self, network):
        self.network = network
        self.held: dict[tuple[str, str], Held] = {}

    def wants(self, svc: dict | None) -> bool:
        spec = (svc or {}).get("spec") or {}
        return (svc is not None and spec.get("type") == "LoadBalancer"
                and not spec.get("loadBalancerClass")
                and not svc["metadata"].get("deletionTimestamp"))

    async def sync(self, key: tuple[str, str], svc: dict | None, ports: list[int], factory,
                   wanted) -> None:
        """Holds (or releases) key's address; factory(port) -> protocol for a connection,
        wanted(port) -> whether that port takes connections now (else it refuses them)."""
        reg = self.network.cluster.registry
        if not self.wants(svc):
            self.release(key, svc)
            return
        meta = svc["metadata"]
        if FINALIZER not in (meta.get("finalizers") or []):
            def add(obj):
                fins = list(obj["metadata"].get("finalizers") or [])
                if FINALIZER in fins:
                    return False
                obj["metadata"]["finalizers"] = fins + [FINALIZER]
            svc = reg.mutate("services", key[0], key[1], add) or svc
        held = self.held.get(key)
        first = held is None
        if first:
            self._event(svc, "EnsuringLoadBalancer", "Ensuring load balancer")
        if held is None or not await self._bind(held, ports, factory, wanted):
            if held is not None:
                held.close()
            held = await self._allocate(key, svc, ports, factory, wanted)
        if held is None:
            self.held.pop(key, None)
            self._event(svc, "SyncLoadBalancerFailed",
                        "Error syncing load balancer: failed to ensure load balancer: no free "
                        f"address in 127.0.0.0/8 for ports {', '.join(map(str, ports))} after "
                        f"{MAX_TRIES} tries", "Warning")
            self._status(key, None)
            return
        held.close(keep=set(ports))
        self.held[key] = held
        if self._status(key, held.ip) and first:
            self._event(svc, "EnsuredLoadBalancer", "Ensured load balancer")

    def release(self, key: tuple[str, str], svc: dict | None) -> None:
        held = self.held.pop(key, None)
        if held is not None:
            held.close()
            if svc is not None:
                self._event(svc, "DeletingLoadBalancer", "Deleting load balancer")
                self._event(svc, "DeletedLoadBalancer", "Deleted load balancer")
        if svc is None:
            return
        reg = self.network.cluster.registry
        if not (svc.get("spec") or {}).get("loadBalancerClass"):
            self._status(key, None)
        if FINALIZER in (svc["metadata"].get("finalizers") or []):
            def drop(obj):
                fins = obj["metadata"].get("finalizers") or []
                if FINALIZER not in fins:
                    return False
                obj["metadata"]["finalizers"] = [f for f in fins if f != FINALIZER]
            reg.mutate("services", key[0], key[1], drop)

    def close_all(self) -> None:
        for held in self.held.values():
            held.close()
        self.held.clear()

    # -- addresses -----------------------------------------------------------------
    def _candidates(self, svc: dict):
        taken = {h.ip for h in self.held.values()}
        wanted = (svc.get("spec") or {}).get("loadBalancerIP")
        try:
            if wanted and ipaddress.ip_address(wanted) in ipaddress.ip_network("127.0.0.0/8"):
                yield wanted
        except ValueError:
            pass
        n, tried = FIRST, 0
        while tried < MAX_TRIES and n <= LAST:
            ip = str(ipaddress.ip_address(n))
            n += 1
            if ip in taken or ip == wanted:
                continue
            tried += 1
            yield ip

    async def _allocate(self, key, svc: dict, ports: list[int], factory, wanted) -> Held | None:
        for ip in self._candidates(svc):
            held = Held(ip)
            if await self._bind(held, ports, factory, wanted):
                return held
            held.close()
        return None

    async def _bind(self, held: Held, ports: list[int], factory, wanted) -> bool:
        for port in ports:
            if port in held.servers:
                continue
            try:
                held.servers[port] = Gate(lambda port=port: factory(port), held.ip, port,
                                          lambda port=port: wanted(port))
            except OSError as exc:
                if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
                    log.warning("load balancer %s:%s: %s", held.ip, port, exc)
                return False
        return True

    # -- the Service ---------------------------------------------------------------
    def _status(self, key, ip: str | None) -> bool:
        """Writes status.loadBalancer; True when it changed."""
        lb = {"ingress": [{"ip": ip, "ipMode": "VIP"}]} if ip else {}
        changed = []

        def write(obj):
            status = obj.setdefault("status", {}) or {}
            if (status.get("loadBalancer") or {}) == lb:
                return False
            status["loadBalancer"] = lb
            obj["status"] = status
            changed.append(True)
        self.network.cluster.registry.mutate("services", key[0], key[1], write,
                                             subresource="status")
        return bool(changed)

    def _event(self, svc: dict, reason: str, message: str, type_: str = "Normal") -> None:
        self.network.cluster.event(svc, reason, message, type_, component="service-controller")

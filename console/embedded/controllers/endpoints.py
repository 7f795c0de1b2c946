"""Endpoints and discovery.k8s.io/v1 EndpointSlices for Services with a selector.

Endpoints (endpoint-controller): Ready pods in `addresses`, the others in
`notReadyAddresses`, terminating pods left out, subsets grouped by port set.
EndpointSlices (endpointslice-controller.k8s.io): every pod with an IP, with
conditions as podToEndpoint sets them — serving: the pod is Ready; terminating: it
has a deletionTimestamp; ready: serving and not terminating (or the Service's
publishNotReadyAddresses) — at most 100 per slice, owned by the Service, placed
by the reconciler's rules (slices.py: kept, updated in place, filled before new
ones are made). Named target ports are resolved per pod against its container ports.
"""

from typing import NamedTuple

from console.embedded.controllers import slices
from console.embedded.controllers.base import (
    Informer, WorkQueue, key_of, map_matches, pod_ready, terminating,
)
from console.embedded.controllers.slices import MANAGED_BY, SLICES, TRIGGER
from console.embedded.store import Conflict, NotFound

MAX_ENDPOINTS = 1000   # Endpoints beyond this are truncated, as the real controller does


def target_port(svc_port: dict, pod: dict) -> int | None:
    tp = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(tp, int):
        return tp
    if tp is None:
        return svc_port.get("port")
    if str(tp).isdigit():
        return int(tp)
    protocol = svc_port.get("protocol") or "TCP"
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == tp and (p.get("protocol") or "TCP") == protocol:
                return p.get("containerPort")
    return None


def in_endpoints(pod: dict, include_terminating: bool) -> bool:
    """endpointsliceutil.ShouldPodBeInEndpoints."""
    phase = (pod.get("status") or {}).get("phase")
    policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    if policy == "Never" and phase in ("Succeeded", "Failed"):
        return False
    if policy == "OnFailure" and phase == "Succeeded":
        return False
    if terminating(pod) and not include_terminating:
        return False
    return bool((pod.get("status") or {}).get("podIP"))


def pod_ports(svc: dict, pod: dict) -> tuple:
    out = []
    for sp in (svc.get("spec") or {}).get("ports") or []:
        port = target_port(sp, pod)
        if port is not None:
            out.append((sp.get("name") or "", port, sp.get("protocol") or "TCP"))
    return tuple(sorted(out))


def target_ref(pod: dict) -> dict:
    return {"kind": "Pod", "namespace": pod["metadata"].get("namespace") or "",
            "name": pod["metadata"]["name"], "uid": pod["metadata"].get("uid", "")}


def _ip_key(addr: dict):
    try:
        return tuple(int(x) for x in addr["ip"].split("."))
    except ValueError:
        return (addr["ip"],)


def _order(e: "Entry") -> tuple:
    return e.order


class Entry(NamedTuple):
    """One pod as a Service's Endpoints and EndpointSlices list it. The dicts go
    into stored objects as they are: never change them."""
    in_endpoints: bool      # Endpoints: not terminating, has an IP
    in_slices: bool         # slices: terminating ones too
    ports: tuple
    ready: bool             # in addresses (else notReadyAddresses)
    address: dict           # Endpoints' EndpointAddress
    want: slices.Want       # the slice's Endpoint
    order: tuple            # where the address sorts (by IP, as the real controller)


def _entry(svc: dict, pod: dict, zone: str | None) -> Entry:
    name = svc["metadata"]["name"]
    publish = bool(svc["spec"].get("publishNotReadyAddresses"))
    spec = pod.get("spec") or {}
    ip = (pod.get("status") or {}).get("podIP")
    ref = target_ref(pod)
    addr = {"ip": ip, "targetRef": ref}
    if spec.get("nodeName"):
        addr["nodeName"] = spec["nodeName"]
    hostname = spec.get("hostname") if spec.get("subdomain") == name else None
    if hostname:
        addr["hostname"] = hostname
    ready = pod_ready(pod)
    gone = terminating(pod)
    ep = {"addresses": [ip],
          "conditions": {"ready": publish or (ready and not gone),
                         "serving": ready, "terminating": gone},
          "targetRef": ref}
    if spec.get("nodeName"):
        ep["nodeName"] = spec["nodeName"]
        if zone:
            ep["zone"] = zone
    if hostname:
        ep["hostname"] = hostname
    order = _ip_key(addr) if ip else ()
    return Entry(in_endpoints(pod, False), in_endpoints(pod, True), pod_ports(svc, pod),
                 publish or ready, addr, slices.Want(slices.ident_of(ep), order, ep), order)


class EndpointsController:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "endpoints", self.sync)
        # service -> ((its rv, node zones), pod name -> Entry) for its selected pods
        self._memo: dict[tuple, tuple] = {}
        self._changed: dict[tuple, dict[str, None]] = {}   # service -> pods changed since
        self._writing = False
        informer.on("services", self._on_service)
        informer.on("pods", self._on_pod)
        informer.on(SLICES, self._on_slice)
        informer.on("endpoints", self._on_endpoints)
        for svc in informer.all("services"):
            self.queue.add(key_of(svc))

    def _on_service(self, ev) -> None:
        self.queue.add(key_of(ev.obj))

    def _on_pod(self, ev) -> None:
        ns, name = key_of(ev.obj)
        labels = [o["metadata"].get("labels") for o in (ev.obj, ev.old) if o is not None]
        for svc in self.inf.in_namespace("services", ns):
            sel = (svc.get("spec") or {}).get("selector")
            if sel and any(map_matches(sel, lb) for lb in labels):
                key = key_of(svc)
                self._changed.setdefault(key, {})[name] = None
                self.queue.add(key)

    def _on_slice(self, ev) -> None:
        # Someone else touched a slice we manage: put it back.
        if self._writing:
            return
        labels = ev.obj["metadata"].get("labels") or {}
        if labels.get("endpointslice.kubernetes.io/managed-by") == MANAGED_BY and labels.get("kubernetes.io/service-name"):
            self.queue.add((ev.obj["metadata"].get("namespace") or "", labels["kubernetes.io/service-name"]))

    def _on_endpoints(self, ev) -> None:
        if ev.type == "DELETED":
            self.queue.add(key_of(ev.obj))

    async def sync(self, key) -> None:
        ns, name = key
        svc = self.inf.get("services", ns, name)
        if svc is None or terminating(svc):
            self._delete("endpoints", ns, name)
            self._forget(key)
            return
        spec = svc.get("spec") or {}
        if not spec.get("selector") or spec.get("type") == "ExternalName":
            self._forget(key)
            return  # user-managed endpoints, as in Kubernetes
        entries, wanted = self._entries(key, svc)
        self._sync_endpoints(svc, [e for e in entries if e.in_endpoints])
        self._sync_slices(svc, wanted)

    def _forget(self, key) -> None:
        self._memo.pop(key, None)
        self._changed.pop(key, None)

    def _entries(self, key, svc: dict) -> "tuple[list[Entry], slices.Wanted]":
        """What each selected pod puts into the Service's Endpoints (in pod name
        order) and slices. While the Service and the nodes' zones stay as they were,
        only the pods the pod handler saw change since the last sync are looked at
        again (5,000 pods, a few changed: those few); else all of them."""
        zones = {n["metadata"]["name"]: (n["metadata"].get("labels") or {}).get(
            "topology.kubernetes.io/zone") for n in self.inf.all("nodes")}
        whose = (svc["metadata"].get("resourceVersion"), zones)
        last = self._memo.get(key)
        changed = self._changed.pop(key, {})
        prev = {}
        if last is not None and last[0] == whose:
            memo, wanted = last[1], last[2]
            pods = [self.inf.get("pods", key[0], name) for name in changed]
            for name in changed:
                e = memo.pop(name, None)
                if e is not None and e.in_slices:
                    wanted.drop(e.ports, e.want)
        else:
            memo, wanted, prev = {}, slices.Wanted(), last[1] if last is not None else {}
            pods = self.inf.in_namespace("pods", key[0])
        selector = svc["spec"]["selector"]
        for pod in pods:
            if pod is not None and map_matches(selector, pod["metadata"].get("labels")):
                zone = zones.get((pod.get("spec") or {}).get("nodeName"))
                name = pod["metadata"]["name"]
                e = _entry(svc, pod, zone)
                was = prev.get(name)
                if was == e:
                    e = was     # kept: the stored slices hold its dicts
                memo[name] = e
                if e.in_slices:
                    wanted.add(e.ports, e.want)
        self._memo[key] = (whose, memo, wanted)
        return [memo[name] for name in sorted(memo)], wanted

    def _delete(self, res: str, ns: str, name: str) -> None:
        try:
            self.cluster.registry.delete(res, ns, name)
        except NotFound:
            pass

    # -- Endpoints ---------------------------------------------------------------
    def _sync_endpoints(self, svc: dict, entries: "list[Entry]") -> None:
        ns, name = key_of(svc)
        groups: dict[tuple, tuple[list, list]] = {}
        count = 0
        has_ports = bool(svc["spec"].get("ports"))
        for e in entries:
            if count >= MAX_ENDPOINTS:
                break
            if has_ports and not e.ports:
                continue
            ready, not_ready = groups.setdefault(e.ports, ([], []))
            (ready if e.ready else not_ready).append(e)
            count += 1
        subsets = []
        for ports, (ready, not_ready) in sorted(groups.items()):
            subset = {}
            if ready:
                subset["addresses"] = [e.address for e in sorted(ready, key=_order)]
            if not_ready:
                subset["notReadyAddresses"] = [e.address for e in sorted(not_ready, key=_order)]
            if ports:
                subset["ports"] = [{"name": n, "port": p, "protocol": pr} if n else {"port": p, "protocol": pr}
                                   for n, p, pr in ports]
            subsets.append(subset)
        labels = dict(svc["metadata"].get("labels") or {})
        labels["endpoints.kubernetes.io/managed-by"] = "endpoint-controller"
        if svc["spec"].get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        annotations = {TRIGGER: self.cluster.clock.stamp()}
        if count >= MAX_ENDPOINTS and len(entries) > MAX_ENDPOINTS:
            annotations["endpoints.kubernetes.io/over-capacity"] = "truncated"
        current = self.inf.get("endpoints", ns, name)
        if current is None:
            meta = {"name": name, "namespace": ns, "labels": labels, "annotations": annotations}
            obj = {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta}
            if subsets:
                obj["subsets"] = subsets
            try:
                self.cluster.registry.create("endpoints", obj)
            except Conflict:
                self.queue.add((ns, name))
            return

        def same(obj):
            meta = obj["metadata"]
            return (obj.get("subsets") or []) == subsets and (meta.get("labels") or {}) == labels \
                and (meta.get("annotations") or {}).get("endpoints.kubernetes.io/over-capacity") \
                == annotations.get("endpoints.kubernetes.io/over-capacity")
        if same(current):
            return  # compared on the store's own copy: no write, no deep copy

        def fn(obj):
            meta = obj["metadata"]
            if same(obj):
                return False
            meta["labels"] = labels
            ann = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k not in ("endpoints.kubernetes.io/over-capacity", TRIGGER)}
            ann.update(annotations)
            meta["annotations"] = ann
            if subsets:
                obj["subsets"] = subsets
            else:
                obj.pop("subsets", None)
        self.cluster.registry.mutate("endpoints", ns, name, fn, shallow=True)

    # -- EndpointSlices ------------------------------------------------------------
    def _sync_slices(self, svc: dict, wanted: "slices.Wanted") -> None:
        existing = self.inf.controlled(svc["metadata"]["uid"], SLICES)
        plan = slices.plan(svc, existing, wanted)
        self._writing = True   # our own writes need no sync of their own (the slice tracker's job)
        try:
            slices.apply(self.cluster.registry, svc, plan, self.cluster.clock.stamp)
        finally:
            self._writing = False

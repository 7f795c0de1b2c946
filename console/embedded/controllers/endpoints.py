"""Endpoints and discovery.k8s.io/v1 EndpointSlices for Services with a selector.

Endpoints (endpoint-controller): Ready pods in `addresses`, the others in
`notReadyAddresses`, terminating pods left out, subsets grouped by port set.
EndpointSlices (endpointslice-controller.k8s.io): every pod with an IP, with
conditions ready/serving/terminating, at most 100 per slice, owned by the Service.
Named target ports are resolved per pod against its container ports.
"""

import copy

from console.embedded.controllers.base import (
    Informer, WorkQueue, key_of, map_matches, pod_ready, terminating,
)
from console.embedded.store import Conflict, NotFound

SLICES = "endpointslices.discovery.k8s.io"
MANAGED_BY = "endpointslice-controller.k8s.io"
PER_SLICE = 100
MAX_ENDPOINTS = 1000   # Endpoints beyond this are truncated, as the real controller does
TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


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


class EndpointsController:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "endpoints", self.sync)
        informer.on("services", self._on_service)
        informer.on("pods", self._on_pod)
        informer.on(SLICES, self._on_slice)
        informer.on("endpoints", self._on_endpoints)
        for svc in informer.all("services"):
            self.queue.add(key_of(svc))

    def _on_service(self, ev) -> None:
        self.queue.add(key_of(ev.obj))

    def _on_pod(self, ev) -> None:
        ns = ev.obj["metadata"].get("namespace") or ""
        labels = [o["metadata"].get("labels") for o in (ev.obj, ev.old) if o is not None]
        for svc in self.inf.in_namespace("services", ns):
            sel = (svc.get("spec") or {}).get("selector")
            if sel and any(map_matches(sel, lb) for lb in labels):
                self.queue.add(key_of(svc))

    def _on_slice(self, ev) -> None:
        # Someone else touched a slice we manage: put it back.
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
            return
        spec = svc.get("spec") or {}
        if not spec.get("selector") or spec.get("type") == "ExternalName":
            return  # user-managed endpoints, as in Kubernetes
        pods = [p for p in self.inf.in_namespace("pods", ns)
                if map_matches(spec["selector"], p["metadata"].get("labels"))]
        pods.sort(key=lambda p: p["metadata"]["name"])
        self._sync_endpoints(svc, [p for p in pods if in_endpoints(p, False)])
        self._sync_slices(svc, [p for p in pods if in_endpoints(p, True)])

    def _delete(self, res: str, ns: str, name: str) -> None:
        try:
            self.cluster.registry.delete(res, ns, name)
        except NotFound:
            pass

    # -- Endpoints ---------------------------------------------------------------
    def _sync_endpoints(self, svc: dict, pods: list[dict]) -> None:
        ns, name = key_of(svc)
        publish = bool(svc["spec"].get("publishNotReadyAddresses"))
        groups: dict[tuple, tuple[list, list]] = {}
        count = 0
        for pod in pods:
            if count >= MAX_ENDPOINTS:
                break
            ports = pod_ports(svc, pod)
            if svc["spec"].get("ports") and not ports:
                continue
            addr = {"ip": pod["status"]["podIP"], "targetRef": target_ref(pod)}
            if pod["spec"].get("nodeName"):
                addr["nodeName"] = pod["spec"]["nodeName"]
            if pod["spec"].get("hostname") and pod["spec"].get("subdomain") == name:
                addr["hostname"] = pod["spec"]["hostname"]
            ready, not_ready = groups.setdefault(ports, ([], []))
            (ready if publish or pod_ready(pod) else not_ready).append(addr)
            count += 1
        subsets = []
        for ports, (ready, not_ready) in sorted(groups.items()):
            subset = {}
            if ready:
                subset["addresses"] = sorted(ready, key=_ip_key)
            if not_ready:
                subset["notReadyAddresses"] = sorted(not_ready, key=_ip_key)
            if ports:
                subset["ports"] = [{"name": n, "port": p, "protocol": pr} if n else {"port": p, "protocol": pr}
                                   for n, p, pr in ports]
            subsets.append(subset)
        labels = dict(svc["metadata"].get("labels") or {})
        labels["endpoints.kubernetes.io/managed-by"] = "endpoint-controller"
        if svc["spec"].get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        annotations = {TRIGGER: self.cluster.clock.stamp()}
        if count >= MAX_ENDPOINTS and len(pods) > MAX_ENDPOINTS:
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
        self.cluster.registry.mutate("endpoints", ns, name, fn)

    # -- EndpointSlices ------------------------------------------------------------
    def _sync_slices(self, svc: dict, pods: list[dict]) -> None:
        ns, name = key_of(svc)
        publish = bool(svc["spec"].get("publishNotReadyAddresses"))
        groups: dict[tuple, list] = {}
        zones = {}
        for pod in pods:
            ports = pod_ports(svc, pod)
            if svc["spec"].get("ports") and not ports:
                continue
            ready = pod_ready(pod)
            gone = terminating(pod)
            ep = {"addresses": [pod["status"]["podIP"]],
                  "conditions": {"ready": publish or (ready and not gone),
                                 "serving": publish or ready, "terminating": gone},
                  "targetRef": target_ref(pod)}
            node = pod["spec"].get("nodeName")
            if node:
                ep["nodeName"] = node
                if node not in zones:
                    n = self.inf.get("nodes", "", node)
                    zones[node] = ((n or {}).get("metadata", {}).get("labels") or {}).get("topology.kubernetes.io/zone")
                if zones[node]:
                    ep["zone"] = zones[node]
            groups.setdefault(ports, []).append(ep)
        desired = []
        for ports, eps in sorted(groups.items()):
            port_list = [{"name": n, "port": p, "protocol": pr} for n, p, pr in ports]
            for i in range(0, len(eps), PER_SLICE):
                desired.append((port_list, eps[i:i + PER_SLICE]))
        if not desired:
            desired.append((None, []))  # the placeholder slice of a Service without endpoints
        labels = {k: v for k, v in (svc["metadata"].get("labels") or {}).items()}
        labels["kubernetes.io/service-name"] = name
        labels["endpointslice.kubernetes.io/managed-by"] = MANAGED_BY
        if svc["spec"].get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        existing = sorted(self.inf.controlled(svc["metadata"]["uid"], SLICES),
                          key=lambda s: s["metadata"]["name"])
        # Reuse a slice with the same ports first, then any other.
        free = list(existing)
        plan = []
        for ports, eps in desired:
            match = next((s for s in free if s.get("ports") == ports), None) or (free[0] if free else None)
            if match is not None:
                free.remove(match)
            plan.append((match, ports, eps))
        for match, ports, eps in plan:
            body = {"addressType": "IPv4", "endpoints": eps}
            if ports is not None:
                body["ports"] = ports
            if match is None:
                obj = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                       "metadata": {"generateName": f"{name}-", "namespace": ns, "labels": labels,
                                    "annotations": {TRIGGER: self.cluster.clock.stamp()},
                                    "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name,
                                                         "uid": svc["metadata"]["uid"], "controller": True,
                                                         "blockOwnerDeletion": True}]}}
                obj.update(copy.deepcopy(body))
                self.cluster.registry.create(SLICES, obj)
                continue

            def same(obj, body=body):
                return all(obj.get(k) == v for k, v in body.items()) and ("ports" in body) == ("ports" in obj) \
                    and obj["metadata"].get("labels") == labels
            if same(match):
                continue

            def fn(obj, body=body, same=same):
                if same(obj):
                    return False
                obj.pop("ports", None)
                obj.update(copy.deepcopy(body))
                obj["metadata"]["labels"] = labels
                obj["metadata"].setdefault("annotations", {})[TRIGGER] = self.cluster.clock.stamp()
            self.cluster.registry.mutate(SLICES, ns, match["metadata"]["name"], fn)
        for extra in free:
            self._delete(SLICES, ns, extra["metadata"]["name"])

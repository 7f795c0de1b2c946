"""Which way a load run reaches in-cluster names from this machine, and why.

    route = plan(conn, spec, services, pods, access, want="auto", probe=tcp_open)
    route.kind     loopback | load-balancer | node-port | port-forward | siege-pod | url
    route.reason   one sentence, shown in the Load pane and written to the run log
    route.table    "order:8080" -> (host, port) for the load worker (not for siege-pod)
    route.targets  the (namespace, service, port, host as written) the URLs name

"auto" takes the first that works, in this order:
  loopback      the embedded cluster publishes every Service port on loopback
  load-balancer a LoadBalancer Service whose address answers from here
  node-port     a NodePort (or LoadBalancer) Service, on a node address that answers
  port-forward  through the API server to the Service's ready pods (pods/portforward)
  siege-pod     siege inside the lab's siege pod, through `kubectl exec` (pods/exec)
`want` forces one: loopback, direct (load-balancer, else node-port), port-forward,
siege-pod. URLs that name no in-cluster Service go as written (kind "url").
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from console.cluster.printer import ports_annotation
from console.errors import UsageError

PATHS = ("auto", "loopback", "port-forward", "siege-pod", "direct")
HELP = {
    "auto": "the embedded cluster's loopback listeners, else a LoadBalancer/NodePort address "
            "that answers, else a port-forward, else the siege pod",
    "loopback": "the loopback listeners the embedded cluster publishes on each Service",
    "port-forward": "a port-forward through the API server to the Service's ready pods",
    "siege-pod": "siege inside the lab's siege pod (kubectl exec)",
    "direct": "the Service's LoadBalancer address, else a NodePort on a node address",
}


@dataclass
class Route:
    kind: str
    reason: str
    table: dict = field(default_factory=dict)
    targets: list = field(default_factory=list)     # (namespace, service, port, host)
    pod: str | None = None                          # siege-pod: the pod

    def as_dict(self) -> dict:
        out = {"kind": self.kind, "reason": self.reason}
        if self.pod:
            out["pod"] = self.pod
        return out


def tcp_open(host: str, port: int, timeout: float = 1.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def named(spec, namespace: str, services: dict) -> list[tuple[str, str, int, str]]:
    """(namespace, service, port, host as written) of each in-cluster name the URLs use."""
    from yarl import URL

    from console.loadgen.resolve import cluster_name
    out = []
    for t in spec.targets:
        u = URL(t.url)
        got = cluster_name(u.host or "")
        if got is None:
            continue
        svc, ns, certain = got
        ns = ns or namespace
        if (ns, svc) not in services:
            if certain:
                have = ", ".join(sorted(n for (sns, n) in services if sns == ns)) or "none"
                raise UsageError(f"service {svc} not found in namespace {ns} (have: {have})")
            continue                         # name.ns that is no Service: a public name
        out.append((ns, svc, u.port or 80, u.host))
    return list(dict.fromkeys(out))


def _loopback(found, services) -> dict | None:
    table = {}
    for ns, svc, port, written in found:
        published = ports_annotation(services[(ns, svc)])
        if str(port) not in published:
            return None
        host, _, p = str(published[str(port)]).rpartition(":")
        table[f"{written}:{port}"] = (host or "127.0.0.1", int(p))
    return table


def _service_port(svc: dict, port: int) -> dict | None:
    return next((p for p in (svc.get("spec") or {}).get("ports") or [] if p.get("port") == port), None)


def _balancer(found, services, probe) -> tuple[dict, list[str]] | None:
    table, said = {}, []
    for ns, svc, port, written in found:
        obj = services[(ns, svc)]
        if (obj.get("spec") or {}).get("type") != "LoadBalancer":
            return None
        ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        addrs = [i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")]
        addr = next((a for a in addrs if probe(a, port)), None)
        if addr is None:
            return None
        said.append(f"{svc} is a LoadBalancer Service and {addr}:{port} answers from here")
        table[f"{written}:{port}"] = (addr, port)
    return table, said


def _node_port(found, services, nodes, probe) -> tuple[dict, list[str]] | None:
    table, said = {}, []
    for ns, svc, port, written in found:
        obj = services[(ns, svc)]
        sp = _service_port(obj, port) or {}
        node_port = sp.get("nodePort")
        if (obj.get("spec") or {}).get("type") not in ("NodePort", "LoadBalancer") or not node_port:
            return None
        addrs = [a["address"] for kind in ("ExternalIP", "InternalIP") for n in nodes
                 for a in (n.get("status") or {}).get("addresses") or [] if a.get("type") == kind]
        addr = next((a for a in dict.fromkeys(addrs) if probe(a, node_port)), None)
        if addr is None:
            return None
        said.append(f"{svc} is a {obj['spec']['type']} Service and node {addr}:{node_port} "
                    "answers from here")
        table[f"{written}:{port}"] = (addr, node_port)
    return table, said


def siege_pod(pods: list[dict]) -> str | None:
    """The lab's siege pod: named siege, else labelled app=siege, else running a siege image."""
    running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"
               and not p["metadata"].get("deletionTimestamp")]
    for test in (lambda p: p["metadata"]["name"] == "siege",
                 lambda p: (p["metadata"].get("labels") or {}).get("app") == "siege",
                 lambda p: any("siege" in (c.get("image") or "")
                               for c in (p.get("spec") or {}).get("containers") or [])):
        for p in running:
            if test(p):
                return p["metadata"]["name"]
    return None


def plan(conn, spec, services: list[dict], pods, access=None, want: str = "auto",
         nodes=None, probe=tcp_open, pod: str | None = None) -> Route:
    """pods / nodes: lists, or callables that list them (asked only when a path needs them;
    nodes None: not ours to list, no NodePort); pod: the pod to run siege in (with want
    siege-pod), instead of looking for one."""
    if want not in PATHS:
        raise UsageError(f"load path {want!r}: one of {', '.join(PATHS)}")
    by_key = {((s["metadata"].get("namespace") or "default"), s["metadata"]["name"]): s
              for s in services}
    found = named(spec, conn.namespace, by_key)
    names = ", ".join(sorted({svc for _, svc, _, _ in found}))
    keys = found
    if not found and want in ("auto", "loopback", "direct", "port-forward"):
        return Route("url", "the URLs name no in-cluster Service: sent as written")
    forced = "" if want == "auto" else f" (asked for: {want})"
    tried = []

    if want in ("auto", "loopback"):
        table = _loopback(found, by_key)
        if table is not None:
            return Route("loopback", "the embedded cluster publishes every Service port on "
                         f"loopback (kubelab.dev/host-ports){forced}", table, keys)
        tried.append(f"{names}: no loopback address published (not the embedded cluster)")
    if want in ("auto", "direct"):
        got = _balancer(found, by_key, probe)
        if got is not None:
            return Route("load-balancer", "; ".join(got[1]) + forced, got[0], keys)
        nodes = nodes() if callable(nodes) else nodes
        got = _node_port(found, by_key, nodes or [], probe) if nodes is not None or want == "direct" else None
        if got is not None:
            return Route("node-port", "; ".join(got[1]) + forced, got[0], keys)
        tried.append(f"{names}: no LoadBalancer or NodePort address that answers from here")
    if want in ("auto", "port-forward"):
        refused = access.refusal("create", "pods/portforward") if access is not None else ""
        if not refused:
            kinds = sorted({(by_key[(ns, s)].get("spec") or {}).get("type") or "ClusterIP"
                            for ns, s, _, _ in keys})
            return Route("port-forward", f"{names} ({'/'.join(kinds)}) is not reachable from this "
                         "machine: forwarding through the API server (pods/portforward) to its "
                         f"ready pods, re-targeting when one goes{forced}", targets=keys)
        tried.append(f"port-forward: {refused}")
    if want in ("auto", "siege-pod"):
        pod = pod or siege_pod(pods() if callable(pods) else pods)
        refused = access.refusal("create", "pods/exec") if access is not None and pod else ""
        if pod and not refused:
            why = "; ".join(tried) + "; so " if tried and want == "auto" else ""
            return Route("siege-pod", f"{why}running siege inside pod {pod} (kubectl exec), "
                         f"as the lab does{forced}", targets=keys, pod=pod)
        tried.append(f"siege pod: {refused}" if pod else
                     f"siege pod: none running in namespace {conn.namespace} "
                     "(kubectl apply -f manifests/siege.yaml)")
    raise UsageError(f"cannot reach {names or 'the URLs'} from here{forced}: " + "; ".join(tried))


def reach(conn, host: str, port: int, forwarder=None, want: str = "auto") -> tuple[str, int] | None:
    """One address on this machine for an in-cluster name (a check's or a fault's one
    request): the loopback address the embedded cluster publishes, else a port-forward
    through `forwarder()` (a portforward.Hub); want "port-forward" forwards whatever the
    cluster. None when `host` names no Service."""
    from console.cluster import rest
    from console.loadgen.resolve import cluster_name
    got = cluster_name(host or "")
    if got is None:
        return None
    svc_name, ns, certain = got
    ns = ns or conn.namespace
    try:
        svc = rest.get(conn.api, "Service", ns, svc_name)
    except Exception:
        if certain:
            raise
        return None
    published = ports_annotation(svc)
    if want == "port-forward" and forwarder is not None:
        return forwarder().forward(ns, svc_name, port)
    if str(port) in published:
        h, _, p = str(published[str(port)]).rpartition(":")
        return h or "127.0.0.1", int(p)
    if ports_annotation(rest.get(conn.api, "Service", "default", "kubernetes")):
        # the embedded cluster: its listener comes in a moment (a port-forward would skip
        # the Service and the mesh)
        raise UsageError(f"service {svc_name} port {port}: not published on loopback yet")
    if forwarder is None:
        raise UsageError(f"service {svc_name} is not reachable from here (no port-forward)")
    return forwarder().forward(ns, svc_name, port)

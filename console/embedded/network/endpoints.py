"""Which pod addresses a Service port sends traffic to: the ready endpoints, or
when there is none the serving-and-terminating ones (kube-proxy's rule,
console/endpoints.py).

Read from the EndpointSlices the endpointslice controller keeps (as kube-proxy
does), else from the Endpoints object, else computed from the pods (so the
proxy works in a cluster without the endpoints controllers).
"""

from console.embedded.controllers.base import map_matches, pod_ready
from console.embedded.controllers.endpoints import SLICES, target_port
from console.endpoints import usable


def ready_endpoints(store, svc: dict, svc_port: dict) -> tuple[list[tuple[str, int]], bool]:
    """The (ip, port) pairs, and whether they were read from the pods themselves."""
    ns = svc["metadata"].get("namespace") or "default"
    name = svc["metadata"]["name"]
    port_name = svc_port.get("name") or ""
    slices = [s for s in store.scan(SLICES, ns)
              if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name]
    if slices:
        found = []
        for s in slices:
            port = next((p.get("port") for p in s.get("ports") or []
                         if (p.get("name") or "") == port_name), None)
            if port is not None:
                found += [(ep, port) for ep in s.get("endpoints") or []]
        chosen, _ = usable(found, lambda pair: pair[0])
        return sorted({(ip, port) for ep, port in chosen for ip in ep.get("addresses") or []}), False
    eps = store.get("endpoints", ns, name)
    if eps is not None:
        out = []
        for subset in eps.get("subsets") or []:
            port = next((p.get("port") for p in subset.get("ports") or []
                         if (p.get("name") or "") == port_name), None)
            if port is not None:
                out.extend((a["ip"], port) for a in subset.get("addresses") or [] if a.get("ip"))
        return sorted(set(out)), False
    selector = (svc.get("spec") or {}).get("selector")
    if not selector:
        return [], False
    out = []
    for pod in store.scan("pods", ns):
        if pod["metadata"].get("deletionTimestamp") or not pod_ready(pod):
            continue
        if not map_matches(selector, pod["metadata"].get("labels")):
            continue
        ip = (pod.get("status") or {}).get("podIP")
        port = target_port(svc_port, pod)
        if ip and port:
            out.append((ip, port))
    return sorted(out), True

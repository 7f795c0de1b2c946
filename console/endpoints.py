"""Which of a Service's EndpointSlice endpoints take new connections, as kube-proxy
picks them for the Cluster traffic policy (pkg/proxy/topology.go,
CategorizeEndpoints): the ready ones; only when there is none, the ones that are
serving and terminating (ProxyTerminatingEndpoints, on since 1.26, GA in 1.28) —
a rollout's last old pods, a scale-down to zero, a deleted pod whose replacement is
not ready yet — so traffic is not dropped while they still answer.

A missing condition means what the API says it means (kube-proxy's
endpointslicecache): ready and serving default to true, terminating to false.

Shared by the embedded cluster's Service proxy and the console's port-forward, so
it imports nothing.
"""

from __future__ import annotations


def conditions(endpoint: dict) -> tuple[bool, bool, bool]:
    """(ready, serving, terminating) of one EndpointSlice endpoint."""
    cond = endpoint.get("conditions") or {}
    return (cond.get("ready") is not False, cond.get("serving") is not False,
            cond.get("terminating") is True)


def usable(items: list, endpoint=lambda item: item) -> tuple[list, bool]:
    """The items (endpoints, or what `endpoint(item)` says is one) new connections go
    to, and whether they are the terminating fallback: no ready endpoint, so the
    serving-and-terminating ones."""
    ready = [it for it in items if conditions(endpoint(it))[0]]
    if ready:
        return ready, False
    fallback = [it for it in items if conditions(endpoint(it))[1:] == (True, True)]
    return fallback, bool(fallback)

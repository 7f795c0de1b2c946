"""istiod's part in the embedded cluster (a component: `run(cluster)`), as on a
cluster where Istio is installed:

- the sidecar injector (istio-sidecar-injector, a mutating webhook on pod
  CREATE): inject.py decides and adds the sidecar;
- configuration validation (validation.istio.io, a validating webhook on the
  networking.istio.io kinds) and the CRDs' own schema rules: validate.py;
- the istio-ca-root-cert ConfigMap injected pods mount, published in each
  namespace that is injected or holds an injected pod (istiod's namespace
  controller publishes it in every namespace; only where the mesh is keeps other
  namespaces' listings as they were).

The data plane (what Envoy does with traffic) is console/embedded/mesh/__init__.py,
run by the nodes' network.
"""

import asyncio

from console.embedded.mesh import inject, validate
from console.embedded.mesh.config import DR, VS
from console.embedded.store import Event

SIDECAR = "istio-proxy"


def _injector(registry, pod: dict, old: dict | None) -> None:
    if old is not None:
        return
    ns = registry.store.peek("namespaces", "", (pod.get("metadata") or {}).get("namespace") or "default")
    if inject.wanted(pod, ns):
        inject.inject(pod)
        pod.pop("status", None)     # the pod's QoS class is worked out after the webhooks


def publish_ca(cluster, namespace: str) -> None:
    store = cluster.store
    if store.peek("configmaps", namespace, inject.CA_CONFIGMAP) is not None:
        return
    ns = store.peek("namespaces", "", namespace)
    if ns is not None and ns["metadata"].get("deletionTimestamp"):
        return
    try:
        cluster.registry.create("configmaps", inject.ca_configmap(namespace))
    except Exception:      # raced with another writer, or the namespace went: fine either way
        pass


def _wants_ca(ev) -> str | None:
    meta = ev.obj.get("metadata") or {}
    if ev.type == "DELETED":
        return None
    if ev.res == "namespaces":
        labels = meta.get("labels") or {}
        if labels.get("istio-injection") == "enabled" or (
                "istio.io/rev" in labels and labels.get("istio-injection") != "disabled"):
            return meta["name"]
    elif ev.res == "pods" and any(c.get("name") == SIDECAR
                                  for c in (ev.obj.get("spec") or {}).get("containers") or []):
        return meta.get("namespace") or "default"
    return None


async def run(cluster) -> None:
    admission = cluster.registry.admission
    hooks = [("mutate", "pods", _injector)]
    for res in (DR, VS):
        hooks += [("validate", res, validate.schema), ("webhook", res, validate.webhook)]
    for phase, res, fn in hooks:
        admission.add(phase, res, fn)
    loop = asyncio.get_running_loop()

    def on_change(ev) -> None:
        ns = _wants_ca(ev)
        if ns is not None:
            loop.call_soon(publish_ca, cluster, ns)
    cluster.store.subscribe(on_change)
    for ns in cluster.store.list("namespaces"):
        on_change(Event("ADDED", "namespaces", ns))
    try:
        await asyncio.Event().wait()
    finally:
        for phase, res, fn in hooks:
            admission.remove(phase, res, fn)

"""core/v1 Events as the control plane writes them, aggregated like client-go's
recorder: the same (object, reason, message) bumps count and lastTimestamp."""

import time

from console.embedded.registry import Registry


class Recorder:
    """One cluster's event recorder.

    It keeps (namespace, uid, reason, message, fieldPath) -> event name, so
    aggregation does not scan every event of the namespace (1,000 pods make
    thousands); a stale entry (event deleted meanwhile) is checked and dropped.
    """

    def __init__(self, registry: Registry):
        self.registry = registry
        self.index: dict[tuple, str] = {}
        self.last_ns = 0

    def name(self, obj_name: str) -> str:
        """client-go's "<object>.<hex UnixNano>": names sort in creation order, so
        `kubectl describe` lists events of the same second as they happened."""
        self.last_ns = max(time.time_ns(), self.last_ns + 1)
        return f"{obj_name}.{self.last_ns:x}"

    def record(self, obj: dict, reason: str, message: str, type_: str = "Normal",
               component: str = "kubelet", host: str | None = None,
               field_path: str | None = None) -> dict | None:
        return _record(self, obj, reason, message, type_, component, host, field_path)


def _record(rec: Recorder, obj: dict, reason: str, message: str, type_: str,
            component: str, host: str | None, field_path: str | None) -> dict | None:
    """Returns the Event written (the stored one: read-only), or None when its
    namespace is being deleted (the API server's NamespaceLifecycle refuses new
    content there)."""
    registry = rec.registry
    meta = obj["metadata"]
    ns = meta.get("namespace") or "default"
    home = registry.store.peek("namespaces", "", ns)
    if home is not None and home["metadata"].get("deletionTimestamp"):
        return None
    involved = {
        "kind": obj.get("kind", ""),
        "namespace": meta.get("namespace", ""),
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if not involved["namespace"]:
        involved.pop("namespace")
    if field_path:
        involved["fieldPath"] = field_path
    now = registry.clock.stamp()
    index = rec.index
    if len(index) > 50_000:
        index.clear()  # bounded: at worst one event is not aggregated
    key = (ns, involved["uid"], reason, message, field_path)
    name = index.get(key)
    if name is not None:
        def bump(e):
            e["count"] = e.get("count", 1) + 1
            e["lastTimestamp"] = now
        got = registry.mutate("events", ns, name, bump)
        if got is not None:
            return got
        del index[key]
    source = {"component": component}
    if host:
        source["host"] = host
    ev = registry.create("events", {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": rec.name(meta["name"]), "namespace": ns},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": type_,
        "source": source,
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host or "",
    }, owned=True)
    index[key] = ev["metadata"]["name"]
    return ev

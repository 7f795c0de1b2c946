"""core/v1 Events as the control plane writes them, aggregated like client-go's
recorder: the same (object, reason, message) bumps count and lastTimestamp."""

from console.embedded.registry import Registry, random_suffix


def record(registry: Registry, obj: dict, reason: str, message: str,
           type_: str = "Normal", component: str = "kubelet", host: str | None = None,
           field_path: str | None = None) -> dict:
    meta = obj["metadata"]
    ns = meta.get("namespace") or "default"
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
    for ev in registry.store.scan("events", ns):
        io = ev["involvedObject"]
        if (io.get("uid") == involved["uid"] and ev["reason"] == reason
                and ev["message"] == message and io.get("fieldPath") == field_path):
            def bump(e):
                e["count"] = e.get("count", 1) + 1
                e["lastTimestamp"] = now
            return registry.mutate("events", ns, ev["metadata"]["name"], bump)
    source = {"component": component}
    if host:
        source["host"] = host
    return registry.create("events", {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{random_suffix(16)}", "namespace": ns},
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
    })

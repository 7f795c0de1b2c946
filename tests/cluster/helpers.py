"""Helpers for adapter tests against the embedded cluster: a namespace of one's own."""

import time
import uuid

from console import bus
from console.cluster import rest
from console.cluster.connect import from_kubeconfig
from console.cluster.state import ClusterState


class Borrowed:
    """A cluster lent to a connection: closing the connection (Session.close)
    must not stop a cluster the other tests share."""

    def __init__(self, cluster):
        self.cluster = cluster

    def __getattr__(self, name):
        return getattr(self.cluster, name)

    def stop(self):
        pass


def namespace_conn(cluster, prefix="t"):
    conn = from_kubeconfig(str(cluster.kubeconfig))
    ns = f"{prefix}-{uuid.uuid4().hex[:6]}"
    rest.create_or_update(conn.api, {"apiVersion": "v1", "kind": "Namespace",
                                     "metadata": {"name": ns}}, ns)
    conn.embedded = Borrowed(cluster)   # ours to change freely: no confirmations
    conn.namespace = ns
    return conn


def wait_for(condition, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def ready_pods(conn, selector: str = "") -> list[str]:
    """Names of the pods in conn's namespace that are Ready and not terminating."""
    body = rest.call(conn.api, "GET", rest.path_for("Pod", conn.namespace),
                     query=[("labelSelector", selector)] if selector else None)
    return [p["metadata"]["name"] for p in body.get("items") or []
            if not p["metadata"].get("deletionTimestamp") and any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (p.get("status") or {}).get("conditions") or [])]


class Watched:
    """A ClusterState fed by a bus subscription, pumped on demand; merge=False to see
    every event (a merging one keeps only the newest of a kind still waiting)."""

    def __init__(self, b: bus.Bus, merge: bool = True):
        self.sub = b.subscribe(merge=merge)
        self.state = ClusterState()
        self.seen: list[bus.Event] = []

    def pump(self):
        for ev in self.sub.get_batch(timeout=0.2):
            self.seen.append(ev)
            self.state.apply(ev)
        return self.state

    def until(self, condition, timeout=60.0, what="condition"):
        return wait_for(lambda: condition(self.pump()), timeout, what)


def answers(conn, service="order", port=8080, path="/orders"):
    """The Service answers 200 through its published loopback port (booted, not just Running)."""
    import urllib.request
    from console.cluster.faults import service_address
    try:
        host, port = service_address(conn, service, port)
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=5) as resp:
            return resp.status == 200
    except Exception:
        return False

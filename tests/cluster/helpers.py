"""Helpers for adapter tests against the embedded cluster: a namespace of one's own."""

import time
import uuid

from console import bus
from console.cluster import rest
from console.cluster.connect import from_kubeconfig
from console.cluster.state import ClusterState


def namespace_conn(cluster, prefix="t"):
    conn = from_kubeconfig(str(cluster.kubeconfig))
    ns = f"{prefix}-{uuid.uuid4().hex[:6]}"
    rest.create_or_update(conn.api, {"apiVersion": "v1", "kind": "Namespace",
                                     "metadata": {"name": ns}}, ns)
    conn.embedded = cluster   # ours to change freely: no confirmations
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


class Watched:
    """A ClusterState fed by a bus subscription, pumped on demand."""

    def __init__(self, b: bus.Bus):
        self.sub = b.subscribe()
        self.state = ClusterState()
        self.seen: list[bus.Event] = []

    def pump(self):
        uids = set()
        for ev in self.sub.get_batch(timeout=0.2):
            self.seen.append(ev)
            self.state.apply(ev)
            if isinstance(ev, bus.ObjectChanged) and ev.kind == "pods":
                uids.add(ev.uid)
        self.state.note_ready_changes(uids)   # as the app does after each batch
        return self.state

    def until(self, condition, timeout=60.0, what="condition"):
        return wait_for(lambda: condition(self.pump()), timeout, what)

"""What a fresh cluster has before anyone writes: the four system namespaces and
the `kubernetes` Service in default (the API server's own, as kube-apiserver makes it)."""

import asyncio

from console.embedded.store import Conflict

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def populate(cluster) -> None:
    reg = cluster.registry
    for name in NAMESPACES:
        try:
            reg.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {
                "name": name, "labels": {"kubernetes.io/metadata.name": name}}})
        except Conflict:
            pass
    try:
        reg.create("services", {"apiVersion": "v1", "kind": "Service", "metadata": {
            "name": "kubernetes", "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "ports": [
                {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}})
    except Conflict:
        pass


async def run(cluster) -> None:
    populate(cluster)
    await asyncio.Event().wait()  # nothing more to do; idle until cancelled

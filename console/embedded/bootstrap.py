"""What a fresh cluster has before anyone writes: the four system namespaces and
the `kubernetes` Service in default with its Endpoints/EndpointSlice (the API
server's own, as kube-apiserver makes them)."""

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
    # the API server's own address behind it (selectorless: no controller touches it)
    port = getattr(cluster, "api_port", None) or 6443
    for res, obj in (
        ("endpoints", {"apiVersion": "v1", "kind": "Endpoints", "metadata": {
            "name": "kubernetes", "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                         "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]}),
        ("endpointslices.discovery.k8s.io", {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": {
                "name": "kubernetes", "namespace": "default",
                "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["127.0.0.1"], "conditions": {"ready": True}}],
            "ports": [{"name": "https", "port": port, "protocol": "TCP"}]})):
        try:
            reg.create(res, obj)
        except Conflict:
            pass


async def run(cluster) -> None:
    populate(cluster)
    await asyncio.Event().wait()  # nothing more to do; idle until cancelled

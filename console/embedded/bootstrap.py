"""What a fresh cluster has before anyone writes: the four system namespaces,
the `kubernetes` Service in default with its Endpoints/EndpointSlice (the API
server's own, as kube-apiserver makes them), CoreDNS and kube-proxy (a
DaemonSet: a pod per node) in kube-system, so that
lab L7's `kubectl get pods --all-namespaces` lists system pods as on a real
cluster, and metrics-server with its APIService (unless the cluster was made
without it: `kubelab cluster --no-metrics`)."""

import asyncio

from console.embedded.mesh import schema as schema_for
from console.embedded.metrics import manifests as metrics_manifests
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
    # kube-apiserver's bootstrap controller looks before it creates: a kept Service
    # (--data) would fail the IP allocator ("provided IP is already allocated")
    if reg.get("services", "default", "kubernetes") is None:
        reg.create("services", {"apiVersion": "v1", "kind": "Service", "metadata": {
            "name": "kubernetes", "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "ports": [
                {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}})
    for k in cluster.kinds:
        if k.group.endswith("istio.io"):
            try:
                reg.create("customresourcedefinitions.apiextensions.k8s.io", crd(k))
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
        except Conflict:   # kept from an earlier run (--data): the API server's port of now
            reg.mutate(res, "default", "kubernetes", lambda o, want=obj: _same_port(o, want))
    system = [("services", KUBE_DNS), ("deployments.apps", COREDNS),
              ("daemonsets.apps", kube_proxy(cluster.version))]
    if getattr(cluster, "metrics_server", True):
        system += list(metrics_manifests.OBJECTS)
    for res, obj in system:
        meta = obj["metadata"]
        if reg.get(res, meta.get("namespace") or "", meta["name"]) is None:
            reg.create(res, obj)


def _same_port(obj: dict, want: dict):
    key = "subsets" if "subsets" in want else "ports"
    if obj.get(key) == want[key]:
        return False
    obj[key] = want[key]


DNS_LABELS = {"k8s-app": "kube-dns"}

COREDNS = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "coredns", "namespace": "kube-system", "labels": DNS_LABELS},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": DNS_LABELS},
        "template": {
            "metadata": {"labels": DNS_LABELS},
            "spec": {
                "priorityClassName": "system-cluster-critical",
                "containers": [{
                    "name": "coredns",
                    "image": "registry.k8s.io/coredns/coredns:v1.12.0",
                    "args": ["-conf", "/etc/coredns/Corefile"],
                    "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                              {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
                              {"name": "metrics", "containerPort": 9153, "protocol": "TCP"}],
                    "resources": {"requests": {"cpu": "100m", "memory": "70Mi"},
                                  "limits": {"memory": "170Mi"}},
                }],
            },
        },
    },
}

def kube_proxy(version: str) -> dict:
    """kube-proxy as kubeadm installs it: a DaemonSet on the nodes' network."""
    labels = {"k8s-app": "kube-proxy"}
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "priorityClassName": "system-node-critical",
                    "serviceAccountName": "kube-proxy",
                    "hostNetwork": True,
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{
                        "name": "kube-proxy",
                        "image": f"registry.k8s.io/kube-proxy:{version}",
                        "command": ["/usr/local/bin/kube-proxy",
                                    "--config=/var/lib/kube-proxy/config.conf",
                                    "--hostname-override=$(NODE_NAME)"],
                        "env": [{"name": "NODE_NAME",
                                 "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                        "securityContext": {"privileged": True},
                    }],
                },
            },
        },
    }


KUBE_DNS = {
    "apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "kube-dns", "namespace": "kube-system",
                 "labels": {**DNS_LABELS, "kubernetes.io/name": "CoreDNS"}},
    "spec": {"selector": DNS_LABELS, "clusterIP": "10.96.0.10", "ports": [
        {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
        {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]},
}


def crd(kind) -> dict:
    """A CustomResourceDefinition for one of the custom kinds served here."""
    columns = {"DestinationRule": [("Host", "string", ".spec.host")],
               "VirtualService": [("Gateways", "string", ".spec.gateways"),
                                  ("Hosts", "string", ".spec.hosts")]}.get(kind.kind, [])
    printer = [{"name": n, "type": t, "jsonPath": p} for n, t, p in columns] + [
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    if kind.key in schema_for.SPECS:
        schema = {"openAPIV3Schema": schema_for.crd_schema(kind.key)}
    else:
        schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": kind.key, "labels": {"app": "istio-pilot"}},
            "spec": {"group": kind.group, "scope": "Namespaced",
                     "names": {"plural": kind.resource, "singular": kind.singular,
                               "kind": kind.kind, "listKind": f"{kind.kind}List",
                               "shortNames": list(kind.short), "categories": list(kind.categories)},
                     "versions": [{"name": v, "served": True, "storage": v == kind.storage_version,
                                   "schema": schema, "subresources": {"status": {}},
                                   "additionalPrinterColumns": printer}
                                  for v in kind.versions]}}


LEASE_RENEW = 10.0      # simulated seconds, as the kubelet renews
LEASE_MIN_REAL = 5.0    # but not more often than this in real seconds (keeps history)


def renew_leases(cluster) -> None:
    """A coordination.k8s.io Lease per Node in kube-node-lease (kubectl describe
    node shows it); created and renewed here unless someone else holds it."""
    reg = cluster.registry
    now = cluster.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for node in list(reg.scan("nodes")):
        name = node["metadata"]["name"]
        lease = reg.get("leases.coordination.k8s.io", "kube-node-lease", name)
        if lease is None:
            try:
                reg.create("leases.coordination.k8s.io", {
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": name, "namespace": "kube-node-lease", "ownerReferences": [{
                        "apiVersion": "v1", "kind": "Node", "name": name,
                        "uid": node["metadata"].get("uid", "")}]},
                    "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                             "renewTime": now}})
            except Conflict:
                pass
        elif (lease.get("spec") or {}).get("holderIdentity") == name:
            def renew(obj):
                obj["spec"]["renewTime"] = now
            reg.mutate("leases.coordination.k8s.io", "kube-node-lease", name, renew)


async def run(cluster) -> None:
    populate(cluster)
    loop = asyncio.get_running_loop()

    def on_change(ev) -> None:  # a new Node gets its Lease at once (outside the emit)
        if ev.res == "nodes" and ev.type == "ADDED":
            loop.call_soon(renew_leases, cluster)
    cluster.store.subscribe(on_change)
    while True:
        renew_leases(cluster)
        await asyncio.sleep(max(cluster.clock.real(LEASE_RENEW), LEASE_MIN_REAL))

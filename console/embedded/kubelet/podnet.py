"""A pod's view of the network for the tools in its containers (curl, wget):
localhost and the pod's own IP, other pods' IPs, and Services by DNS name
(`order`, `order.default`, `order.default.svc.cluster.local`) or ClusterIP,
balanced like any other connection through the Service's proxy."""

import ipaddress

SUFFIXES = (".svc.cluster.local", ".svc")


class PodNet:
    def __init__(self, worker):
        self.worker = worker
        self.cluster = worker.cluster

    def _service(self, host: str):
        ns = self.worker.key[0]
        try:
            ipaddress.ip_address(host)
        except ValueError:
            name = host
            for suffix in SUFFIXES:
                if name.endswith(suffix):
                    name = name[: -len(suffix)]
            parts = name.split(".")
            if len(parts) > 2:
                return None
            key = (parts[1] if len(parts) == 2 else ns, parts[0])
            return key if self.cluster.store.get("services", *key) is not None else None
        for svc in self.cluster.store.scan("services"):
            if (svc.get("spec") or {}).get("clusterIP") == host:
                return (svc["metadata"].get("namespace") or "default", svc["metadata"]["name"])
        return None

    def _local(self, host: str) -> bool:
        return host in ("localhost", "127.0.0.1", "::1", self.worker.ip, self.worker.key[1])

    def knows(self, host: str) -> bool:
        kubelet = self.cluster.kubelet
        return self._local(host) or host in kubelet.by_ip or self._service(host) is not None

    def __call__(self, host: str, port: int):
        """The app a connection to host:port reaches, or None (refused / unknown)."""
        if self._local(host):
            return self.worker.listener(port)
        other = self.cluster.kubelet.by_ip.get(host)
        if other is not None:
            return other.listener(port)
        key = self._service(host)
        network = getattr(self.cluster, "network", None)
        if key is None or network is None:
            return None
        proxy = network.proxies.get(key, {}).get(port)
        return None if proxy is None else proxy.connect()

"""Simulated nodes: the Node objects a kubelet registers, and pod IPs from each
node's pod CIDR (10.244.N.0/24, as kind and flannel hand them out).

IPs are handed out as CNI's host-local IPAM does: round-robin from the one after
the last reserved, so a pod that comes back after a node restart (a new sandbox)
gets a new address rather than its old one."""

import asyncio
import uuid

INTERNAL_NET = "172.18.0."           # what a kind cluster's nodes get on the docker bridge
CONTAINER_RUNTIME = "containerd://1.7.18"
KERNEL = "6.1.0-28-amd64"
OS_IMAGE = "Debian GNU/Linux 12 (bookworm)"


MAX_PODS = 110                       # kubelet's --max-pods default
CIDR_PODS = 253                      # what a /24 holds for pods (.2 to .254)


class Node:
    def __init__(self, index: int, version: str, max_pods: int = MAX_PODS):
        self.index = index
        self.max_pods = max_pods
        self.name = f"kubelab-node-{index}"
        self.ip = f"{INTERNAL_NET}{index + 1}"
        self.cidr = f"10.244.{index}.0/24"
        self.version = version
        self.images: dict[str, int] = {}      # image ref -> size: this node's image cache
        self._used: set[int] = set()
        self._last = 1                        # host-local's last_reserved_ip
        self.pull_lock = asyncio.Lock()     # serializeImagePulls: true, kubelet's default

    def allocate_ip(self) -> str:
        for step in range(253):
            host = (self._last - 2 + 1 + step) % 253 + 2     # 2..254, after the last one
            if host not in self._used:
                self._used.add(host)
                self._last = host
                return f"10.244.{self.index}.{host}"
        raise RuntimeError(f"pod CIDR {self.cidr} of {self.name} is exhausted")

    def seen_ip(self, ip: str | None) -> None:
        """An address handed out before a restart: the next one comes after it."""
        if ip and ip.startswith(f"10.244.{self.index}."):
            self._last = max(self._last, int(ip.rsplit(".", 1)[1]))

    def release_ip(self, ip: str | None) -> None:
        if ip and ip.startswith(f"10.244.{self.index}."):
            self._used.discard(int(ip.rsplit(".", 1)[1]))

    def manifest(self) -> dict:
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": self.name,
            "kubernetes.io/os": "linux",
        }
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.name,
                "labels": labels,
                "annotations": {
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
            },
            "spec": {"podCIDR": self.cidr, "podCIDRs": [self.cidr],
                     "providerID": f"kind://docker/kubelab/{self.name}"},
        }

    def status(self, stamp: str) -> dict:
        resources = {"cpu": "4", "memory": "8Gi", "pods": str(self.max_pods),
                     "ephemeral-storage": "100Gi", "hugepages-1Gi": "0", "hugepages-2Mi": "0"}

        def cond(type_, status, reason, message):
            return {"type": type_, "status": status, "lastHeartbeatTime": stamp,
                    "lastTransitionTime": stamp, "reason": reason, "message": message}

        return {
            "capacity": dict(resources),
            "allocatable": dict(resources),
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory",
                     "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure",
                     "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID",
                     "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [{"type": "InternalIP", "address": self.ip},
                          {"type": "Hostname", "address": self.name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": uuid.uuid5(uuid.NAMESPACE_DNS, self.name).hex,
                "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, self.name)),
                "bootID": str(uuid.uuid4()),
                "kernelVersion": KERNEL,
                "osImage": OS_IMAGE,
                "containerRuntimeVersion": CONTAINER_RUNTIME,
                "kubeletVersion": self.version,
                "kubeProxyVersion": self.version,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
            "images": [],
        }

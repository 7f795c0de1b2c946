"""The simulated kubelets: one per node, all in this one component.

`run(cluster)` registers the Node objects, starts the Service proxies
(`console.embedded.network`, the nodes' kube-proxy), then keeps one PodWorker
per pod bound (spec.nodeName) to one of its nodes.

`cluster.kubelet` is the door for the rest of the cluster:
  logs(ns, pod, container=None, previous=False) -> ["<RFC3339Nano> line", ...] | None
  follow(ns, pod, container)                    -> async iterator of new lines
  container(ns, pod, container=None)            -> Container (.app: .fs .shell .cpu .exec)
  exec(ns, pod, container, argv)                -> (exit code, output) | None   (async)
  cpu_usage(ns, pod)                            -> {container: core-seconds, cumulative}
  memory_usage(ns, pod)                         -> {container: working-set bytes}
"""

import asyncio
import logging

from console.embedded.apps.events import Broker
from console.embedded.kubelet import images
from console.embedded.kubelet.node import MAX_PODS, Node
from console.embedded.kubelet.worker import PodWorker
from console.embedded.store import Event

log = logging.getLogger("kubelab.kubelet")


class Kubelet:
    def __init__(self, cluster):
        self.cluster = cluster
        self.nodes = {n.name: n for n in (
            Node(i, cluster.version, getattr(cluster, "max_pods", MAX_PODS))
            for i in range(1, cluster.nodes + 1))}
        self.workers: dict[tuple[str, str], PodWorker] = {}
        self.by_ip: dict[str, PodWorker] = {}
        self.broker = Broker()          # the labs' services' events (apps/events.py)

    # -- the API server's door ----------------------------------------------
    def worker(self, namespace: str, pod: str) -> "PodWorker | None":
        return self.workers.get((namespace, pod))

    def logs(self, namespace: str, pod: str, container: str | None = None,
             previous: bool = False) -> list[str] | None:
        w = self.workers.get((namespace, pod))
        return None if w is None else w.logs(container, previous)

    def follow(self, namespace: str, pod: str, container: str | None = None):
        """Async iterator of log lines: what is there, then new ones until the
        container instance stops."""
        w = self.workers.get((namespace, pod))
        if w is None:
            raise KeyError(f"{namespace}/{pod}")
        return w.follow(container)

    def container(self, namespace: str, pod: str, container: str | None = None):
        """The kubelet's container object (its .app is the running process: .fs,
        .shell, .cpu, .exec(argv)); None when there is none."""
        w = self.workers.get((namespace, pod))
        return None if w is None else w.container(container)

    async def exec(self, namespace: str, pod: str, container: str | None,
                   argv: list[str]) -> tuple[int, str] | None:
        """Run a command in a running container: (exit code, output), None if not running."""
        c = self.container(namespace, pod, container)
        if c is None or c.state != "running" or c.app is None:
            return None
        return await c.app.exec(list(argv))

    def cpu_usage(self, namespace: str, pod: str) -> dict[str, float]:
        """Cumulative CPU core-seconds (simulated time) per running container, as
        cAdvisor reports usage; rate over a window = cores used."""
        w = self.workers.get((namespace, pod))
        if w is None:
            return {}
        return {c.name: c.app.cpu.usage_core_seconds() for c in w.containers
                if c.app is not None and c.state == "running"}

    def memory_usage(self, namespace: str, pod: str) -> dict[str, int]:
        """Working-set bytes per running container: the app's footprint, reached as
        it boots (what metrics-server would report)."""
        w = self.workers.get((namespace, pod))
        if w is None:
            return {}
        out = {}
        for c in w.containers:
            if c.app is None or c.state != "running":
                continue
            share = 1.0 if c.app.listening or not c.app.boot_seconds else 0.6
            out[c.name] = int(c.app.memory_mb * share * 2**20)
        return out

    # -- pods ----------------------------------------------------------------
    def register_nodes(self) -> None:
        reg = self.cluster.registry
        for node in self.nodes.values():
            fresh = reg.get("nodes", "", node.name) is None
            if fresh:
                reg.create("nodes", node.manifest())
            status = node.status(self.cluster.clock.stamp())
            obj = reg.mutate("nodes", "", node.name, lambda o: o.__setitem__("status", status),
                             subresource="status")
            if obj is None:
                continue
            if fresh:
                self._announce(obj, node.name)
            else:
                self._announce_restart(obj, node.name, status["nodeInfo"]["bootID"])

    def _announce(self, node: dict, name: str) -> None:
        """The events a starting kubelet records on its Node."""
        ev = self.cluster.event
        ev(node, "Starting", "Starting kubelet.", host=name)
        for reason in ("NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID"):
            ev(node, reason, f"Node {name} status is now: {reason}", host=name)
        ev(node, "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods", host=name)
        ev(node, "NodeReady", f"Node {name} status is now: NodeReady", host=name)

    def _announce_restart(self, node: dict, name: str, boot_id: str) -> None:
        """A kubelet starting on a node that was there before (the cluster restarted)."""
        ev = self.cluster.event
        ev(node, "Starting", "Starting kubelet.", host=name)
        ev(node, "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods", host=name)
        ev(node, "Rebooted", f"Node {name} has been rebooted, boot id: {boot_id}", "Warning", host=name)

    def restore(self, pods: list[dict]) -> None:
        """After a restart (--data): what a node keeps on disk across a reboot. Each
        node's IPAM carries on after the addresses it handed out, its image cache still
        has the images its pods ran, and each pod that ran comes back in a new sandbox."""
        for pod in pods:
            node = self.nodes.get((pod.get("spec") or {}).get("nodeName") or "")
            if node is None:
                continue
            status = pod.get("status") or {}
            node.seen_ip(status.get("podIP"))
            for cs in status.get("containerStatuses") or []:
                if cs.get("imageID"):
                    ref = images.reference(cs.get("image") or "")
                    node.images.setdefault(ref, images.size(ref))
        for pod in pods:
            self.on_change(Event("ADDED", "pods", pod), rebooted=True)

    def on_change(self, ev, rebooted: bool = False) -> None:
        """rebooted: the pod ran on its node before the cluster restarted."""
        if ev.res != "pods":
            return
        meta = ev.obj["metadata"]
        key = (meta.get("namespace") or "default", meta["name"])
        w = self.workers.get(key)
        if ev.type == "DELETED":
            if w is not None and w.uid == meta.get("uid"):
                w.gone()
            return
        node = self.nodes.get((ev.obj.get("spec") or {}).get("nodeName") or "")
        if node is None:
            return
        if w is not None and w.uid != meta.get("uid"):
            w.gone()      # same name, new pod (a StatefulSet-like re-create)
            w = None
        if w is None:
            if (ev.obj.get("status") or {}).get("phase") in ("Succeeded", "Failed") \
                    and not meta.get("deletionTimestamp"):
                return    # finished before we (re)started: nothing to run
            w = PodWorker(self, node, ev.obj, rebooted=rebooted)
            self.workers[key] = w
            w.task = self.cluster.spawn(w.run(), f"pod {key[0]}/{key[1]}")
        w.poke(ev.obj)

    def forget(self, w: PodWorker) -> None:
        if self.workers.get(w.key) is w:
            del self.workers[w.key]
        if w.ip and self.by_ip.get(w.ip) is w:
            del self.by_ip[w.ip]
        w.node.release_ip(w.ip)
        network = getattr(self.cluster, "network", None)
        if network is not None:
            network.forget_pod(w)


async def run(cluster) -> None:
    kubelet = Kubelet(cluster)
    cluster.kubelet = kubelet
    kubelet.register_nodes()
    cluster.store.subscribe(kubelet.on_change)
    from console.embedded import network    # the nodes' kube-proxy
    proxies = cluster.spawn(network.run(cluster), "network")
    pods = cluster.store.list("pods")
    if getattr(cluster, "restored", False):
        kubelet.restore(pods)
    else:
        for pod in pods:
            kubelet.on_change(Event("ADDED", "pods", pod))
    try:
        await asyncio.Event().wait()
    finally:
        proxies.cancel()
        for w in list(kubelet.workers.values()):
            w.gone()

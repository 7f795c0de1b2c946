"""metrics-server's storage and its metrics.k8s.io/v1beta1 API.

Like metrics-server (--metric-resolution=15s) it scrapes every kubelet's
cumulative CPU and working-set memory per container every 15 s of simulated
time and keeps the last two points: a pod's CPU is the rate between them over
that window, its memory the last working set. A pod appears once two scrapes
have seen it; a container that restarted (its counter went back) is left out
until it has two points again. A node's usage is its pods' plus the system's
(kubelet, runtime, OS). The storage is the serving pod's memory: when that pod
changes the points are lost, as they are when metrics-server restarts.
"""

from dataclasses import dataclass, field

from console import quantity
from console.embedded.kinds import Kind

RESOLUTION = 15.0                 # simulated seconds between scrapes
NODE_SYSTEM_MILLICORES = 45.0     # kubelet + containerd + OS on an idle node
NODE_SYSTEM_BYTES = 460 * 2 ** 20

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
POD_METRICS = Kind("pods", "PodMetrics", GROUP, (VERSION,), True, verbs=("get", "list"))
NODE_METRICS = Kind("nodes", "NodeMetrics", GROUP, (VERSION,), False, verbs=("get", "list"))


@dataclass
class Point:
    t: float                    # simulated seconds (clock.elapsed)
    stamp: str                  # wall clock, RFC 3339
    cpu: dict[str, float]       # container -> cumulative core-seconds
    memory: dict[str, int]      # container -> working-set bytes


@dataclass
class PodSeries:
    uid: str
    node: str
    labels: dict
    prev: Point | None = None
    last: Point | None = None


@dataclass
class Usage:
    """One pod's usage over the last window (what the HPA's metrics client reads)."""
    cpu_millicores: float
    containers: dict[str, tuple[float, int]]   # container -> (cores, bytes)
    t: float                                   # simulated time of the sample
    window: float                              # simulated seconds
    stamp: str


def _window(seconds: float) -> str:
    """metav1.Duration as Go prints it ("15s", "14.998s")."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def _stamp_ms(dt) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class MetricsServer:
    cluster: object
    pods: dict[tuple[str, str], PodSeries] = field(default_factory=dict)
    nodes: dict[str, tuple[Point | None, Point | None]] = field(default_factory=dict)
    usage: dict[tuple[str, str], Usage] = field(default_factory=dict)
    node_usage: dict[str, tuple[float, int, str, float]] = field(default_factory=dict)
    backend: object = None          # the metrics-server process whose memory this is
    unavailable_reason: str | None = "service unavailable"

    def reset(self) -> None:
        self.pods.clear()
        self.usage.clear()
        self.node_usage.clear()

    def serve_from(self, process) -> None:
        """The metrics-server process running now (None: none runs)."""
        if process is not self.backend:
            self.reset()
            self.backend = process

    # -- scraping ------------------------------------------------------------
    def scrape(self) -> None:
        kubelet = getattr(self.cluster, "kubelet", None)
        if kubelet is None or self.backend is None:
            return
        clock = self.cluster.clock
        t, stamp = clock.elapsed(), _stamp_ms(clock.now())
        seen = set()
        for key, worker in list(kubelet.workers.items()):
            cpu = kubelet.cpu_usage(*key)
            if not cpu:
                continue
            seen.add(key)
            meta = worker.pod["metadata"]
            series = self.pods.get(key)
            if series is None or series.uid != worker.uid:
                series = self.pods[key] = PodSeries(worker.uid, worker.node.name,
                                                    meta.get("labels") or {})
            series.labels = meta.get("labels") or {}
            series.prev, series.last = series.last, Point(t, stamp, cpu,
                                                          kubelet.memory_usage(*key))
            self._rate(key, series)
        for key in [k for k in self.pods if k not in seen]:
            del self.pods[key]
            self.usage.pop(key, None)
        self._nodes(kubelet, t, stamp)

    def _rate(self, key, s: PodSeries) -> None:
        prev, last = s.prev, s.last
        if prev is None or last.t <= prev.t:
            self.usage.pop(key, None)
            return
        window = last.t - prev.t
        containers = {}
        for name, total in last.cpu.items():
            before = prev.cpu.get(name)
            if before is None or total < before:   # new or restarted container
                continue
            containers[name] = ((total - before) / window, last.memory.get(name, 0))
        if not containers:
            self.usage.pop(key, None)
            return
        cores = sum(c for c, _ in containers.values())
        self.usage[key] = Usage(cores * 1000, containers, last.t, window, last.stamp)

    def _nodes(self, kubelet, t: float, stamp: str) -> None:
        per_node: dict[str, list] = {name: [NODE_SYSTEM_MILLICORES / 1000, NODE_SYSTEM_BYTES]
                                     for name in kubelet.nodes}
        for key, u in self.usage.items():
            s = self.pods.get(key)
            if s is not None and s.node in per_node:
                per_node[s.node][0] += u.cpu_millicores / 1000
                per_node[s.node][1] += sum(b for _, b in u.containers.values())
        for name, (cores, nbytes) in per_node.items():
            self.node_usage[name] = (cores, int(nbytes), stamp, RESOLUTION)

    # -- the API's objects ------------------------------------------------------
    def pod_metrics(self, key: tuple[str, str]) -> dict | None:
        u, s = self.usage.get(key), self.pods.get(key)
        if u is None or s is None:
            return None
        return {"kind": "PodMetrics", "apiVersion": f"{GROUP}/{VERSION}",
                "metadata": {"name": key[1], "namespace": key[0],
                             "creationTimestamp": _stamp_ms(self.cluster.clock.now()),
                             "labels": dict(s.labels)},
                "timestamp": u.stamp, "window": _window(u.window),
                "containers": [{"name": name, "usage": {
                    "cpu": quantity.cpu(round(cores * 1e9)),
                    "memory": quantity.memory(nbytes)}}
                    for name, (cores, nbytes) in sorted(u.containers.items())]}

    def node_metrics(self, name: str) -> dict | None:
        got = self.node_usage.get(name)
        if got is None:
            return None
        node = self.cluster.store.get("nodes", "", name)
        if node is None:
            return None
        cores, nbytes, stamp, window = got
        return {"kind": "NodeMetrics", "apiVersion": f"{GROUP}/{VERSION}",
                "metadata": {"name": name,
                             "creationTimestamp": _stamp_ms(self.cluster.clock.now()),
                             "labels": dict(node["metadata"].get("labels") or {})},
                "timestamp": stamp, "window": _window(window),
                "usage": {"cpu": quantity.cpu(round(cores * 1e9)),
                          "memory": quantity.memory(nbytes)}}


class PodMetricsAPI:
    """The Provider behind pods.metrics.k8s.io."""

    def __init__(self, server: MetricsServer):
        self.server = server

    def unavailable(self):
        return self.server.unavailable_reason

    def list(self, namespace):
        keys = sorted(k for k in self.server.usage if namespace is None or k[0] == namespace)
        for key in keys:
            obj = self.server.pod_metrics(key)
            if obj is not None:
                yield obj

    def get(self, namespace, name):
        return self.server.pod_metrics((namespace, name))

    def not_found(self, namespace, name):
        return f'podmetrics.{GROUP} "{namespace}/{name}" not found'


class NodeMetricsAPI:
    """The Provider behind nodes.metrics.k8s.io."""

    def __init__(self, server: MetricsServer):
        self.server = server

    def unavailable(self):
        return self.server.unavailable_reason

    def list(self, namespace):
        for name in sorted(self.server.node_usage):
            obj = self.server.node_metrics(name)
            if obj is not None:
                yield obj

    def get(self, namespace, name):
        return self.server.node_metrics(name)

    def not_found(self, namespace, name):
        return f'nodemetrics.{GROUP} "{name}" not found'

"""default-scheduler: binds each pending pod to a Ready node where it fits.

Filters as the real plugins do (NodeUnschedulable, NodeAffinity via
nodeSelector, TaintToleration, NodeResourcesFit on requests vs allocatable,
pod count), then scores the nodes as the default plugins do (scoring.py: least
allocated, balanced, replicas spread over the nodes). When nothing fits: a FailedScheduling
event with the real message and PodScheduled=False/Unschedulable; the pod is
tried again when a node or a pod that frees room changes, and every 5 minutes.
"""

from console.embedded.controllers import scoring
from console.embedded.controllers.base import Informer, WorkQueue, key_of, terminating
from console.quantity import parse as quantity

COMPONENT = "default-scheduler"
RETRY_ALL = 300.0  # podMaxInUnschedulablePodsDuration
def requests(pod: dict) -> tuple[float, float]:
    """(cpu cores, memory bytes): the sum over containers, or the largest init
    container if bigger — what the scheduler reserves."""
    spec = pod.get("spec") or {}

    def total(containers):
        cpu = mem = 0.0
        for c in containers or []:
            req = (c.get("resources") or {}).get("requests") or {}
            cpu += quantity(req.get("cpu"))
            mem += quantity(req.get("memory"))
        return cpu, mem
    cpu, mem = total(spec.get("containers"))
    for init in spec.get("initContainers") or []:
        icpu, imem = total([init])
        cpu, mem = max(cpu, icpu), max(mem, imem)
    return cpu, mem


def holds_room(pod: dict) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName")) and \
        (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def node_ready(node: dict) -> bool:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t.get("key") == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def _requirement(expr: dict, value: str | None, present: bool) -> bool:
    op, values = expr.get("operator"), expr.get("values") or []
    if op == "In":
        return present and value in values
    if op == "NotIn":
        return not present or value not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and values:
        try:
            a, b = int(value), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def affinity_matches(spec: dict, node: dict) -> bool:
    """requiredDuringSchedulingIgnoredDuringExecution: any term, all its expressions."""
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms")
    if not terms:
        return True
    labels = node["metadata"].get("labels") or {}
    fields = {"metadata.name": node["metadata"]["name"]}
    for term in terms:
        exprs = [(e, labels) for e in term.get("matchExpressions") or []] + \
                [(e, fields) for e in term.get("matchFields") or []]
        if exprs and all(_requirement(e, src.get(e.get("key")), e.get("key") in src) for e, src in exprs):
            return True
    return False


class Scheduler:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "scheduler", self.sync)
        self.used: dict[str, list[float]] = {}     # node -> [cpu, memory, pods]
        self.used_nz: dict[str, list[float]] = {}  # node -> [cpu, memory] as the scorer counts
        self.spread: dict[tuple, dict[str, int]] = {}   # spread_key -> node -> its pods there
        self.unschedulable: dict[tuple[str, str], None] = {}
        self._alloc: dict[str, tuple] = {}   # node name -> (its rv, parsed allocatable)
        for pod in informer.all("pods"):
            self._account(pod, +1)
            self._maybe_queue(pod)
        informer.on("pods", self._on_pod)
        informer.on("nodes", self._on_node)

    def _account(self, pod: dict | None, sign: int) -> None:
        if pod is None or not holds_room(pod):
            return
        node = pod["spec"]["nodeName"]
        cpu, mem = requests(pod)
        u = self.used.setdefault(node, [0.0, 0.0, 0])
        u[0] += sign * cpu
        u[1] += sign * mem
        u[2] += sign
        cpu, mem = scoring.nonzero(pod)
        nz = self.used_nz.setdefault(node, [0.0, 0.0])
        nz[0] += sign * cpu
        nz[1] += sign * mem
        key = scoring.spread_key(pod)
        if key is not None and not terminating(pod):   # the plugin skips terminating pods
            counts = self.spread.setdefault(key, {})
            counts[node] = counts.get(node, 0) + sign
            if counts[node] <= 0:
                del counts[node]
                if not counts:
                    del self.spread[key]

    def _maybe_queue(self, pod: dict) -> None:
        spec = pod.get("spec") or {}
        if spec.get("nodeName") or terminating(pod):
            return
        if (spec.get("schedulerName") or COMPONENT) != COMPONENT:
            return
        self.queue.add(key_of(pod))

    def _on_pod(self, ev) -> None:
        self._account(ev.old if ev.type != "ADDED" else None, -1)
        if ev.type == "DELETED":
            self.unschedulable.pop(key_of(ev.obj), None)
            if ev.old is None:
                self._account(ev.obj, -1)
            if holds_room(ev.obj):
                self._retry_unschedulable()
            return
        self._account(ev.obj, +1)
        self._maybe_queue(ev.obj)
        if ev.old is not None and holds_room(ev.old) and not holds_room(ev.obj):
            self._retry_unschedulable()

    def _on_node(self, ev) -> None:
        old, new = ev.old or {}, ev.obj
        if ev.type == "MODIFIED" and old.get("spec") == new.get("spec") \
                and old["metadata"].get("labels") == new["metadata"].get("labels") \
                and (old.get("status") or {}).get("allocatable") == (new.get("status") or {}).get("allocatable") \
                and node_ready(old) == node_ready(new):
            return  # a heartbeat: nothing a pod could now fit into
        self._retry_unschedulable()

    def _retry_unschedulable(self) -> None:
        for key in list(self.unschedulable):
            self.queue.add(key)
        self.unschedulable.clear()

    # -- one pod -----------------------------------------------------------
    async def sync(self, key) -> None:
        pod = self.inf.get("pods", *key)
        if pod is None or (pod.get("spec") or {}).get("nodeName") or terminating(pod):
            return
        nodes = self.inf.all("nodes")
        fits, reasons, preemptible = [], {}, 0
        need = requests(pod)
        for node in nodes:
            why = self._filter(pod, node, need)
            if not why:
                fits.append(node)
                continue
            for r in why:
                reasons[r] = reasons.get(r, 0) + 1
            if all(r.startswith("Insufficient") or r == "Too many pods" for r in why):
                preemptible += 1   # evicting pods could make room here (none are lower priority)
        if not fits:
            self._unschedulable(pod, len(nodes), reasons, preemptible)
            return
        self._bind(pod, self._score(pod, need, fits))

    def _filter(self, pod: dict, node: dict, need: tuple[float, float]) -> list[str]:
        """Reasons the node does not fit, in the default plugins' order
        (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit);
        need: the pod's requests()."""
        spec, nspec = pod.get("spec") or {}, node.get("spec") or {}
        labels = node["metadata"].get("labels") or {}
        if nspec.get("unschedulable") and not tolerates(spec.get("tolerations"), {
                "key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}):
            return ["node(s) were unschedulable"]
        taints = list(nspec.get("taints") or [])
        if not node_ready(node):
            taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
        for taint in taints:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(spec.get("tolerations"), taint):
                value = taint.get("value") or ""
                return [f"node(s) had untolerated taint {{{taint.get('key')}: {value}}}"]
        if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()) \
                or not affinity_matches(spec, node):
            return ["node(s) didn't match Pod's node affinity/selector"]
        room_cpu, room_mem, room_pods = self._allocatable(node)
        used = self.used.get(node["metadata"]["name"], [0.0, 0.0, 0])
        cpu, mem = need
        why = []
        if room_pods is not None and used[2] + 1 > room_pods:
            why.append("Too many pods")
        if cpu and used[0] + cpu > room_cpu + 1e-9:
            why.append("Insufficient cpu")
        if mem and used[1] + mem > room_mem:
            why.append("Insufficient memory")
        return why

    def _allocatable(self, node: dict) -> "tuple[float, float, float | None]":
        """(cpu, memory, pods or None) of node's status.allocatable, parsed once per
        version of the node (5,000 pods x 20 nodes asked)."""
        meta = node["metadata"]
        hit = self._alloc.get(meta["name"])
        if hit is None or hit[0] != meta.get("resourceVersion"):
            alloc = (node.get("status") or {}).get("allocatable") or {}
            hit = self._alloc[meta["name"]] = (meta.get("resourceVersion"), (
                quantity(alloc.get("cpu")), quantity(alloc.get("memory")),
                quantity(alloc["pods"]) if "pods" in alloc else None))
        return hit[1]

    def _score(self, pod: dict, need: tuple[float, float], fits: list[dict]) -> str:
        """The feasible node the default score plugins rank first (scoring.py)."""
        key = scoring.spread_key(pod)
        counts = self.spread.get(key, {}) if key is not None else {}
        zero, zero3 = [0.0, 0.0], [0.0, 0.0, 0]
        nodes = [(name, self._allocatable(node), self.used.get(name, zero3),
                  self.used_nz.get(name, zero), counts.get(name, 0))
                 for node in fits for name in (node["metadata"]["name"],)]
        nodes.sort(key=lambda n: n[0])          # ties: the first by name
        return scoring.best(nodes, need, scoring.nonzero(pod))

    def _bind(self, pod: dict, node: str) -> None:
        ns, name = key_of(pod)
        got = self.cluster.registry.bind(ns, name, pod["metadata"]["uid"], node)
        if got is None:
            return
        self.unschedulable.pop((ns, name), None)
        self.cluster.event(got, "Scheduled", f"Successfully assigned {ns}/{name} to {node}",
                           component=COMPONENT)

    def _unschedulable(self, pod: dict, total: int, reasons: dict, preemptible: int) -> None:
        parts = sorted(f"{n} {r}" for r, n in reasons.items())
        message = f"0/{total} nodes are available"
        message += (": " + ", ".join(parts) + ".") if parts else "."
        if not total:
            message = "no nodes available to schedule pods"
        else:
            post = [f"{n} {why}" for n, why in ((preemptible, "No preemption victims found for incoming pod"),
                                                (total - preemptible, "Preemption is not helpful for scheduling"))
                    if n]
            message += f" preemption: 0/{total} nodes are available: {', '.join(sorted(post))}.."
        key = key_of(pod)
        self.unschedulable[key] = None
        self.queue.add_after(key, RETRY_ALL)
        self.cluster.event(pod, "FailedScheduling", message, "Warning", component=COMPONENT)

        def fn(obj):
            status = obj.setdefault("status", {})
            conds = status.get("conditions") or []
            cur = next((c for c in conds if c.get("type") == "PodScheduled"), None)
            if cur and cur.get("status") == "False" and cur.get("message") == message:
                return False
            conds = [c for c in conds if c.get("type") != "PodScheduled"]
            conds.append({"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                          "lastTransitionTime": self.cluster.clock.stamp(),
                          "reason": "Unschedulable", "message": message})
            status["conditions"] = conds
            status.setdefault("phase", "Pending")
        self.cluster.registry.mutate("pods", *key, fn, subresource="status")

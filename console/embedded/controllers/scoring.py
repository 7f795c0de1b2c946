"""default-scheduler's node scores (v1.33 default plugins), for the nodes that passed
the filters; the highest total wins, ties go to the first node by name.

  NodeResourcesFit, LeastAllocated   weight 1   free share of cpu and memory once the
                                                pod is in, counting 100m / 200Mi for a
                                                container that requests nothing
                                                (GetNonzeroRequests)
  NodeResourcesBalancedAllocation    weight 1   1 - the spread of the cpu and memory
                                                fractions the pod would leave
  PodTopologySpread                  weight 2   the system default constraint (maxSkew 3
                                                over kubernetes.io/hostname,
                                                ScheduleAnyway): fewer pods of the same
                                                ReplicaSet / StatefulSet on a node score
                                                higher, so replicas spread over the nodes

The zone default constraint needs topology.kubernetes.io/zone on the nodes; the
embedded nodes have none, and the plugin then leaves it out as the real one does.
"""

from __future__ import annotations

import math

from console.quantity import parse as quantity

MAX = 100.0
DEFAULT_CPU, DEFAULT_MEMORY = 0.1, 200 * 1024 * 1024    # schedutil.DefaultMilliCPURequest ...
SPREAD_MAX_SKEW = 3
WEIGHTS = {"fit": 1, "balanced": 1, "spread": 2}
SPREAD_KINDS = ("ReplicaSet", "StatefulSet", "ReplicationController")


def nonzero(pod: dict) -> tuple[float, float]:
    """(cpu, memory) as the scorer counts them: each container's request, or the defaults."""
    cpu = mem = 0.0
    for c in (pod.get("spec") or {}).get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu += quantity(req["cpu"]) if req.get("cpu") else DEFAULT_CPU
        mem += quantity(req["memory"]) if req.get("memory") else DEFAULT_MEMORY
    return cpu, mem


def spread_key(pod: dict) -> tuple[str, str] | None:
    """The pods the default spread constraint counts together: those of the same
    controller (its selector is what DefaultSelector merges in); None for a bare pod."""
    meta = pod.get("metadata") or {}
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") in SPREAD_KINDS:
            return meta.get("namespace", ""), ref.get("uid", "")
    return None


def best(nodes: list[tuple[str, tuple, list, list, int]], need: tuple, need_nz: tuple) -> str:
    """nodes: (name, allocatable (cpu, memory, pods), used [cpu, memory, pods], used as
    the scorer counts it [cpu, memory], pods of the same controller there); the
    winner's name. One pass per node: it runs for every pod on every feasible node."""
    weight = math.log(len(nodes) + 2)
    raws = [n[4] * weight + SPREAD_MAX_SKEW - 1 for n in nodes]    # PodTopologySpread's raw score
    hi, lo = max(raws), min(raws)
    cpu, mem = need
    cpu_nz, mem_nz = need_nz
    w_fit, w_bal, w_spread = WEIGHTS["fit"] / 2 * MAX, WEIGHTS["balanced"] * MAX, WEIGHTS["spread"] * MAX
    top, winner = -1.0, ""
    for (name, (cap_cpu, cap_mem, _), used, used_nz, _), raw in zip(nodes, raws):
        # LeastAllocated: the free share of each resource once the pod is in
        free_cpu, free_mem = cap_cpu - used_nz[0] - cpu_nz, cap_mem - used_nz[1] - mem_nz
        fit = (free_cpu / cap_cpu if cap_cpu and free_cpu >= 0 else 0.0) + \
            (free_mem / cap_mem if cap_mem and free_mem >= 0 else 0.0)
        # BalancedAllocation: 1 - the standard deviation of the two fractions
        f_cpu = min(1.0, (used[0] + cpu) / cap_cpu) if cap_cpu else 1.0
        f_mem = min(1.0, (used[1] + mem) / cap_mem) if cap_mem else 1.0
        bal = 1 - abs(f_cpu - f_mem) / 2
        # PodTopologySpread, normalized over the feasible nodes
        spread = (hi + lo - raw) / hi
        total = w_fit * fit + w_bal * bal + w_spread * spread
        if total > top + 1e-9:
            top, winner = total, name
    return winner

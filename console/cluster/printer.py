"""Rows as kubectl prints them, from raw API JSON.

The console's pod and HPA rows. kubectl's pod STATUS/READY/RESTARTS rules, the
HPA's TARGETS and HumanDuration live in console.kubeprint, shared with the
embedded server's Table printing; this module adds what the console keeps per
row (ticking ages, status classes, the utilization a chart draws). Free of any UI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from console import kubeprint
from console.kubeprint import human_duration, parse_time, pod_status, restarts_text, since

__all__ = ["HpaRow", "PodRow", "human_duration", "hpa_row", "images", "parse_time",
           "pod_row", "ports_annotation", "revision", "since", "status_class"]


@dataclass(frozen=True)
class PodRow:
    uid: str
    name: str
    ready: str
    status: str
    restarts: str
    age: str
    node: str
    created: float | None = None    # for ticking AGE / "(5m ago)" without re-reading the pod
    last_restart: float = 0.0
    restart_count: int = 0

    @property
    def cells(self) -> tuple[str, ...]:
        return (self.name, self.ready, self.status, self.restarts, self.age, self.node)

    def at(self, now: float) -> PodRow:
        """The same row printed at another moment."""
        age = "<unknown>" if self.created is None else human_duration(now - self.created)
        restarts = restarts_text(self.restart_count, self.last_restart, now)
        if age == self.age and restarts == self.restarts:
            return self
        return replace(self, age=age, restarts=restarts)


# Statuses a person must notice; the UI colours them.
BAD = {"CrashLoopBackOff", "Error", "ImagePullBackOff", "ErrImagePull", "OOMKilled",
       "Failed", "Unknown", "CreateContainerConfigError", "InvalidImageName"}
PENDING = {"Pending", "ContainerCreating", "PodInitializing", "NotReady", "Terminating"}


def status_class(status: str, ready: str) -> str:
    """good / warn / bad / done: how alarming a row is."""
    if status in BAD or status.startswith(("Init:Error", "Init:Crash", "Signal:", "ExitCode:")):
        return "bad"
    if status == "Completed" or status == "Succeeded":
        return "done"
    if status in PENDING or status.startswith("Init:"):
        return "warn"
    if status == "Running":
        have, _, want = ready.partition("/")
        return "good" if have == want else "warn"
    return "warn"


def pod_row(pod: dict, now: float) -> PodRow:
    meta, spec = pod.get("metadata", {}), pod.get("spec", {})
    ps = pod_status(pod)
    return PodRow(
        uid=meta.get("uid") or meta.get("name", ""),
        name=meta.get("name", ""),
        ready=f"{ps.ready}/{ps.total}",
        status=ps.reason,
        restarts=restarts_text(ps.restarts, ps.last_restart, now),
        age=since(meta.get("creationTimestamp"), now),
        node=spec.get("nodeName") or "<none>",
        created=parse_time(meta.get("creationTimestamp")),
        last_restart=ps.last_restart,
        restart_count=ps.restarts,
    )


@dataclass(frozen=True)
class HpaRow:
    name: str
    reference: str
    targets: str
    minimum: int
    maximum: int
    replicas: int
    desired: int
    utilization: int | None   # current average utilization of the first resource metric
    target: int | None        # its target
    age: str

    @property
    def at_max(self) -> bool:
        return self.replicas >= self.maximum > 0

    @property
    def cells(self) -> tuple:
        """kubectl get hpa's columns: NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE."""
        return (self.name, self.reference, self.targets, self.minimum, self.maximum,
                self.replicas, self.age)


def hpa_row(hpa: dict, now: float) -> HpaRow:
    """An HPA (autoscaling/v2 or v1) as `kubectl get hpa` prints it (TARGETS
    "cpu: 12%/50%"), with the first CPU utilization and its target for charts."""
    meta, spec, st = hpa.get("metadata", {}), hpa.get("spec", {}), hpa.get("status", {})
    ref = spec.get("scaleTargetRef") or {}
    util, target = kubeprint.hpa_utilization(hpa)
    return HpaRow(
        name=meta.get("name", ""),
        reference=f"{ref.get('kind', '')}/{ref.get('name', '')}",
        targets=kubeprint.hpa_targets(hpa),
        minimum=int(spec.get("minReplicas") or 1),
        maximum=int(spec.get("maxReplicas") or 0),
        replicas=int(st.get("currentReplicas") or 0),
        desired=int(st.get("desiredReplicas") or 0),
        utilization=util,
        target=target,
        age=since(meta.get("creationTimestamp"), now),
    )


def revision(obj: dict) -> int:
    try:
        return int(obj.get("metadata", {}).get("annotations", {}).get(
            "deployment.kubernetes.io/revision", "0"))
    except ValueError:
        return 0


def images(template_or_pod_spec: dict) -> str:
    spec = template_or_pod_spec.get("spec", template_or_pod_spec)
    return ",".join(c.get("image", "") for c in spec.get("containers") or [])


def ports_annotation(service: dict) -> dict:
    raw = service.get("metadata", {}).get("annotations", {}).get("kubelab.dev/host-ports")
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {}

"""Rows as kubectl prints them, from raw API JSON.

A port of kubectl's pod printer (READY, STATUS, RESTARTS with "(5m ago)",
AGE as duration.HumanDuration) and of its HPA TARGETS column, kept free of
any UI so that it is tested on its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def since(ts: str | None, now: float) -> str:
    t = parse_time(ts)
    return "<unknown>" if t is None else human_duration(now - t)


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
        restarts = str(self.restart_count)
        if self.restart_count and self.last_restart:
            restarts = f"{self.restart_count} ({human_duration(now - self.last_restart)} ago)"
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


def _restartable(container: dict | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def pod_row(pod: dict, now: float) -> PodRow:
    meta, spec, st = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    restarts = 0
    sidecar_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart = 0.0
    sidecar_last = 0.0
    phase = st.get("phase") or ""
    reason = st.get("reason") or phase
    for cond in st.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    inits = {c.get("name"): c for c in spec.get("initContainers") or []}
    total += sum(1 for c in inits.values() if _restartable(c))

    initializing = False
    init_statuses = st.get("initContainerStatuses") or []
    for i, c in enumerate(init_statuses):
        restarts += int(c.get("restartCount") or 0)
        finished = parse_time(((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
        if finished and finished > last_restart:
            last_restart = finished
        sidecar = _restartable(inits.get(c.get("name")))
        if sidecar:
            sidecar_restarts += int(c.get("restartCount") or 0)
            if finished and finished > sidecar_last:
                sidecar_last = finished
        state = c.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        if sidecar and c.get("started"):
            if c.get("ready"):
                ready += 1
            continue
        if term:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode', 0)}"
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(inits)}"
        initializing = True
        break

    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True"
                      for c in st.get("conditions") or [])
    if not initializing or initialized:
        restarts, last_restart = sidecar_restarts, sidecar_last
        has_running = False
        for c in reversed(st.get("containerStatuses") or []):
            restarts += int(c.get("restartCount") or 0)
            finished = parse_time(((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
            if finished and finished > last_restart:
                last_restart = finished
            state = c.get("state") or {}
            wait, term = state.get("waiting"), state.get("terminated")
            if wait and wait.get("reason"):
                reason = wait["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = (f"Signal:{term['signal']}" if term.get("signal")
                          else f"ExitCode:{term.get('exitCode', 0)}")
            elif c.get("ready") and "running" in state:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                            for c in st.get("conditions") or [])
            reason = "Running" if pod_ready else "NotReady"

    if meta.get("deletionTimestamp") and st.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    restarts_s = str(restarts)
    if restarts and last_restart:
        restarts_s = f"{restarts} ({human_duration(now - last_restart)} ago)"
    return PodRow(
        uid=meta.get("uid") or meta.get("name", ""),
        name=meta.get("name", ""),
        ready=f"{ready}/{total}",
        status=reason,
        restarts=restarts_s,
        age=since(meta.get("creationTimestamp"), now),
        node=spec.get("nodeName") or "<none>",
        created=parse_time(meta.get("creationTimestamp")),
        last_restart=last_restart,
        restart_count=restarts,
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


def hpa_row(hpa: dict, now: float) -> HpaRow:
    """autoscaling/v2 HPA as `kubectl get hpa` prints it (TARGETS "cpu: 12%/50%")."""
    meta, spec, st = hpa.get("metadata", {}), hpa.get("spec", {}), hpa.get("status", {})
    ref = spec.get("scaleTargetRef") or {}
    current = {}
    for m in st.get("currentMetrics") or []:
        if m.get("type") == "Resource":
            res = m.get("resource") or {}
            current[res.get("name")] = (res.get("current") or {}).get("averageUtilization")
    parts, util, target = [], None, None
    for m in spec.get("metrics") or []:
        if m.get("type") != "Resource":
            parts.append(f"{m.get('type', '?').lower()}: <unsupported>")
            continue
        res = m.get("resource") or {}
        name = res.get("name", "cpu")
        want = (res.get("target") or {}).get("averageUtilization")
        have = current.get(name)
        if want is None:
            value = (res.get("target") or {}).get("averageValue", "<unset>")
            parts.append(f"{name}: <unknown>/{value}")
            continue
        parts.append(f"{name}: {'<unknown>' if have is None else f'{have}%'}/{want}%")
        if util is None and target is None:
            util, target = have, want
    return HpaRow(
        name=meta.get("name", ""),
        reference=f"{ref.get('kind', '')}/{ref.get('name', '')}",
        targets=", ".join(parts) or "<none>",
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

"""kubectl's printing rules that the console and the embedded server share.

Pod READY / STATUS / RESTARTS after printPod, the HPA's TARGETS after
formatHPAMetrics, both in kubernetes/pkg/printers/internalversion/printers.go,
and ages after k8s.io/apimachinery/pkg/util/duration.HumanDuration. Plain data
in, plain data out: no UI, no client, no server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone


def parse_time(value: str | None) -> float | None:
    """An RFC 3339 stamp as Unix seconds; None when missing or unreadable."""
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp()


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
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years, days = hours // 24 // 365, (hours // 24) % 365
    if hours < 24 * 365 * 8:
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{years}y"


def since(stamp: str | None, now: float) -> str:
    """Age of an RFC 3339 stamp at `now` (Unix seconds), as kubectl prints it."""
    t = parse_time(stamp)
    return "<unknown>" if t is None else human_duration(now - t)


def restarts_text(count: int, last_restart: float, now: float) -> str:
    """RESTARTS: "2 (5m ago)" once a container has restarted, else the count."""
    if count and last_restart:
        return f"{count} ({human_duration(now - last_restart)} ago)"
    return str(count)


@dataclass(frozen=True)
class PodStatus:
    ready: int
    total: int
    reason: str          # the STATUS column
    restarts: int
    last_restart: float  # Unix seconds of the latest restart; 0.0 when none


def _restartable(container: dict | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _condition(status: dict, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True"
               for c in status.get("conditions") or [])


def _finished(c: dict) -> float:
    return parse_time(((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt")) or 0.0


def _init_reason(i: int, c: dict, count: int) -> str:
    state = c.get("state") or {}
    term, wait = state.get("terminated"), state.get("waiting")
    if term:
        if term.get("reason"):
            return "Init:" + term["reason"]
        if term.get("signal"):
            return f"Init:Signal:{term['signal']}"
        return f"Init:ExitCode:{term.get('exitCode', 0)}"
    if wait and wait.get("reason") and wait["reason"] != "PodInitializing":
        return "Init:" + wait["reason"]
    return f"Init:{i}/{count}"


def pod_status(pod: dict) -> PodStatus:
    meta, spec, st = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    phase = st.get("phase") or ""
    reason = st.get("reason") or phase
    for cond in st.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    inits = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(1 for c in inits.values() if _restartable(c))
    ready = restarts = sidecar_restarts = 0
    last_restart = sidecar_last = 0.0

    initializing = False
    for i, c in enumerate(st.get("initContainerStatuses") or []):
        restarts += int(c.get("restartCount") or 0)
        finished = _finished(c)
        last_restart = max(last_restart, finished)
        sidecar = _restartable(inits.get(c.get("name")))
        if sidecar:
            sidecar_restarts += int(c.get("restartCount") or 0)
            sidecar_last = max(sidecar_last, finished)
        term = (c.get("state") or {}).get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        if sidecar and c.get("started"):
            ready += 1 if c.get("ready") else 0
            continue
        reason = _init_reason(i, c, len(inits))
        initializing = True
        break

    if not initializing or _condition(st, "Initialized"):
        restarts, last_restart = sidecar_restarts, sidecar_last
        has_running = False
        for c in reversed(st.get("containerStatuses") or []):
            restarts += int(c.get("restartCount") or 0)
            last_restart = max(last_restart, _finished(c))
            state = c.get("state") or {}
            wait, term = state.get("waiting"), state.get("terminated")
            if wait and wait.get("reason"):
                reason = wait["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = (f"Signal:{term['signal']}" if term.get("signal")
                          else f"ExitCode:{term.get('exitCode', 0)}")
            elif c.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition(st, "Ready") else "NotReady"

    if meta.get("deletionTimestamp") and st.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return PodStatus(ready, total, reason, restarts, last_restart)


# -- HorizontalPodAutoscaler ----------------------------------------------------
def _value(q) -> str:
    return "<unknown>" if q is None else str(q)


def _hpa_metric(spec: dict, status: dict | None) -> str:
    """One TARGETS entry; status is the currentMetrics entry at the same index."""
    typ = spec.get("type")
    src_key = {"Resource": "resource", "ContainerResource": "containerResource",
               "Pods": "pods", "Object": "object", "External": "external"}.get(typ)
    if src_key is None:
        return "<unknown type>"
    src = spec.get(src_key) or {}
    target = src.get("target") or {}
    cur = (((status or {}).get(src_key) or {}).get("current")
           if (status or {}).get(src_key) is not None else None)
    if typ in ("External", "Object"):
        if target.get("averageValue") is not None:
            have = None if cur is None else cur.get("averageValue")
            return f"{_value(have)}/{target['averageValue']} (avg)"
        return f"{_value(None if cur is None else cur.get('value'))}/{target.get('value')}"
    if typ == "Pods":
        return f"{_value(None if cur is None else cur.get('averageValue'))}/" \
               f"{target.get('averageValue')}"
    name = src.get("name", "")
    if target.get("averageValue") is not None:
        have = None if cur is None else cur.get("averageValue")
        return f"{name}: {_value(have)}/{target['averageValue']}"
    have = None if cur is None else cur.get("averageUtilization")
    want = target.get("averageUtilization")
    return (f"{name}: {'<unknown>' if have is None else f'{have}%'}/"
            f"{'<auto>' if want is None else f'{want}%'}")


def hpa_metrics(hpa: dict) -> tuple[list[dict], list[dict]]:
    """(spec.metrics, status.currentMetrics) in autoscaling/v2 form, from an
    autoscaling/v1 object too (its CPU target is one Resource metric)."""
    spec, st = hpa.get("spec") or {}, hpa.get("status") or {}
    if "targetCPUUtilizationPercentage" in spec or (hpa.get("apiVersion") == "autoscaling/v1"):
        pct = spec.get("targetCPUUtilizationPercentage")
        specs = [] if pct is None else [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": pct}}}]
        cur = st.get("currentCPUUtilizationPercentage")
        statuses = [] if cur is None else [{"type": "Resource", "resource": {
            "name": "cpu", "current": {"averageUtilization": cur}}}]
        return specs, statuses
    return list(spec.get("metrics") or []), list(st.get("currentMetrics") or [])


def hpa_targets(hpa: dict) -> str:
    """kubectl get hpa's TARGETS: every metric against its current value (the status
    entry at the same index), "<unknown>" before there is one; two at most, then
    " + N more..."."""
    specs, statuses = hpa_metrics(hpa)
    if not specs:
        return "<none>"
    cells = [_hpa_metric(m, statuses[i] if i < len(statuses) else None)
             for i, m in enumerate(specs)]
    if len(cells) > 2:
        return ", ".join(cells[:2]) + f" + {len(cells) - 2} more..."
    return ", ".join(cells)


def hpa_utilization(hpa: dict) -> tuple[int | None, int | None]:
    """(current %, target %) of the first Resource metric with a utilization
    target: what a chart of the HPA draws."""
    specs, statuses = hpa_metrics(hpa)
    for i, m in enumerate(specs):
        want = ((m.get("resource") or {}).get("target") or {}).get("averageUtilization")
        if m.get("type") == "Resource" and want is not None:
            cur = ((statuses[i] if i < len(statuses) else {}).get("resource") or {})
            return (cur.get("current") or {}).get("averageUtilization"), want
    return None, None

"""Versions on the wire vs the storage version.

Most kinds differ only in apiVersion. HorizontalPodAutoscaler is stored once as
autoscaling/v2 and served as v1 too, converted like the real server does
(v1 keeps targetCPUUtilizationPercentage; other metrics go to an annotation).
"""

import copy
import json

from console.embedded.kinds import Kind

_V1_METRICS = "autoscaling.alpha.kubernetes.io/metrics"
_V1_CURRENT = "autoscaling.alpha.kubernetes.io/current-metrics"
_V1_CONDITIONS = "autoscaling.alpha.kubernetes.io/conditions"
_V2_BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
_MISSING = object()


def _take_json(ann: dict, key: str):
    """Pops an annotation that carries a v2-only field as JSON; _MISSING when it
    is absent or not JSON (a hand-edited annotation must not break reads)."""
    if key not in ann:
        return _MISSING
    try:
        return json.loads(ann.pop(key))
    except ValueError:
        return _MISSING


def to_wire(kind: Kind, obj: dict, version: str) -> dict:
    """A stored object as seen in `version` (the caller's copy)."""
    if kind.key == "horizontalpodautoscalers.autoscaling" and version == "v1":
        return hpa_v2_to_v1(obj)
    if obj.get("apiVersion") != kind.api_version(version):
        obj = dict(obj)
        obj["apiVersion"] = kind.api_version(version)
    return obj


def to_storage(kind: Kind, obj: dict, version: str) -> dict:
    if kind.key == "horizontalpodautoscalers.autoscaling" and version == "v1":
        return hpa_v1_to_v2(obj)
    obj["apiVersion"] = kind.api_version(kind.storage_version)
    return obj


def hpa_v2_to_v1(obj: dict) -> dict:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v1"
    spec = out.get("spec") or {}
    ann = dict(out["metadata"].get("annotations") or {})
    metrics = spec.pop("metrics", None) or []
    other = []
    for m in metrics:
        t = (m.get("resource") or {}).get("target") or {}
        if (m.get("type") == "Resource" and m["resource"].get("name") == "cpu"
                and t.get("type") == "Utilization"):
            spec["targetCPUUtilizationPercentage"] = t.get("averageUtilization")
        else:
            other.append(m)
    if other:
        ann[_V1_METRICS] = json.dumps(other, separators=(",", ":"))
    behavior = spec.pop("behavior", None)
    if behavior:
        ann[_V2_BEHAVIOR] = json.dumps(behavior, separators=(",", ":"))
    status = out.get("status")
    if status is not None:
        current = status.pop("currentMetrics", None) or []
        rest = []
        for m in current:
            c = (m.get("resource") or {}).get("current") or {}
            if m.get("type") == "Resource" and m["resource"].get("name") == "cpu" \
                    and "averageUtilization" in c:
                status["currentCPUUtilizationPercentage"] = c["averageUtilization"]
            else:
                rest.append(m)
        if rest:
            ann[_V1_CURRENT] = json.dumps(rest, separators=(",", ":"))
        conditions = status.pop("conditions", None)
        if conditions:
            ann[_V1_CONDITIONS] = json.dumps(conditions, separators=(",", ":"))
    if ann:
        out["metadata"]["annotations"] = ann
    return out


def hpa_v1_to_v2(obj: dict) -> dict:
    out = copy.deepcopy(obj)
    out["apiVersion"] = "autoscaling/v2"
    meta = out.setdefault("metadata", {})
    ann = dict(meta.get("annotations") or {})
    spec = out.get("spec") or {}
    metrics = []
    pct = spec.pop("targetCPUUtilizationPercentage", None)
    if pct is not None:
        metrics.append({"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": pct}}})
    extra = _take_json(ann, _V1_METRICS)
    if extra is not _MISSING:
        metrics.extend(extra)
    if metrics:
        spec["metrics"] = metrics
    behavior = _take_json(ann, _V2_BEHAVIOR)
    if behavior is not _MISSING:
        spec["behavior"] = behavior
    status = out.get("status")
    if status is not None:
        cur = status.pop("currentCPUUtilizationPercentage", None)
        current = []
        if cur is not None:
            current.append({"type": "Resource", "resource": {
                "name": "cpu", "current": {"averageUtilization": cur}}})
        extra = _take_json(ann, _V1_CURRENT)
        if extra is not _MISSING:
            current.extend(extra)
        if current:
            status["currentMetrics"] = current
        conditions = _take_json(ann, _V1_CONDITIONS)
        if conditions is not _MISSING:
            status["conditions"] = conditions
    for k in (_V1_CURRENT, _V1_CONDITIONS):
        ann.pop(k, None)
    if ann:
        meta["annotations"] = ann
    else:
        meta.pop("annotations", None)
    return out

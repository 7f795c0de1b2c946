"""Deployment arithmetic, after k8s.io/kubernetes/pkg/controller/deployment/util:
template hash, revision annotations, surge/unavailable fenceposts, conditions."""

import json
import math
import struct

from console.embedded.store import clone

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
# Deployment annotations that are not copied onto its ReplicaSets.
SKIP_COPY = {REVISION, REVISION_HISTORY, DESIRED, MAX,
             "kubectl.kubernetes.io/last-applied-configuration",
             "deprecated.deployment.rollback.to"}
HISTORY_CHARS = 2000
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def fnv32a(data: bytes, h: int = 0x811C9DC5) -> int:
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in s)


def template_hash(template: dict, collision_count: int | None) -> str:
    """fnv32a over the template (canonical JSON here; k8s hashes the Go struct
    dump, so values differ from a real cluster's but keep their shape and
    stability), then the collision count, rendered like rand.SafeEncodeString."""
    h = fnv32a(json.dumps(template, sort_keys=True, separators=(",", ":")).encode())
    if collision_count is not None:
        # k8s writes the count into an 8-byte buffer (PutUint32 fills the first 4).
        h = fnv32a(struct.pack("<I", collision_count & 0xFFFFFFFF) + b"\0\0\0\0", h)
    return safe_encode(str(h))


def equal_ignore_hash(a: dict | None, b: dict | None) -> bool:
    a, b = clone(a or {}), clone(b or {})
    for t in (a, b):
        labels = (t.get("metadata") or {}).get("labels")
        if labels:
            labels.pop(HASH_LABEL, None)
    return a == b


def annotations(obj: dict) -> dict:
    return obj["metadata"].get("annotations") or {}


def revision(rs: dict) -> int:
    try:
        return int(annotations(rs).get(REVISION, "0"))
    except ValueError:
        return 0


def int_annotation(rs: dict, key: str) -> int | None:
    try:
        return int(annotations(rs)[key])
    except (KeyError, ValueError):
        return None


def scaled_value(value, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    s = str(value)
    if s.endswith("%"):
        pct = int(s[:-1])
        return math.ceil(pct * total / 100) if round_up else math.floor(pct * total / 100)
    return int(s)


def replicas(d: dict) -> int:
    r = d["spec"].get("replicas")
    return 1 if r is None else r


def is_rolling(d: dict) -> bool:
    return ((d["spec"].get("strategy") or {}).get("type") or "RollingUpdate") == "RollingUpdate"


def fenceposts(d: dict) -> tuple[int, int]:
    ru = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    n = replicas(d)
    surge = scaled_value(ru.get("maxSurge", "25%"), n, True)
    unavailable = scaled_value(ru.get("maxUnavailable", "25%"), n, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # otherwise a rollout could never start
    return surge, unavailable


def max_surge(d: dict) -> int:
    return fenceposts(d)[0] if is_rolling(d) else 0


def max_unavailable(d: dict) -> int:
    if not is_rolling(d) or replicas(d) == 0:
        return 0
    return min(fenceposts(d)[1], replicas(d))


def spec_replicas(rss: list[dict]) -> int:
    return sum(rs["spec"].get("replicas", 0) or 0 for rs in rss if rs)


def status_sum(rss: list[dict], field: str) -> int:
    return sum((rs.get("status") or {}).get(field, 0) or 0 for rs in rss if rs)


def settled(rs: dict) -> bool:
    """The ReplicaSet controller has reported on the current spec."""
    return (rs.get("status") or {}).get("observedGeneration", 0) >= rs["metadata"].get("generation", 1)


def active(rss: list[dict]) -> list[dict]:
    return [rs for rs in rss if rs and (rs["spec"].get("replicas") or 0) > 0]


def by_creation(rss: list[dict]) -> list[dict]:
    return sorted(rss, key=lambda r: (r["metadata"].get("creationTimestamp") or "",
                                      r["metadata"]["name"]))


def go_round(x: float) -> int:
    """math.Round: halves away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


# -- conditions -----------------------------------------------------------------
def condition(status: dict, type_: str) -> dict | None:
    for c in status.get("conditions") or []:
        if c.get("type") == type_:
            return c
    return None


def set_condition(status: dict, type_: str, value: str, reason: str, message: str,
                  now: str) -> None:
    """SetDeploymentCondition: same status and reason -> keep as is; same status ->
    keep lastTransitionTime; new lastUpdateTime either way."""
    cur = condition(status, type_)
    if cur and cur.get("status") == value and cur.get("reason") == reason:
        return
    new = {"type": type_, "status": value, "lastUpdateTime": now,
           "lastTransitionTime": now, "reason": reason, "message": message}
    if cur and cur.get("status") == value:
        new["lastTransitionTime"] = cur.get("lastTransitionTime", now)
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    status["conditions"].append(new)


def remove_condition(status: dict, type_: str) -> None:
    if status.get("conditions"):
        status["conditions"] = [c for c in status["conditions"] if c.get("type") != type_]


def complete(d: dict, status: dict) -> bool:
    n = replicas(d)
    return (status.get("updatedReplicas", 0) == n and status.get("replicas", 0) == n
            and status.get("availableReplicas", 0) == n
            and status.get("observedGeneration", 0) >= d["metadata"].get("generation", 1))


def progressing(d: dict, new: dict) -> bool:
    old = d.get("status") or {}
    old_old = old.get("replicas", 0) - old.get("updatedReplicas", 0)
    new_old = new.get("replicas", 0) - new.get("updatedReplicas", 0)
    return (new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
            or new_old < old_old
            or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or new.get("availableReplicas", 0) > old.get("availableReplicas", 0))


def has_deadline(d: dict) -> bool:
    pds = d["spec"].get("progressDeadlineSeconds")
    return pds is not None and pds != 2 ** 31 - 1


def set_new_rs_annotations(d: dict, rs: dict, new_revision: int, exists: bool) -> bool:
    """Copies the Deployment's annotations and moves the revision forward
    (the old number goes to revision-history). True when something changed."""
    ann = rs["metadata"].setdefault("annotations", {})
    changed = False
    for k, v in annotations(d).items():
        if k in SKIP_COPY or ann.get(k) == v:
            continue
        ann[k] = v
        changed = True
    old = ann.get(REVISION)
    try:
        old_n = int(old) if old else 0
    except ValueError:
        old_n = 0
    if old_n < new_revision:
        ann[REVISION] = str(new_revision)
        changed = True
        if old and exists:
            history = [h for h in ann.get(REVISION_HISTORY, "").split(",") if h] + [old]
            while len(",".join(history)) > HISTORY_CHARS and len(history) > 1:
                history.pop(0)
            ann[REVISION_HISTORY] = ",".join(history)
    if not exists:
        ann[DESIRED] = str(replicas(d))
        ann[MAX] = str(replicas(d) + max_surge(d))
        changed = True
    return changed


def set_replicas_annotations(rs: dict, desired: int, maximum: int) -> bool:
    ann = rs["metadata"].setdefault("annotations", {})
    if ann.get(DESIRED) == str(desired) and ann.get(MAX) == str(maximum):
        return False
    ann[DESIRED] = str(desired)
    ann[MAX] = str(maximum)
    return True

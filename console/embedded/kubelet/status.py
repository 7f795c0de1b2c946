"""Pod status as the kubelet reports it: phase, conditions with transition
times, IPs and containerStatuses, from the worker's containers."""

QOS_GUARANTEED, QOS_BURSTABLE, QOS_BEST_EFFORT = "Guaranteed", "Burstable", "BestEffort"


def qos_class(spec: dict) -> str:
    conts = spec.get("containers", []) + spec.get("initContainers", [])
    reqs = [c.get("resources") or {} for c in conts]
    if not any(r.get("requests") or r.get("limits") for r in reqs):
        return QOS_BEST_EFFORT
    for r in reqs:
        lim, req = r.get("limits") or {}, r.get("requests") or {}
        if not ("cpu" in lim and "memory" in lim):
            return QOS_BURSTABLE
        if any(req.get(k, lim[k]) != lim[k] for k in ("cpu", "memory")):
            return QOS_BURSTABLE
    return QOS_GUARANTEED


def phase(restart_policy: str, containers) -> str:
    """containers: objects with .state ("waiting"|"running"|"terminated"),
    .exit_code and .ever_started, as kubelet's getPhase reads them."""
    running = waiting = succeeded = failed = 0
    for c in containers:
        if c.state == "running":
            running += 1
        elif c.state == "terminated":
            if c.exit_code == 0:
                succeeded += 1
            else:
                failed += 1
        elif c.ever_started:
            waiting += 1 if restart_policy != "Never" else 0
            failed += 1 if restart_policy == "Never" else 0
        else:
            waiting += 1
    n = len(containers)
    if waiting:
        return "Pending" if not running and not any(c.ever_started for c in containers) \
            else "Running"
    if running:
        return "Running"
    if succeeded == n:
        return "Running" if restart_policy == "Always" else "Succeeded"
    if restart_policy == "Always" or (restart_policy == "OnFailure" and failed):
        return "Running"
    return "Failed"


def set_condition(conditions: list[dict], type_: str, status: bool, stamp: str,
                  reason: str | None = None, message: str | None = None) -> None:
    """Insert or update; lastTransitionTime moves only when the status flips."""
    value = "True" if status else "False"
    for c in conditions:
        if c["type"] == type_:
            if c["status"] != value:
                c["status"] = value
                c["lastTransitionTime"] = stamp
            c.pop("reason", None)
            c.pop("message", None)
            break
    else:
        c = {"type": type_, "status": value, "lastProbeTime": None, "lastTransitionTime": stamp}
        conditions.append(c)
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message


ORDER = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]


def sort_conditions(conditions: list[dict]) -> list[dict]:
    return sorted(conditions, key=lambda c: ORDER.index(c["type"]) if c["type"] in ORDER else 99)

"""A pod's row as `kubectl get pods -o wide` shows it. READY, STATUS and RESTARTS
come from console.kubeprint (printPod's rules, shared with the console)."""

from datetime import datetime

from console.kubeprint import pod_status, restarts_text, since


def pod_row(pod: dict, now: datetime) -> list:
    return row_from(pod_parts(pod), now.timestamp())


def pod_parts(pod: dict) -> tuple:
    """What of the row does not depend on the time (kept per pod version)."""
    spec, st = pod.get("spec") or {}, pod.get("status") or {}
    meta = pod["metadata"]
    ps = pod_status(pod)
    ips = [p.get("ip") for p in st.get("podIPs") or [] if p.get("ip")] or (
        [st["podIP"]] if st.get("podIP") else [])
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        ok = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_cell = f"{ok}/{len(gates)}"
    return (meta["name"], f"{ps.ready}/{ps.total}", ps.reason, ps.restarts, ps.last_restart,
            meta.get("creationTimestamp"), ",".join(ips) or "<none>",
            spec.get("nodeName") or "<none>", st.get("nominatedNodeName") or "<none>", gates_cell)


def row_from(parts: tuple, t: float) -> list:
    name, ready, reason, restarts, last, created, ips, node, nominated, gates = parts
    return [name, ready, reason, restarts_text(restarts, last, t), since(created, t), ips, node,
            nominated, gates]

"""A pod's row as `kubectl get pods -o wide` shows it. READY, STATUS and RESTARTS
come from console.kubeprint (printPod's rules, shared with the console)."""

from datetime import datetime

from console.kubeprint import pod_status, restarts_text, since


def pod_row(pod: dict, now: datetime) -> list:
    spec, st = pod.get("spec") or {}, pod.get("status") or {}
    meta = pod["metadata"]
    t = now.timestamp()
    ps = pod_status(pod)
    ips = [p.get("ip") for p in st.get("podIPs") or [] if p.get("ip")] or (
        [st["podIP"]] if st.get("podIP") else [])
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        ok = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_cell = f"{ok}/{len(gates)}"
    return [meta["name"], f"{ps.ready}/{ps.total}", ps.reason,
            restarts_text(ps.restarts, ps.last_restart, t),
            since(meta.get("creationTimestamp"), t), ",".join(ips) or "<none>",
            spec.get("nodeName") or "<none>", st.get("nominatedNodeName") or "<none>", gates_cell]

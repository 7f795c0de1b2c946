"""A pod's row as `kubectl get pods` shows it: READY, STATUS, RESTARTS — after
printPod in kubernetes/pkg/printers/internalversion/printers.go."""

from console.embedded.api.tables import parse_time, since


def _has_ready_condition(status: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in status.get("conditions") or [])


def pod_row(pod: dict, now) -> list:
    spec, st = pod.get("spec") or {}, pod.get("status") or {}
    meta = pod["metadata"]
    total = len(spec.get("containers") or [])
    ready = 0
    restarts = 0
    last_restart = None
    reason = st.get("reason") or st.get("phase") or ""
    for cond in st.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    inits = spec.get("initContainers") or []
    for i, c in enumerate(st.get("initContainerStatuses") or []):
        restarts += c.get("restartCount", 0)
        state = c.get("state") or {}
        term = state.get("terminated")
        if term and term.get("exitCode") == 0:
            continue
        if term:
            reason = f"Init:{term.get('reason') or 'ExitCode:%d' % term.get('exitCode', 0)}"
        elif (state.get("waiting") or {}).get("reason") not in (None, "", "PodInitializing"):
            reason = f"Init:{state['waiting']['reason']}"
        else:
            reason = f"Init:{i}/{len(inits)}"
        initializing = True
        break

    if not initializing:
        restarts = 0
        has_running = False
        for c in reversed(st.get("containerStatuses") or []):
            restarts += c.get("restartCount", 0)
            lt = ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
            t = parse_time(lt)
            if t and (last_restart is None or t > last_restart[0]):
                last_restart = (t, lt)
            state = c.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = (f"Signal:{term['signal']}" if term.get("signal")
                          else f"ExitCode:{term.get('exitCode', 0)}")
            elif c.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _has_ready_condition(st) else "NotReady"

    if meta.get("deletionTimestamp") and st.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp"):
        reason = "Terminating"

    restarts_cell = str(restarts)
    if last_restart is not None:
        restarts_cell = f"{restarts} ({since(last_restart[1], now)} ago)"

    ips = [p.get("ip") for p in st.get("podIPs") or [] if p.get("ip")] or (
        [st["podIP"]] if st.get("podIP") else [])
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        ok = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_cell = f"{ok}/{len(gates)}"
    return [meta["name"], f"{ready}/{total}", reason, restarts_cell,
            since(meta.get("creationTimestamp"), now), ",".join(ips) or "<none>",
            spec.get("nodeName") or "<none>", st.get("nominatedNodeName") or "<none>", gates_cell]

"""What a failed step gathers before cleanup (chainsaw's catch): the namespace's
events, pod logs (and the previous run's, after a restart), and a describe of pods.

The describe is kubectl describe's core, not all of it: phase, conditions, each
container's image, state, last state, restarts and probes, then the pod's events.
"""

from __future__ import annotations

from console.cluster import rest
from console.cluster.errors import message_of
from console.kubeprint import parse_time, pod_status


def _items(conn, kind: str, name: str | None = None, selector: str | None = None) -> list[dict]:
    kind = rest.kind_of(kind)
    if name:
        return [rest.get(conn.api, kind, conn.namespace, name)]
    query = [("labelSelector", selector)] if selector else []
    return rest.call(conn.api, "GET", rest.path_for(kind, conn.namespace), query=query).get("items") or []


def _when(ev: dict) -> float:
    return (parse_time(ev.get("lastTimestamp")) or parse_time(ev.get("eventTime"))
            or parse_time((ev.get("metadata") or {}).get("creationTimestamp")) or 0.0)


def event_lines(events: list[dict]) -> list[str]:
    """As `kubectl get events` lists them: TYPE REASON OBJECT MESSAGE, oldest first."""
    out = []
    for ev in sorted(events, key=_when):
        inv = ev.get("involvedObject") or ev.get("regarding") or {}
        count = int(ev.get("count") or 1)
        out.append(f"{ev.get('type', ''):<8} {ev.get('reason', ''):<22} "
                   f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}  "
                   f"{(ev.get('message') or ev.get('note') or '').strip()}"
                   + (f" (x{count})" if count > 1 else ""))
    return out


def events(conn, limit: int = 50) -> str:
    lines = event_lines(_items(conn, "Event"))
    return "\n".join(lines[-limit:]) or "No events."


def pod_logs(conn, pod: str | None = None, selector: str | None = None, tail: int = 50) -> str:
    out = []
    for p in _items(conn, "Pod", pod, selector):
        name = p["metadata"]["name"]
        for c in (p.get("spec") or {}).get("containers") or []:
            statuses = (p.get("status") or {}).get("containerStatuses") or []
            cs = next((s for s in statuses if s.get("name") == c["name"]), {})
            runs = [False] + ([True] if int(cs.get("restartCount") or 0) > 0 else [])
            for previous in runs:
                query = [("container", c["name"]), ("tailLines", str(tail))]
                if previous:
                    query.append(("previous", "true"))
                try:
                    text = _log(conn, name, query)
                except Exception as exc:
                    text = f"({message_of(exc)})"
                label = f"{name}/{c['name']}" + (" (previous)" if previous else "")
                out.append(f"==> {label} <==\n{text.rstrip() or '(no output)'}")
    return "\n".join(out) or "No pods."


def _log(conn, pod: str, query: list) -> str:
    path = rest.path_for("Pod", conn.namespace, pod) + "/log"
    req = conn.api.param_serialize("GET", path, query_params=query,
                                   header_params={"Accept": "text/plain"}, auth_settings=["BearerToken"])
    resp = conn.api.call_api(*req, _request_timeout=20)
    resp.read()
    if not 200 <= resp.status <= 299:
        raise rest.ApiException.from_response(http_resp=resp, body=None, data=None)
    return resp.data.decode("utf-8", "replace") if isinstance(resp.data, bytes) else str(resp.data)


def _probe(p: dict | None) -> str:
    if not p:
        return ""
    if "httpGet" in p:
        g = p["httpGet"]
        what = f"http-get http://:{g.get('port')}{g.get('path', '/')}"
    elif "exec" in p:
        what = f"exec [{' '.join((p['exec'] or {}).get('command') or [])}]"
    elif "tcpSocket" in p:
        what = f"tcp-socket :{p['tcpSocket'].get('port')}"
    else:
        what = "?"
    return (f"{what} delay={p.get('initialDelaySeconds', 0)}s timeout={p.get('timeoutSeconds', 1)}s "
            f"period={p.get('periodSeconds', 10)}s #success={p.get('successThreshold', 1)} "
            f"#failure={p.get('failureThreshold', 3)}")


def _state(state: dict | None) -> str:
    if not state:
        return "-"
    kind, detail = next(iter(state.items()))
    detail = detail or {}
    extra = ", ".join(f"{k}={detail[k]}" for k in ("reason", "exitCode", "message") if detail.get(k) not in (None, ""))
    return kind.capitalize() + (f" ({extra})" if extra else "")


def describe(conn, kind: str = "Pod", name: str | None = None, selector: str | None = None) -> str:
    objs = _items(conn, kind, name, selector)
    evs = _items(conn, "Event")
    out = []
    for obj in objs:
        meta, st = obj["metadata"], obj.get("status") or {}
        lines = [f"Name:         {meta['name']}", f"Namespace:    {meta.get('namespace', '')}"]
        if rest.kind_of(kind) == "Pod":
            ps = pod_status(obj)
            lines += [f"Node:         {(obj.get('spec') or {}).get('nodeName') or '<none>'}",
                      f"Status:       {ps.reason}  ({ps.ready}/{ps.total} ready, {ps.restarts} restarts)"]
            statuses = {c.get("name"): c for c in st.get("containerStatuses") or []}
            lines.append("Containers:")
            for c in (obj.get("spec") or {}).get("containers") or []:
                cs = statuses.get(c["name"], {})
                lines += [f"  {c['name']}:", f"    Image:          {c.get('image')}",
                          f"    State:          {_state(cs.get('state'))}",
                          f"    Last State:     {_state(cs.get('lastState'))}",
                          f"    Ready:          {bool(cs.get('ready'))}",
                          f"    Restart Count:  {cs.get('restartCount', 0)}"]
                for probe in ("liveness", "readiness", "startup"):
                    if c.get(f"{probe}Probe"):
                        lines.append(f"    {probe.capitalize() + ':':<16}{_probe(c[f'{probe}Probe'])}")
        elif st:
            lines.append("Status:       " + ", ".join(f"{k}={v}" for k, v in st.items()
                                                      if isinstance(v, (int, str, bool)))[:300])
        conds = st.get("conditions") or []
        if conds:
            lines.append("Conditions:   " + ", ".join(f"{c.get('type')}={c.get('status')}" for c in conds))
        mine = [e for e in evs if ((e.get("involvedObject") or {}).get("name") == meta["name"])]
        lines.append("Events:")
        lines += [f"  {line}" for line in event_lines(mine)[-15:]] or ["  <none>"]
        out.append("\n".join(lines))
    return "\n\n".join(out) or f"No {kind} found."


def gather(conn, what: str, params: dict) -> str:
    """One collector by its scenario name, never raising: a failure is its text."""
    try:
        if what == "events":
            return events(conn, params.get("limit", 50))
        if what == "podLogs":
            return pod_logs(conn, params.get("pod"), params.get("selector"), params.get("tail", 50))
        if what == "describe":
            return describe(conn, params.get("kind", "Pod"), params.get("name"), params.get("selector"))
    except Exception as exc:
        return f"({what} could not be collected: {message_of(exc)})"
    return f"(no collector {what!r})"


DEFAULT = (("events", {}), ("podLogs", {"tail": 30}), ("describe", {"kind": "Pod"}))

"""Conditions a step waits for or expects, each a pydantic model (its fields are
the format) with `observe(probe)`: read the cluster through the API and say whether
it holds and what was seen.

`probe` has `conn` (a Connection in the scenario's namespace), `load` (the
session's LoadRuns) and `since` (wall time the step began: `event` looks at newer
events only when asked). API errors are raised: a wait treats them as "not yet".
Matches follow kuttl where they can: a partial object matches when every field it
lists is equal, unlisted fields are ignored, lists match element by element.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from console.scenario.values import Duration, Number, Range, Strict, Text, Words


@dataclass
class Seen:
    ok: bool
    observed: str


class Condition(Strict):
    """Fields every condition takes besides its own."""
    timeout: Duration | None = Field(None, description="a wait's limit (default: defaults.timeout)")
    message: Words | None = Field(None, description="what the learner reads when it does not hold")
    namespace: str | None = Field(None, description="another namespace than the scenario's")


def _api(probe, kind: str, name: str | None = None, selector: str | None = None):
    from console.cluster import rest
    kind = rest.kind_of(kind)
    if name:
        try:
            return [rest.get(probe.conn.api, kind, probe.conn.namespace, name)]
        except rest.ApiException as exc:
            if exc.status == 404:
                return []
            raise
    query = [("labelSelector", selector)] if selector else []
    body = rest.call(probe.conn.api, "GET", rest.path_for(kind, probe.conn.namespace), query=query)
    return body.get("items") or []


def _which(name, selector) -> str:
    return name if name else (f"-l {selector}" if selector else "(all)")


class PodsReady(Strict):
    """Pods READY (and Running), as `kubectl get pods` shows them."""
    name: str | None = Field(None, description="one pod")
    selector: str | None = Field(None, description="a label selector: app=order")
    count: Number | None = Field(None, description="how many must be ready (default: all, at least one)")
    status: Text | None = Field(None, description="and each one's STATUS column, e.g. Running")

    def describe(self) -> str:
        what = f"pods {_which(self.name, self.selector)}"
        return f"{what} ready" + (f" ({self.count})" if self.count else "") + \
            (f", status {self.status}" if self.status else "")

    def observe(self, probe) -> Seen:
        from console.kubeprint import pod_status
        pods = [p for p in _api(probe, "Pod", self.name, self.selector)
                if not p["metadata"].get("deletionTimestamp")]
        rows = [(p["metadata"]["name"], pod_status(p)) for p in pods]
        ready = [n for n, ps in rows if ps.total and ps.ready == ps.total and ps.reason == "Running"]
        ok = self.count.test(len(ready)) if self.count else bool(rows) and len(ready) == len(rows)
        if self.status:
            ok = ok and all(self.status.test(ps.reason) for _, ps in rows)
        seen = ", ".join(f"{n} {ps.ready}/{ps.total} {ps.reason}" for n, ps in rows[:6]) or "no pods"
        return Seen(ok, f"{len(ready)}/{len(rows)} ready: {seen}")


class RolloutComplete(Strict):
    """`kubectl rollout status deployment/NAME` would say: successfully rolled out."""
    deployment: str

    def describe(self) -> str:
        return f"rollout of deployment/{self.deployment} complete"

    def observe(self, probe) -> Seen:
        found = _api(probe, "Deployment", self.deployment)
        if not found:
            return Seen(False, f'deployment "{self.deployment}" not found')
        from console.cluster.actions import rollout_status
        return Seen(*rollout_status(found[0]))   # kubectl's checks and words


class HpaCondition(Strict):
    """HorizontalPodAutoscaler figures, as `kubectl get hpa` prints them."""
    name: str
    currentReplicas: Number | None = Field(None, description="REPLICAS")
    desiredReplicas: Number | None = None
    minReplicas: Number | None = Field(None, description="MINPODS")
    maxReplicas: Number | None = Field(None, description="MAXPODS")
    utilization: Number | None = Field(None, description="current average CPU, % of the request")
    target: Number | None = Field(None, description="the target utilization, %")
    targets: Text | None = Field(None, description="the TARGETS column, e.g. {contains: '<unknown>'}")
    condition: dict[str, str] | None = Field(None, description="a status condition that must be "
                                             "present, e.g. {type: ScalingLimited, status: 'True'}")

    def describe(self) -> str:
        parts = [f"{k} {getattr(self, k)}" for k in ("currentReplicas", "desiredReplicas", "minReplicas",
                                                      "maxReplicas", "utilization", "target", "targets")
                 if getattr(self, k) is not None]
        if self.condition:
            parts.append("condition " + ",".join(f"{k}={v}" for k, v in self.condition.items()))
        return f"hpa/{self.name}: " + ", ".join(parts or ["exists"])

    def observe(self, probe) -> Seen:
        from console.cluster.printer import hpa_row
        found = _api(probe, "HorizontalPodAutoscaler", self.name)
        if not found:
            return Seen(False, f'horizontalpodautoscaler "{self.name}" not found')
        hpa = found[0]
        row = hpa_row(hpa, time.time())
        values = {"currentReplicas": row.replicas, "desiredReplicas": row.desired,
                  "minReplicas": row.minimum, "maxReplicas": row.maximum,
                  "utilization": row.utilization, "target": row.target}
        ok = all(getattr(self, k) is None or getattr(self, k).test(v) for k, v in values.items())
        if self.targets is not None:
            ok = ok and self.targets.test(row.targets)
        if self.condition:
            conds = (hpa.get("status") or {}).get("conditions") or []
            ok = ok and any(all(str(c.get(k)) == v for k, v in self.condition.items()) for c in conds)
        return Seen(ok, f"TARGETS {row.targets}  MINPODS {row.minimum}  MAXPODS {row.maximum}  "
                        f"REPLICAS {row.replicas}")


class ContainerState(Strict):
    """A container's state in its pod's status: waiting reason, restarts, ready."""
    pod: str | None = None
    selector: str | None = None
    container: str | None = Field(None, description="default: the first")
    state: Literal["waiting", "running", "terminated"] | None = None
    reason: Text | None = Field(None, description="the state's reason: CrashLoopBackOff, OOMKilled ...")
    lastReason: Text | None = Field(None, description="lastState.terminated.reason: Error, Completed ...")
    restartCount: Number | None = None
    ready: bool | None = None
    status: Text | None = Field(None, description="the pod's STATUS column")
    any: bool = Field(False, description="one pod matching is enough (default: every pod)")

    def describe(self) -> str:
        parts = [f"{k} {getattr(self, k)}" for k in ("state", "reason", "lastReason", "restartCount",
                                                      "ready", "status") if getattr(self, k) is not None]
        return f"container of {_which(self.pod, self.selector)}: " + ", ".join(parts)

    def observe(self, probe) -> Seen:
        from console.kubeprint import pod_status
        pods = [p for p in _api(probe, "Pod", self.pod, self.selector)
                if not p["metadata"].get("deletionTimestamp")]
        if not pods:
            return Seen(False, "no pods")
        results, seen = [], []
        for p in pods:
            statuses = (p.get("status") or {}).get("containerStatuses") or []
            cs = next((c for c in statuses if self.container in (None, c.get("name"))), None)
            ps = pod_status(p)
            if cs is None:
                results.append(False)
                seen.append(f"{p['metadata']['name']}: no container status ({ps.reason})")
                continue
            st = cs.get("state") or {}
            kind = next(iter(st), None)
            reason = (st.get(kind) or {}).get("reason") if kind else None
            last = ((cs.get("lastState") or {}).get("terminated") or {}).get("reason")
            checks = [self.state is None or self.state == kind,
                      self.reason is None or self.reason.test(reason),
                      self.lastReason is None or self.lastReason.test(last),
                      self.restartCount is None or self.restartCount.test(int(cs.get("restartCount") or 0)),
                      self.ready is None or self.ready == bool(cs.get("ready")),
                      self.status is None or self.status.test(ps.reason)]
            results.append(all(checks))
            seen.append(f"{p['metadata']['name']}: {kind or '?'}{f' ({reason})' if reason else ''}, "
                        f"restarts {cs.get('restartCount', 0)}, ready {bool(cs.get('ready'))}, "
                        f"STATUS {ps.reason}")
        ok = any(results) if self.any else all(results)
        return Seen(ok, "; ".join(seen[:4]))


class EventSeen(Strict):
    """A Kubernetes Event: reason, type, the object it is about, its message."""
    reason: Text | None = None
    type: Literal["Normal", "Warning"] | None = None
    object: str | None = Field(None, description="kind/name, or a name prefix: pod/liveness-exec, pod/order-")
    message: Text | None = None
    count: Number | None = Field(None, description="how many times (default: at least once)")
    sinceStep: bool = Field(False, description="only events from after the step began")

    def describe(self) -> str:
        parts = [f"{k} {getattr(self, k)}" for k in ("reason", "type", "object", "message")
                 if getattr(self, k) is not None]
        return "event " + ", ".join(parts) + (f" x {self.count}" if self.count else "")

    def observe(self, probe) -> Seen:
        from console.kubeprint import parse_time
        total, last = 0, None
        for ev in _api(probe, "Event"):
            inv = ev.get("involvedObject") or ev.get("regarding") or {}
            obj = f"{(inv.get('kind') or '').lower()}/{inv.get('name', '')}"
            when = (parse_time(ev.get("lastTimestamp")) or parse_time(ev.get("eventTime"))
                    or parse_time(ev["metadata"].get("creationTimestamp")) or 0)
            if self.sinceStep and when < probe.since - 1:
                continue
            if self.object and not obj.startswith(self.object.lower()):
                continue
            if self.type and ev.get("type") != self.type:
                continue
            if self.reason and not self.reason.test(ev.get("reason")):
                continue
            msg = (ev.get("message") or ev.get("note") or "").strip()
            if self.message and not self.message.test(msg):
                continue
            total += int(ev.get("count") or 1)
            last = f"{ev.get('reason')} {obj}: {msg[:160]}"
        ok = self.count.test(total) if self.count else total > 0
        return Seen(ok, f"{total} matching" + (f", last: {last}" if last else ""))


class HttpCheck(Strict):
    """An HTTP request to an in-cluster URL (http://order:8080/orders), from this machine
    through the address the cluster publishes for the Service."""
    url: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = {}
    status: Number | None = Field(None, description="default: 200-399")
    contains: Text | None = Field(None, description="the response body")

    def describe(self) -> str:
        return f"{self.method} {self.url} -> {self.status or '2xx/3xx'}" + \
            (f", body {self.contains}" if self.contains else "")

    def observe(self, probe) -> Seen:
        import urllib.error
        import urllib.request

        from yarl import URL

        u = URL(self.url)
        from console.cluster.route import reach
        from console.loadgen.resolve import cluster_name
        session = getattr(probe.load, "session", None)
        try:                             # loopback on the embedded cluster, else a port-forward
            addr = (session.reach(u.host or "", u.port or 80, probe.conn) if session is not None
                    else reach(probe.conn, u.host or "", u.port or 80))
        except Exception as exc:
            from console.cluster.errors import message_of
            if (cluster_name(u.host or "") or (None, None, False))[2]:
                return Seen(False, f"service {u.host}:{u.port}: {message_of(exc)}")
            addr = None
        target = str(u.with_host(addr[0]).with_port(addr[1])) if addr else self.url
        req = urllib.request.Request(target, method=self.method,
                                     data=self.body.encode() if self.body is not None else None,
                                     headers={"Host": u.raw_authority, **self.headers})
        if self.body is not None and "Content-Type" not in self.headers:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                code, text = resp.status, resp.read(65536).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            code, text = exc.code, exc.read(65536).decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            return Seen(False, f"{self.method} {self.url}: {getattr(exc, 'reason', exc)}")
        ok = self.status.test(code) if self.status else 200 <= code < 400
        ok = ok and (self.contains is None or self.contains.test(text))
        return Seen(ok, f"{code} {text.strip()[:160]}")


class LoadFigures(Strict):
    """A load run's figures (siege's): the run's final summary once it ended, else the newest
    snapshot. Latencies in milliseconds."""
    run: str | None = Field(None, description="a load.start name (default: the newest run)")
    done: bool | None = Field(None, description="the run has ended")
    availability: Number | None = Field(None, description="siege's Availability, %")
    transactions: Number | None = None
    failures: Number | None = Field(None, description="siege's Failed transactions")
    requests: Number | None = None
    aborted: bool | None = Field(None, description="siege gave up on excessive failures")
    p50: Number | None = None
    p90: Number | None = None
    p95: Number | None = None
    p99: Number | None = None
    max: Number | None = None
    codes: dict[str, Number] = Field({}, description='per status code: {"503": {gt: 0}}')

    def describe(self) -> str:
        parts = [f"{k} {getattr(self, k)}" for k in ("done", "availability", "transactions", "failures",
                                                      "requests", "aborted", "p50", "p90", "p95", "p99", "max")
                 if getattr(self, k) is not None]
        parts += [f"code {c} {r}" for c, r in self.codes.items()]
        return f"load {self.run or '(newest)'}: " + ", ".join(parts or ["ran"])

    def observe(self, probe) -> Seen:
        run = probe.load.get(self.run)
        if run is None:
            return Seen(False, f"no load run{f' {self.run!r}' if self.run else ''} yet")
        if run.error:
            return Seen(False, f"load {run.name} failed: {run.error}")
        f = run.figures()
        ms = {k: None if f[k] is None else f[k] * 1000 for k in ("p50", "p90", "p95", "p99", "max")}
        checks = [self.done is None or self.done == f["done"],
                  self.aborted is None or self.aborted == f["aborted"]]
        for k in ("availability", "transactions", "failures", "requests"):
            if getattr(self, k) is not None:
                checks.append(getattr(self, k).test(f[k]))
        for k, v in ms.items():
            if getattr(self, k) is not None:
                checks.append(getattr(self, k).test(v))
        for code, r in self.codes.items():
            checks.append(r.test(f["codes"].get(code, 0)))
        codes = " ".join(f"{c}:{n}" for c, n in f["codes"].items()) or "-"
        p95 = "-" if ms["p95"] is None else f"{ms['p95']:.0f}ms"
        return Seen(all(checks), f"{'done' if f['done'] else 'running'}: availability "
                                 f"{f['availability']:.2f} %, {f['transactions']} hits, "
                                 f"{f['failures']} failed, p95 {p95}, codes {codes}")


def partial_match(want, have, path: str = "") -> str | None:
    """kuttl's rule: every listed field equal, unlisted ignored; "" if it matches, else where not."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return f"{path or '.'}: expected a mapping, found {json.dumps(have)[:60]}"
        for k, v in want.items():
            if k not in have:
                return f"{path}.{k}: missing"
            bad = partial_match(v, have[k], f"{path}.{k}")
            if bad:
                return bad
        return None
    if isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            return f"{path}: expected {len(want)} items, found {len(have) if isinstance(have, list) else have!r}"
        for i, (w, h) in enumerate(zip(want, have)):
            bad = partial_match(w, h, f"{path}[{i}]")
            if bad:
                return bad
        return None
    if want != have and str(want) != str(have):
        return f"{path}: expected {want!r}, found {have!r}"
    return None


def field_at(obj, path: str):
    """kubectl's JSONPath, the parts a check needs: `status.readyReplicas`,
    `{.spec.template.spec.containers[0].image}`, `metadata.labels['app']`,
    `status.conditions[?(@.type=="Ready")].status` (the first element that matches)."""
    import re
    text = path.strip().removeprefix("{").removesuffix("}").lstrip(".")
    value = obj
    for part in re.findall(r"\[\?\(@\.[\w.-]+==[\"'][^\"']*[\"']\)\]|[^.\[\]]+|\[\d+\]|\['[^']*'\]", text):
        if part.startswith("[?"):
            m = re.match(r"\[\?\(@\.([\w.-]+)==[\"']([^\"']*)[\"']\)\]", part)
            key, want = m.group(1), m.group(2)
            value = next((x for x in value if isinstance(x, dict) and str(x.get(key)) == want), None) \
                if isinstance(value, list) else None
            if value is None:
                return None
            continue
        if part.startswith("['"):
            key = part[2:-2]
        elif part.startswith("["):
            key = int(part[1:-1])
        else:
            key = part
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


class ObjectMatch(Strict):
    """An object that exists and partially matches (kuttl's assert), or one field of it."""
    kind: str
    name: str | None = None
    selector: str | None = None
    match: dict | None = Field(None, description="a partial object: listed fields must be equal")
    path: str | None = Field(None, description="a field, in kubectl's JSONPath: status.readyReplicas, "
                             "spec.containers[0].image, status.conditions[?(@.type==\"Ready\")].status")
    value: Number | Text | bool | None = Field(None, description="that field's value (default: present)")
    count: Number | None = Field(None, description="how many objects match (default: at least one)")

    def describe(self) -> str:
        what = f"{self.kind} {_which(self.name, self.selector)}"
        if self.path:
            what += f" {self.path}" + (f" = {self.value}" if self.value is not None else " present")
        if self.match:
            what += f" matching {json.dumps(self.match)[:80]}"
        return what + (f" ({self.count})" if self.count else "")

    def observe(self, probe) -> Seen:
        items = _api(probe, self.kind, self.name, self.selector)
        good, why = [], []
        for obj in items:
            bad = partial_match(self.match, obj) if self.match else None
            if bad is None and self.path:
                v = field_at(obj, self.path)
                if self.value is None:
                    ok = v is not None
                elif isinstance(self.value, bool):
                    ok = v == self.value
                else:
                    ok = v is not None and _test(self.value, v)
                bad = None if ok else f"{self.path} = {json.dumps(v)[:80]}"
            (good if bad is None else why).append(bad or obj["metadata"]["name"])
        ok = self.count.test(len(good)) if self.count else bool(good)
        seen = f"{len(good)} of {len(items)} match" + (f"; {why[0]}" if why else "")
        return Seen(ok, seen if items else "not found")


def _test(matcher, value) -> bool:
    try:
        return matcher.test(value)
    except (TypeError, ValueError):
        return False


class ExecCheck(Strict):
    """A command run in a pod (`kubectl exec POD -- COMMAND`): its output and exit code."""
    pod: str = Field(description="the pod, or deploy/NAME (one of its running pods)")
    command: str | list[str]
    container: str | None = None
    output: Text | None = Field(None, description="stdout and stderr")
    exitCode: Number = Field(default_factory=lambda: Range(eq=0), description="default: 0")

    def describe(self) -> str:
        cmd = self.command if isinstance(self.command, str) else " ".join(self.command)
        return f"exec {self.pod} -- {cmd}" + (f": output {self.output}" if self.output else "")

    def observe(self, probe) -> Seen:
        from console.cluster import execs
        res = execs.run(probe.conn, self.pod, self.command, self.container, timeout=30)
        ok = res.exit_code is not None and self.exitCode.test(res.exit_code)
        ok = ok and (self.output is None or self.output.test(res.output))
        return Seen(ok, f"exit {res.exit_code}: {res.output.strip()[:160]}")


class MetricsCondition(Strict):
    """metrics.k8s.io (`kubectl top pods`): served, and a pod's CPU in millicores."""
    available: bool = True
    pod: str | None = None
    cpu: Number | None = Field(None, description="the pod's CPU, millicores")

    def describe(self) -> str:
        return "metrics API " + ("available" if self.available else "not available") + \
            (f", {self.pod} cpu {self.cpu}m" if self.pod and self.cpu else "")

    def observe(self, probe) -> Seen:
        from console.cluster.metrics import fetch
        m = fetch(probe.conn.api, probe.conn.namespace)
        if not m.available:
            return Seen(not self.available, m.hint or "not available")
        cpu = m.cpu.get(self.pod) if self.pod else None
        ok = self.available and (self.cpu is None or _test(self.cpu, cpu))
        top = "  ".join(f"{n} {c}m" for n, c in list(m.cpu.items())[:5])
        return Seen(ok, f"available: {top or 'no pods'}")


# The name a scenario uses for each condition, in the order the docs list them.
CONDITIONS = {
    "podsReady": PodsReady, "rolloutComplete": RolloutComplete, "hpa": HpaCondition,
    "containerState": ContainerState, "event": EventSeen, "http": HttpCheck, "load": LoadFigures,
    "object": ObjectMatch, "exec": ExecCheck, "metrics": MetricsCondition,
}

"""The one catalogue of actions: what a key does and what a scenario step does
are the same entry.

Each Action names itself (as a scenario writes it: `scale`, `liveness.down`,
`load.start`), its parameters with their types, defaults and help, whether it is
destructive (a real cluster asks first), its keys, its line in the fault menu and
the action that undoes it (a scenario's rollback). The console builds its key
bindings, footer, help, command palette and fault menu from this list; the
scenario format builds its schema and validation from it, and the runner calls
`run`. Nothing here imports Textual.

`run(ctx, **params)` gets a context with `conn` (a Connection), `load`
(console.cluster.load.LoadRuns), `timescale` (cluster seconds per wall second),
`sleep(seconds)`, `resolve_file(path)` and `metrics_manifest` (the command line's copy of
metrics-server's manifest, or ""); console.cluster.session.Session is one.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Callable, Literal

from console.cluster import actions, faults, route
from console.cluster.actions import Result

class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


MISSING = _Required()     # a parameter without a default


class Seconds(float):
    """A duration in seconds; a scenario may write 30s, 2m, 500ms or a number."""


@dataclass(frozen=True)
class Param:
    name: str                 # as a scenario writes it (Kubernetes' camelCase)
    type: Any                 # int, float, str, bool, dict, list, Seconds, a union or Literal
    help: str
    default: Any = MISSING
    fills: str = ""           # what the console fills it with: deployment, pod, service

    @property
    def required(self) -> bool:
        return self.default is MISSING


@dataclass(frozen=True)
class Key:
    key: str                  # Textual key names, comma-separated
    display: str
    title: str                # footer and help
    args: tuple = ()          # (name, value) pairs the key fixes: + is scale by 1
    show: bool = True


@dataclass(frozen=True)
class Action:
    name: str
    title: str                # the palette's line
    help: str                 # what it does, in kubectl's terms
    params: tuple[Param, ...]
    run: Callable[..., Result]
    destructive: bool = False
    keys: tuple[Key, ...] = ()
    menu: str = ""            # "faults": a line of the fault menu
    label: str = ""           # that line, formatted with the params
    confirm: str = ""         # the question a real cluster asks first, formatted with the params
    undo: str = ""            # the action that undoes this one, with the same params
    check: Callable[[dict], str | None] | None = None   # parameters that only go together
    asks: Callable[[dict, Any], bool] | None = None     # (params, ClusterState): ask first only then
    console: bool = True      # offered by the console (sleep is a scenario's only)
    # what `kubectl auth can-i` must allow: (verb, resource[/sub], API group, namespace),
    # namespace "" the connection's, None cluster scope (access.py; the console greys the rest)
    needs: tuple[tuple[str, str, str, str | None], ...] = ()
    short: str = ""           # the parameter a bare value stands for (`sleep: 10s`); default:
                              # the only required one

    @property
    def shorthand(self) -> str | None:
        if self.short:
            return self.short
        required = [p.name for p in self.params if p.required]
        return required[0] if len(required) == 1 else None

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def with_defaults(self, params: dict) -> dict:
        out = {p.name: p.default for p in self.params if not p.required}
        out.update(params)
        return out

    def describe(self, params: dict) -> str:
        """The menu line (or the title) with these parameters."""
        if not self.label:
            return self.title
        values = self.with_defaults(params)
        try:
            return self.label.format(**values)
        except (KeyError, ValueError, IndexError):
            return self.title

    def question(self, params: dict, state=None) -> str:
        """What to ask before running it on a real cluster ("" = nothing)."""
        if not self.confirm or not (self.asks(params, state) if self.asks else self.destructive):
            return ""
        return self.confirm.format(**self.with_defaults(params))

    def undo_params(self, params: dict, result: Result) -> dict:
        """The parameters of this action's undo: the ones it shares, then what the run said."""
        undo = BY_NAME[self.undo]
        out = {k: v for k, v in params.items() if undo.param(k) is not None}
        out.update(result.data.get("undo") or {})
        return out


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def on_conn(fn, **renames):
    """run(ctx, **params) -> fn(ctx.conn, **python_names)."""
    def run(ctx, **params):
        return fn(ctx.conn, **{renames.get(k, snake(k)): v for k, v in params.items()})
    return run


def _reached(fn):
    """run(ctx, service, port) -> fn(conn, service, port, address): the Service reached as
    the load is (ctx.reach: loopback, else a port-forward), when the context can."""
    def run(ctx, service: str, port: int = 8080):
        reach = getattr(ctx, "reach", None)
        address = reach(service, port, ctx.conn) if reach is not None else None
        return fn(ctx.conn, service, port, address=address)
    return run


def _one_of(*names: str):
    def check(params: dict) -> str | None:
        given = [n for n in names if params.get(n) not in (None, False)]
        if len(given) != 1:
            return f"needs exactly one of {', '.join(names)}" + (f" (got {', '.join(given)})" if given else "")
        return None
    return check


# --- runs that are more than one call -------------------------------------------------
def docs_of(ctx, file: str | None, yaml) -> list[dict]:
    """The documents an apply/delete names: a manifest file, or inline YAML."""
    from console.cluster import rest
    if file is not None:
        return rest.load_manifest(ctx.resolve_file(file))
    if isinstance(yaml, str):
        return rest.parse_manifest(yaml, "inline yaml")
    return [yaml] if isinstance(yaml, dict) else list(yaml)


def _apply(ctx, file: str | None = None, yaml=None) -> Result:
    try:
        docs = docs_of(ctx, file, yaml)
    except Exception as exc:
        return actions.failed(exc)
    return actions.apply(ctx.conn, docs)


def _delete(ctx, kind: str | None = None, name: str | None = None, selector: str | None = None,
            all: bool = False, file: str | None = None, ignoreNotFound: bool = False) -> Result:
    if file is None:
        return actions.delete(ctx.conn, kind, name, selector, all, ignoreNotFound)
    try:
        docs = docs_of(ctx, file, None)
    except Exception as exc:
        return actions.failed(exc)
    lines, ok = [], True
    for doc in docs:
        conn = ctx.conn.switch(namespace=(doc.get("metadata") or {}).get("namespace"))
        res = actions.delete(conn, doc["kind"], doc["metadata"]["name"], ignore_not_found=ignoreNotFound)
        ok, lines = ok and res.ok, lines + [res.message]
    return Result(ok, "; ".join(lines))


def _scale(ctx, deployment: str, replicas: int | None = None, by: int | None = None) -> Result:
    if by is not None:
        return actions.scale_by(ctx.conn, deployment, by)
    return actions.scale(ctx.conn, deployment, replicas)


def _exec(ctx, pod: str, command, container: str | None = None, timeout: float = 60.0) -> Result:
    from console.cluster import execs
    return execs.exec_command(ctx.conn, pod, command, container, timeout)


def _load_start(ctx, siege: str, name: str | None = None, pod: str | None = None,
                via: str | None = None) -> Result:
    try:
        run = ctx.load.start(siege, name, timescale=ctx.timescale, conn=ctx.conn, via=via, pod=pod)
    except Exception as exc:
        return actions.failed(exc)
    how = f" (via {run.route.kind}: {run.route.reason})" if run.route is not None else ""
    return Result(True, f"load {run.name}: siege {siege}{how}",
                  data={"run": run.name, "undo": {"name": run.name},
                        "path": run.route.kind if run.route is not None else None})


def _metrics_install(ctx, source: str = "", timeout: float = 300.0) -> Result:
    from console.cluster import addons
    from console import bus
    # a class's copy (--metrics-manifest) stands in for the published one
    source = source or getattr(ctx, "metrics_manifest", "") or addons.METRICS_SERVER
    if not addons.is_url(source):
        source = ctx.resolve_file(source)
    sink = getattr(ctx, "bus", None)

    def progress(text: str) -> None:
        if sink is not None:
            sink.publish(bus.ActionProgress(action="metrics.install", message=text))
    return addons.install(ctx.conn, source, timeout / ctx.timescale, ctx.sleep, progress)


def _load_stop(ctx, name: str | None = None) -> Result:
    run = ctx.load.stop(name)
    if run is None:
        return Result(True, "no load run to stop" if name is None else f"load {name} is not running")
    return Result(True, f"stopping load {run.name}", data={"run": run.name})


def _sleep(ctx, seconds: float) -> Result:
    ctx.sleep(seconds / ctx.timescale)
    return Result(True, f"slept {seconds:g}s")


def _scale_to_zero(params: dict, state) -> bool:
    if params.get("replicas") is not None:
        return params["replicas"] <= 0
    if state is None:
        return False
    dep = next((d for d in state.deployments() if d["metadata"]["name"] == params.get("deployment")), None)
    current = int((dep or {}).get("spec", {}).get("replicas", 1))
    return current + int(params.get("by") or 0) <= 0


DEPLOYMENT = Param("deployment", str, "the Deployment's name", fills="deployment")
SERVICE = Param("service", str, "the Service in front of the pods", fills="service")
HOST = Param("host", str, "the mesh host (a Service name)", fills="service")
KIND = Param("kind", str, "the kind, as kubectl takes it: Deployment, deploy, dr, hpa ...")

ACTIONS: tuple[Action, ...] = (
    Action("load.start", "Start load (siege syntax)",
           "siege's command line against in-cluster names (http://order:8080/orders), run by "
           "the console's load generator; its figures go to the Load pane and `load` checks",
           (Param("siege", str, "siege's options and URL: -c20 -t40S -v http://order:8080/orders"),
            Param("name", str | None, "a name to check this run by (default load-N)", None),
            Param("pod", str | None, "run siege inside this pod, as `kubectl exec POD -- siege ...` "
                  "(via siege-pod, in that pod)", None),
            Param("via", Literal["auto", "loopback", "port-forward", "siege-pod", "direct"] | None,
                  "how to reach the Services: " + "; ".join(f"{k}: {v}" for k, v in route.HELP.items())
                  + " (default: the console's --load-path, auto)", None)),
           _load_start, keys=(Key("l", "l", "Load"),), undo="load.stop"),
    Action("metrics.install", "Install metrics-server",
           "kubectl apply -f components.yaml (metrics-server's published manifest, or a local "
           "copy), then kubectl rollout status -n kube-system deployment/metrics-server and the "
           "Metrics API (APIService v1beta1.metrics.k8s.io) Available: the HPA and kubectl top need it",
           (Param("source", str, "the manifest: a URL or a file (default: --metrics-manifest, "
                  "else the latest release's components.yaml)", ""),
            Param("timeout", Seconds, "give up waiting for the rollout after this long", Seconds(300))),
           _metrics_install, keys=(Key("M", "M", "Install metrics-server", show=False),),
           destructive=True, confirm="Install metrics-server (cluster-wide, in kube-system)",
           needs=(("create", "apiservices", "apiregistration.k8s.io", None),
                  ("create", "deployments", "apps", "kube-system"))),
    Action("load.stop", "Stop load", "end a load run early; siege's summary still comes",
           (Param("name", str | None, "the run (default: the newest)", None),),
           _load_stop, keys=(Key("L", "L", "Stop load"),), short="name"),
    Action("setImage", "Roll out: set image / apply a manifest",
           "kubectl set image deployment/D CONTAINER=IMAGE",
           (DEPLOYMENT, Param("image", str, "the new image, e.g. jinyoung/order:canary"),
            Param("container", str | None, "the container (default: the first)", None)),
           on_conn(actions.set_image), keys=(Key("r", "r", "Roll out"),)),
    Action("rolloutUndo", "Rollout undo", "kubectl rollout undo deployment/D [--to-revision=N]",
           (DEPLOYMENT, Param("toRevision", int, "the revision (0: the previous one)", 0)),
           on_conn(actions.rollout_undo), destructive=True, keys=(Key("u", "u", "Undo"),),
           confirm="Roll back deployment/{deployment}"),
    Action("scale", "Scale up by one / down by one",
           "kubectl scale deployment D --replicas=N (or by a step: +1 / -1)",
           (DEPLOYMENT, Param("replicas", int | None, "the new replica count", None),
            Param("by", int | None, "change the replica count by this many", None)),
           _scale, keys=(Key("plus,equals_sign", "+", "Scale +1", (("by", 1),)),
                         Key("minus", "-", "Scale -1", (("by", -1),))),
           check=_one_of("replicas", "by"), confirm="Scale deployment/{deployment} to 0",
           asks=_scale_to_zero),
    Action("autoscale", "Autoscale (create / delete HPA)",
           "kubectl autoscale deployment D --min=N --max=M --cpu-percent=P (autoscaling/v2)",
           (DEPLOYMENT, Param("min", int, "--min", 1), Param("max", int, "--max"),
            Param("cpuPercent", int, "--cpu-percent: target average CPU, % of the request", 80)),
           on_conn(actions.autoscale, min="minimum", max="maximum"), keys=(Key("a", "a", "Autoscale"),)),
    Action("deletePod", "Kill the selected pod", "kubectl delete pod P",
           (Param("pod", str, "the pod's name", fills="pod"),),
           on_conn(actions.delete_pod, pod="name"), destructive=True,
           keys=(Key("k", "k", "Kill pod"),), confirm="Delete pod {pod}"),
    Action("apply", "Apply a manifest", "kubectl apply -f FILE (server-side apply), or inline YAML",
           (Param("file", str | None, "a manifest, relative to manifests/", None),
            Param("yaml", str | dict | list | None, "the documents themselves", None)),
           _apply, check=_one_of("file", "yaml"), short="file"),
    Action("delete", "Delete objects",
           "kubectl delete KIND NAME | -l SELECTOR | --all, or kubectl delete -f FILE",
           (Param("kind", str | None, KIND.help, None), Param("name", str | None, "the object", None),
            Param("selector", str | None, "a label selector: app=order", None),
            Param("all", bool, "every object of the kind (--all)", False),
            Param("file", str | None, "the objects of a manifest", None),
            Param("ignoreNotFound", bool, "--ignore-not-found", False)),
           _delete, destructive=True, confirm="Delete {kind} {name}",
           check=lambda p: _one_of("name", "selector", "all", "file")(p)
           or (None if p.get("file") or p.get("kind") else "needs a kind (or a file)")),
    Action("patch", "Patch an object", "kubectl patch KIND NAME --type TYPE -p PATCH",
           (KIND, Param("name", str, "the object"),
            Param("patch", dict | list, "the patch (a JSON patch is a list of operations)"),
            Param("type", Literal["strategic", "merge", "json"], "--type", "strategic")),
           on_conn(actions.patch, patch="body")),
    Action("exec", "Run a command in a pod", "kubectl exec POD [-c C] -- COMMAND (a non-zero exit fails)",
           (Param("pod", str, "the pod, or deploy/NAME (one of its pods)", fills="pod"),
            Param("command", str | list, "argv, or one line split as a shell would"),
            Param("container", str | None, "-c (default: the first)", None),
            Param("timeout", Seconds, "give up after this long", 60.0)),
           _exec),
    Action("liveness.down", "Liveness down", "PUT SERVICE:PORT/actuator/down: one pod behind the "
           "Service turns unhealthy and its liveness probe fails", (SERVICE, Param("port", int, "the port", 8080)),
           _reached(faults.liveness_down), destructive=True, menu="faults", undo="liveness.up",
           label="liveness down: PUT {service}:{port}/actuator/down",
           confirm="liveness down: PUT {service}:{port}/actuator/down"),
    Action("liveness.up", "Liveness up", "PUT SERVICE:PORT/actuator/up",
           (SERVICE, Param("port", int, "the port", 8080)), _reached(faults.liveness_up),
           menu="faults", label="liveness up: PUT {service}:{port}/actuator/up"),
    Action("readiness.break", "Readiness break", "point the readiness probe at a path that fails",
           (DEPLOYMENT,), on_conn(faults.readiness_break), destructive=True, menu="faults",
           undo="readiness.fix", label="readiness break: probe {deployment} at a failing path",
           confirm="readiness break: probe {deployment} at a failing path"),
    Action("readiness.fix", "Readiness fix", "restore the readiness probe readiness.break replaced",
           (DEPLOYMENT,), on_conn(faults.readiness_fix), menu="faults",
           label="readiness fix: restore {deployment}'s probe"),
    Action("dependency.down", "Dependency down", "scale a Deployment to 0, remembering its replicas",
           (DEPLOYMENT,), on_conn(faults.dependency_down), destructive=True, menu="faults",
           undo="dependency.up", label="take {deployment} down (scale to 0)",
           confirm="take {deployment} down (scale to 0)"),
    Action("dependency.up", "Dependency up", "scale it back to the replicas it had",
           (DEPLOYMENT,), on_conn(faults.dependency_up), menu="faults", label="bring {deployment} back"),
    Action("mesh.circuitBreaker", "Mesh: circuit breaker",
           "a DestinationRule with a tiny connection pool and outlier detection (lab L4)",
           (HOST, Param("maxConnections", int, "connectionPool.tcp.maxConnections", 1),
            Param("pending", int, "connectionPool.http.http1MaxPendingRequests", 1),
            Param("consecutiveErrors", int, "outlierDetection.consecutive5xxErrors", 5)),
           on_conn(faults.circuit_breaker), menu="faults", undo="mesh.clear",
           label="mesh: circuit breaker on {host}"),
    Action("mesh.retries", "Mesh: retries", "a VirtualService route that retries (lab L4)",
           (HOST, Param("attempts", int, "retries.attempts", 3),
            Param("perTryTimeout", str, "retries.perTryTimeout", "2s")),
           on_conn(faults.retries), menu="faults", undo="mesh.clear",
           label="mesh: retries ({attempts} x {perTryTimeout}) on {host}"),
    Action("mesh.delay", "Mesh: delay", "a VirtualService fault that delays requests",
           (HOST, Param("seconds", float, "fixedDelay", 3.0), Param("percent", float, "share delayed", 100.0)),
           on_conn(faults.delay), destructive=True, menu="faults", undo="mesh.clear",
           label="mesh: inject {seconds:g}s delay on {host}", confirm="mesh: inject {seconds:g}s delay on {host}"),
    Action("mesh.abort", "Mesh: abort", "a VirtualService fault that answers an error status",
           (HOST, Param("status", int, "httpStatus", 503), Param("percent", float, "share aborted", 50.0)),
           on_conn(faults.abort), destructive=True, menu="faults", undo="mesh.clear",
           label="mesh: abort {percent:g}% with {status} on {host}",
           confirm="mesh: abort {percent:g}% with {status} on {host}"),
    Action("mesh.clear", "Mesh: clear", "remove the DestinationRule and VirtualService kubelab made",
           (HOST,), on_conn(faults.mesh_clear), menu="faults", label="mesh: remove kubelab rules for {host}"),
    Action("sleep", "Sleep", "wait this long of cluster time (compressed with the embedded --speed)",
           (Param("seconds", Seconds, "how long"),), _sleep, console=False),
)

_DEPLOY = ("patch", "deployments", "apps", "")
_MESH = (("create", "destinationrules", "networking.istio.io", ""),
         ("create", "virtualservices", "networking.istio.io", ""))
NEEDS = {
    "setImage": (_DEPLOY,), "rolloutUndo": (_DEPLOY,),
    "scale": (_DEPLOY,),
    "autoscale": (("create", "horizontalpodautoscalers", "autoscaling", ""),),
    "deletePod": (("delete", "pods", "", ""),),
    "exec": (("create", "pods/exec", "", ""),),
    "readiness.break": (_DEPLOY,), "readiness.fix": (_DEPLOY,),
    "dependency.down": (_DEPLOY,), "dependency.up": (_DEPLOY,),
    "mesh.circuitBreaker": _MESH[:1], "mesh.retries": _MESH[1:], "mesh.delay": _MESH[1:],
    "mesh.abort": _MESH[1:],
    "mesh.clear": (("delete", "destinationrules", "networking.istio.io", ""),
                   ("delete", "virtualservices", "networking.istio.io", "")),
}
ACTIONS = tuple(dataclasses.replace(a, needs=a.needs or NEEDS.get(a.name, ())) for a in ACTIONS)

BY_NAME = {a.name: a for a in ACTIONS}


def get(name: str) -> Action:
    return BY_NAME[name]


def menu(name: str) -> list[Action]:
    return [a for a in ACTIONS if a.menu == name]


def call(ctx, name: str, params: dict) -> Result:
    """Run one action; any exception becomes Result(False, the API's words)."""
    act = BY_NAME.get(name)
    if act is None:
        return Result(False, f"no action {name!r}")
    try:
        return act.run(ctx, **params)
    except Exception as exc:
        return actions.failed(exc)

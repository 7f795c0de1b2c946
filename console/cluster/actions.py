"""What a key press or a scenario step does to the cluster: apply, delete, patch,
rollouts, scaling, autoscaling.

Each action is a plain function over a Connection and returns a Result: ok, and
either what was done (as kubectl words it) or the API server's own error
message, plus the objects it created (a scenario's cleanup removes them).
Nothing here raises. console.cluster.catalogue lists them for keys and scenarios.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from console.cluster import rest
from console.cluster.errors import message_of, transient
from console.cluster.printer import revision


@dataclass(frozen=True)
class Ref:
    """An object an action created: what cleanup deletes."""
    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


@dataclass(frozen=True)
class Result:
    ok: bool
    message: str
    created: tuple[Ref, ...] = ()
    data: dict = field(default_factory=dict)   # e.g. exec output, a load run's name

    def __bool__(self) -> bool:
        return self.ok


def failed(exc: BaseException) -> Result:
    """Result(False, <the API's message>); data["transient"] when trying again may help."""
    return Result(False, message_of(exc), data={"transient": transient(exc)})


def action(fn):
    """Turn any exception into a failed Result with the API's message."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs) -> Result:
        try:
            out = fn(*args, **kwargs)
        except Exception as exc:
            return failed(exc)
        return out if isinstance(out, Result) else Result(True, str(out))
    return wrapper


@action
def set_image(conn, deployment: str, image: str, container: str | None = None) -> str:
    dep = rest.get(conn.api, "Deployment", conn.namespace, deployment)
    containers = dep["spec"]["template"]["spec"]["containers"]
    name = container or containers[0]["name"]
    if not any(c["name"] == name for c in containers):
        return Result(False, f"deployment {deployment} has no container {name!r}")
    rest.patch(conn.api, "Deployment", conn.namespace, deployment,
               {"spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}}})
    return f"deployment.apps/{deployment} image updated: {name}={image}"


@action
def apply(conn, source: str | Path | list[dict]) -> Result:
    """`kubectl apply -f FILE` (a path) or `kubectl apply -f -` (the documents)."""
    docs = rest.load_manifest(source) if isinstance(source, (str, Path)) else source
    lines, created = [], []
    for doc in docs:
        line = rest.create_or_update(conn.api, doc, conn.namespace)
        lines.append(line)
        if line.endswith(" created"):
            meta = doc.get("metadata") or {}
            ns = None if not rest.KINDS.get(doc["kind"], ("", "", True))[2] else \
                meta.get("namespace") or conn.namespace
            created.append(Ref(doc["kind"], ns, meta["name"]))
    return Result(True, "; ".join(lines), tuple(created))


def _names(conn, kind: str, selector: str | None) -> list[str]:
    query = [("labelSelector", selector)] if selector else []
    body = rest.call(conn.api, "GET", rest.path_for(kind, conn.namespace), query=query)
    return [o["metadata"]["name"] for o in body.get("items") or []]


@action
def delete(conn, kind: str, name: str | None = None, selector: str | None = None,
           all: bool = False, ignore_not_found: bool = False) -> Result:
    """`kubectl delete KIND NAME | -l SELECTOR | --all`, each line as kubectl prints it."""
    kind = rest.kind_of(kind)
    if sum(bool(x) for x in (name, selector, all)) != 1:
        return Result(False, "delete needs exactly one of a name, a selector or all")
    names = [name] if name else _names(conn, kind, selector)
    if not names:
        return Result(True, "No resources found")
    shown = rest.display_kind({"apiVersion": _api_version(kind), "kind": kind})
    lines = []
    for n in names:
        try:
            rest.delete(conn.api, kind, conn.namespace, n)
        except rest.ApiException as exc:
            if exc.status == 404 and ignore_not_found:
                continue
            raise
        lines.append(f'{shown} "{n}" deleted')
    return "; ".join(lines) or "No resources found"


PATCH_TYPES = {"strategic": rest.STRATEGIC, "merge": rest.MERGE, "json": rest.JSON_PATCH}


@action
def patch(conn, kind: str, name: str, body, type: str = "strategic") -> str:
    """`kubectl patch KIND NAME --type TYPE -p BODY`."""
    kind = rest.kind_of(kind)
    if type not in PATCH_TYPES:
        return Result(False, f"--type {type!r}: one of {', '.join(PATCH_TYPES)}")
    rest.patch(conn.api, kind, conn.namespace, name, body, PATCH_TYPES[type])
    return f"{rest.display_kind({'apiVersion': _api_version(kind), 'kind': kind})}/{name} patched"


def _api_version(kind: str) -> str:
    prefix = rest.KINDS[kind][0]
    return prefix.removeprefix("apis/").removeprefix("api/")


@action
def scale(conn, deployment: str, replicas: int) -> str:
    if replicas < 0:
        return Result(False, "replicas must be 0 or more")
    rest.patch(conn.api, "Deployment", conn.namespace, deployment,
               {"spec": {"replicas": replicas}}, rest.MERGE)
    return f"deployment.apps/{deployment} scaled to {replicas}"


def scale_by(conn, deployment: str, delta: int) -> Result:
    try:
        dep = rest.get(conn.api, "Deployment", conn.namespace, deployment)
    except Exception as exc:
        return failed(exc)
    return scale(conn, deployment, max(0, int(dep["spec"].get("replicas", 1)) + delta))


@action
def autoscale(conn, deployment: str, minimum: int, maximum: int, cpu_percent: int) -> str:
    if not 1 <= minimum <= maximum:
        return Result(False, f"need 1 <= min ({minimum}) <= max ({maximum})")
    if cpu_percent < 1:
        return Result(False, "cpu-percent must be at least 1")
    hpa = {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": deployment},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
            "minReplicas": minimum, "maxReplicas": maximum,
            "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu_percent}}}],
        },
    }
    rest.get(conn.api, "Deployment", conn.namespace, deployment)  # a clear 404 first
    verb = rest.create_or_update(conn.api, hpa, conn.namespace).rsplit(" ", 1)[1]
    created = (Ref("HorizontalPodAutoscaler", conn.namespace, deployment),) if verb == "created" else ()
    return Result(True, f"horizontalpodautoscaler.autoscaling/{deployment} {verb} "
                        f"(min {minimum}, max {maximum}, cpu {cpu_percent}%)", created)


def delete_hpa(conn, name: str) -> Result:
    return delete(conn, "HorizontalPodAutoscaler", name)


def delete_pod(conn, name: str) -> Result:
    return delete(conn, "Pod", name)


def owned_replicasets(conn, dep: dict) -> list[dict]:
    uid = dep["metadata"]["uid"]
    body = rest.call(conn.api, "GET", rest.path_for("ReplicaSet", conn.namespace))
    return sorted((rs for rs in body.get("items") or []
                   if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or [])),
                  key=revision)


# kubectl's rollback skips these when copying the ReplicaSet's annotations back.
_SKIP = {"kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision",
         "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
         "deployment.kubernetes.io/max-replicas", "deprecated.deployment.rollback.to"}


@action
def rollout_undo(conn, deployment: str, to_revision: int = 0) -> str:
    """As `kubectl rollout undo`: JSON-patch the template back to a previous RS's."""
    dep = rest.get(conn.api, "Deployment", conn.namespace, deployment)
    sets = owned_replicasets(conn, dep)
    current = revision(dep)
    if to_revision:
        chosen = next((rs for rs in sets if revision(rs) == to_revision), None)
        if chosen is None:
            return Result(False, f"unable to find specified revision {to_revision} in history")
    else:
        older = [rs for rs in sets if revision(rs) < current]
        if not older:
            return Result(False, f"no rollout history found for deployment {deployment!r}")
        chosen = older[-1]
    template = chosen["spec"]["template"]
    template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    if _same_template(template, dep["spec"]["template"]):
        return f"skipped rollback (current template already matches revision {revision(chosen)})"
    annotations = dict(dep["metadata"].get("annotations") or {})
    for k, v in (chosen["metadata"].get("annotations") or {}).items():
        if k not in _SKIP:
            annotations[k] = v
    rest.patch(conn.api, "Deployment", conn.namespace, deployment, [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ], rest.JSON_PATCH)
    return f"deployment.apps/{deployment} rolled back to revision {revision(chosen)}"


def rollout_status(dep: dict) -> tuple[bool, str]:
    """What `kubectl rollout status deployment/NAME` says of a Deployment: the same
    checks (observed generation, updated, old pending, available) and the same words."""
    name = dep["metadata"]["name"]
    spec, st, meta = dep.get("spec", {}), dep.get("status", {}), dep["metadata"]
    want = int(spec.get("replicas", 1))
    updated, total = int(st.get("updatedReplicas") or 0), int(st.get("replicas") or 0)
    available = int(st.get("availableReplicas") or 0)
    if int(st.get("observedGeneration") or 0) < int(meta.get("generation") or 0):
        return False, "Waiting for deployment spec update to be observed..."
    if updated < want:
        return False, (f'Waiting for deployment "{name}" rollout to finish: {updated} out of '
                       f"{want} new replicas have been updated...")
    if total > updated:
        return False, (f'Waiting for deployment "{name}" rollout to finish: {total - updated} '
                       "old replicas are pending termination...")
    if available < updated:
        return False, (f'Waiting for deployment "{name}" rollout to finish: {available} of '
                       f"{updated} updated replicas are available...")
    return True, f'deployment "{name}" successfully rolled out'


def _same_template(a: dict, b: dict) -> bool:
    def norm(t):
        t = {**t, "metadata": dict(t.get("metadata") or {})}
        t["metadata"].pop("creationTimestamp", None)
        labels = dict(t["metadata"].get("labels") or {})
        labels.pop("pod-template-hash", None)
        t["metadata"]["labels"] = labels
        return t
    return norm(a) == norm(b)


def history(conn, deployment: str) -> list[tuple[int, str, str]]:
    """(revision, images, change-cause) oldest first, as `kubectl rollout history`."""
    dep = rest.get(conn.api, "Deployment", conn.namespace, deployment)
    from console.cluster.printer import images
    return [(revision(rs), images(rs["spec"]["template"]),
             (rs["metadata"].get("annotations") or {}).get("kubernetes.io/change-cause", "<none>"))
            for rs in owned_replicasets(conn, dep)]

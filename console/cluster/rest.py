"""Plain REST calls through the official client's ApiClient (auth, TLS, exec
plugins all handled by it), on raw JSON, for any kind a lab uses.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from console.errors import UsageError

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"

# apiVersion group/version, kind -> (api prefix, plural, namespaced)
KINDS = {
    "Pod": ("api/v1", "pods", True),
    "Service": ("api/v1", "services", True),
    "ConfigMap": ("api/v1", "configmaps", True),
    "Secret": ("api/v1", "secrets", True),
    "Namespace": ("api/v1", "namespaces", False),
    "Event": ("api/v1", "events", True),
    "Node": ("api/v1", "nodes", False),
    "Deployment": ("apis/apps/v1", "deployments", True),
    "ReplicaSet": ("apis/apps/v1", "replicasets", True),
    "HorizontalPodAutoscaler": ("apis/autoscaling/v2", "horizontalpodautoscalers", True),
    "DestinationRule": ("apis/networking.istio.io/v1beta1", "destinationrules", True),
    "VirtualService": ("apis/networking.istio.io/v1beta1", "virtualservices", True),
    # what add-on manifests carry (metrics-server's components.yaml)
    "ServiceAccount": ("api/v1", "serviceaccounts", True),
    "ClusterRole": ("apis/rbac.authorization.k8s.io/v1", "clusterroles", False),
    "ClusterRoleBinding": ("apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "Role": ("apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "APIService": ("apis/apiregistration.k8s.io/v1", "apiservices", False),
}


# What kubectl accepts for each kind: plural, singular and short names (kubectl api-resources).
ALIASES = {
    "Pod": ("pods", "pod", "po"), "Service": ("services", "service", "svc"),
    "ConfigMap": ("configmaps", "configmap", "cm"), "Secret": ("secrets", "secret"),
    "Namespace": ("namespaces", "namespace", "ns"), "Event": ("events", "event", "ev"),
    "Node": ("nodes", "node", "no"),
    "Deployment": ("deployments", "deployment", "deploy"),
    "ReplicaSet": ("replicasets", "replicaset", "rs"),
    "HorizontalPodAutoscaler": ("horizontalpodautoscalers", "horizontalpodautoscaler", "hpa"),
    "DestinationRule": ("destinationrules", "destinationrule", "dr"),
    "VirtualService": ("virtualservices", "virtualservice", "vs"),
    "ServiceAccount": ("serviceaccounts", "serviceaccount", "sa"),
    "ClusterRole": ("clusterroles", "clusterrole"),
    "ClusterRoleBinding": ("clusterrolebindings", "clusterrolebinding"),
    "Role": ("roles", "role"), "RoleBinding": ("rolebindings", "rolebinding"),
    "APIService": ("apiservices", "apiservice"),
}
_BY_ALIAS = {a: kind for kind, names in ALIASES.items() for a in (*names, kind.lower())}


def kind_of(text: str) -> str:
    """`dr`, `deploy`, `deployments.apps`, `Deployment` -> the Kind, as kubectl resolves them."""
    if text in KINDS:
        return text
    kind = _BY_ALIAS.get(text.lower().split(".", 1)[0])
    if kind is None:
        raise UsageError(f"the server doesn't have a resource type {text!r} "
                         f"(known: {', '.join(sorted(KINDS))})")
    return kind


def path_for(kind: str, namespace: str | None, name: str | None = None,
             api_version: str | None = None) -> str:
    if kind not in KINDS:
        raise UsageError(f"kind {kind!r} is not one the console knows "
                         f"({', '.join(sorted(KINDS))})")
    prefix, plural, namespaced = KINDS[kind]
    if api_version and "/" in api_version and prefix.startswith("apis/"):
        prefix = f"apis/{api_version}"   # the manifest's own version wins
    parts = ["", prefix]
    if namespaced:
        parts += ["namespaces", namespace or "default"]
    parts.append(plural)
    if name:
        parts.append(name)
    return "/".join(parts)


def call(api: client.ApiClient, method: str, path: str, body=None,
         content_type: str = "application/json", query: list | None = None) -> dict:
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    req = api.param_serialize(method, path, query_params=query or [], header_params=headers,
                              body=body, auth_settings=["BearerToken"])
    resp = api.call_api(*req, _request_timeout=30)
    resp.read()
    if not 200 <= resp.status <= 299:
        raise ApiException.from_response(http_resp=resp, body=None, data=None)
    return json.loads(resp.data) if resp.data else {}


def get(api, kind: str, namespace: str, name: str) -> dict:
    return call(api, "GET", path_for(kind, namespace, name))


def exists(api, kind: str, namespace: str, name: str) -> bool:
    try:
        get(api, kind, namespace, name)
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


def delete(api, kind: str, namespace: str, name: str) -> dict:
    return call(api, "DELETE", path_for(kind, namespace, name))


def patch(api, kind: str, namespace: str, name: str, body, content_type: str = STRATEGIC) -> dict:
    if content_type == STRATEGIC and kind not in ("Pod", "Service", "ConfigMap", "Secret",
                                                  "Namespace", "Deployment", "ReplicaSet",
                                                  "HorizontalPodAutoscaler", "ServiceAccount",
                                                  "ClusterRole", "ClusterRoleBinding", "Role",
                                                  "RoleBinding"):
        content_type = MERGE   # custom resources have no strategic merge
    return call(api, "PATCH", path_for(kind, namespace, name), body, content_type)


APPLY = "application/apply-patch+yaml"
FIELD_MANAGER = "kubelab"

# Written by the server on every change; not part of what a manifest says.
_VOLATILE = ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp")


def create_or_update(api, obj: dict, namespace: str) -> str:
    """`kubectl apply --server-side --force-conflicts`: one PATCH, no resourceVersion,
    so the controllers' status writes in between cannot make it fail."""
    kind, meta = obj.get("kind", ""), obj.get("metadata") or {}
    name = meta.get("name")
    if not name:
        raise UsageError(f"{kind or 'object'} has no metadata.name")
    ns = meta.get("namespace") or namespace
    where = path_for(kind, ns, name, obj.get("apiVersion"))
    try:
        before = call(api, "GET", where)
    except ApiException as exc:
        if exc.status != 404:
            raise
        before = None
    after = call(api, "PATCH", where, json.dumps(obj), APPLY,
                 query=[("fieldManager", FIELD_MANAGER), ("force", "true")])
    if before is None:
        verb = "created"
    else:
        verb = "unchanged" if _content(before) == _content(after) else "configured"
    return f"{display_kind(obj)}/{name} {verb}"


def display_kind(obj: dict) -> str:
    """As kubectl prints it: deployment.apps, service, destinationrule.networking.istio.io."""
    group = (obj.get("apiVersion") or "").rpartition("/")[0]
    kind = (obj.get("kind") or "").lower()
    return f"{kind}.{group}" if group else kind


def _content(obj: dict) -> dict:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _VOLATILE}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def load_manifest(path: str | Path) -> list[dict]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(exc.strerror or str(exc), where=str(path)) from None
    return parse_manifest(text, str(path))


def parse_manifest(text: str, where: str = "manifest") -> list[dict]:
    """The documents of a YAML text (`kubectl apply -f -`), each with a kind."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"{where}:{mark.line + 1}" if mark else where
        raise UsageError(getattr(exc, "problem", None) or "not valid YAML", where=at) from None
    for i, doc in enumerate(docs):
        if not isinstance(doc, dict) or "kind" not in doc:
            raise UsageError(f"document {i + 1} has no kind", where=where)
    return docs

"""Who is asking, and may they: bearer tokens -> users, and RBAC's answer for each request.

The cluster's own token is the administrator (group system:masters, allowed
everything, as on a kubeadm cluster). `kubelab cluster --user NAME=ROLE[:NAMESPACE]`
adds restricted users, each with a token and a kubeconfig context of its own: the
role is one of Kubernetes' default ClusterRoles (`view`, `edit`, `cluster-admin`),
bound cluster-wide (a ClusterRoleBinding) or in one namespace (a RoleBinding).
The rules below are those roles' own (bootstrappolicy), cut to the kinds this
cluster serves, plus what every authenticated user has (system:basic-user,
system:discovery, system:public-info-viewer).

`attributes(method, path, query)` is kube-apiserver's RequestInfo: verb, API
group, resource, subresource, namespace, name, from the URL alone, so a request
is refused (403) before anyone looks whether its object exists (404). The refusal
reads as kube-apiserver words it:
  pods "web" is forbidden: User "viewer" cannot delete resource "pods" in API group "" in the namespace "default"
GET on pods/exec, pods/attach and pods/portforward (a WebSocket upgrade) needs
`create`, as kube-apiserver checks it since 1.31 (AuthorizePodWebsocketUpgradeCreatePermission).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

READ = ("get", "list", "watch")
WRITE = ("create", "update", "patch", "delete", "deletecollection")
ADMIN = "kubelab"                     # the cluster's own user
MASTERS = "system:masters"
NAMESPACE_SUBRESOURCES = {"status", "finalize"}
UPGRADES = {"exec", "attach", "portforward"}


@dataclass(frozen=True)
class Rule:
    verbs: tuple[str, ...]
    groups: tuple[str, ...]
    resources: tuple[str, ...]

    def allows(self, verb: str, group: str, resource: str) -> bool:
        return (("*" in self.verbs or verb in self.verbs)
                and ("*" in self.groups or group in self.groups)
                and ("*" in self.resources or resource in self.resources))

    def as_api(self) -> dict:
        return {"verbs": list(self.verbs), "apiGroups": list(self.groups),
                "resources": list(self.resources)}


_CORE_READ = ("pods", "pods/log", "pods/status", "services", "services/status", "endpoints",
              "configmaps", "events", "namespaces", "namespaces/status", "serviceaccounts",
              "limitranges", "resourcequotas", "persistentvolumeclaims", "replicationcontrollers",
              "replicationcontrollers/scale")
_APPS = ("deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets",
         "statefulsets/scale", "daemonsets", "controllerrevisions")
_HPA = ("horizontalpodautoscalers",)
VIEW = (
    Rule(READ, ("",), _CORE_READ),
    Rule(READ, ("apps",), _APPS + ("deployments/status", "replicasets/status")),
    Rule(READ, ("autoscaling",), _HPA + ("horizontalpodautoscalers/status",)),
    Rule(READ, ("discovery.k8s.io",), ("endpointslices",)),
    Rule(READ, ("batch",), ("jobs", "cronjobs")),
    Rule(READ, ("policy",), ("poddisruptionbudgets",)),
    Rule(READ, ("networking.k8s.io",), ("ingresses", "networkpolicies")),
    # metrics-server's system:aggregated-metrics-reader is aggregated into view
    Rule(READ, ("metrics.k8s.io",), ("pods", "nodes")),
)
_STREAMS = ("pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "services/proxy")
EDIT = VIEW + (
    Rule(READ, ("",), ("secrets",) + _STREAMS),
    Rule(WRITE, ("",), ("pods", "services", "endpoints", "configmaps", "secrets",
                        "serviceaccounts", "persistentvolumeclaims", "replicationcontrollers",
                        "replicationcontrollers/scale") + _STREAMS),
    Rule(("create",), ("",), ("pods/eviction",)),
    Rule(WRITE, ("apps",), _APPS[:-1] + ("deployments/rollback",)),
    Rule(WRITE, ("autoscaling",), _HPA),
    Rule(WRITE, ("batch",), ("jobs", "cronjobs")),
    Rule(WRITE, ("policy",), ("poddisruptionbudgets",)),
    Rule(WRITE, ("networking.k8s.io",), ("ingresses", "networkpolicies")),
)
ROLES = {"view": VIEW, "edit": EDIT, "cluster-admin": (Rule(("*",), ("*",), ("*",)),)}

# every authenticated user (system:basic-user, system:discovery, system:public-info-viewer)
BASIC = (
    Rule(("create",), ("authorization.k8s.io",), ("selfsubjectaccessreviews", "selfsubjectrulesreviews")),
    Rule(("create",), ("authentication.k8s.io",), ("selfsubjectreviews",)),
)
PUBLIC_PATHS = ("/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz",
                "/version", "/version/", "/openapi", "/openapi/*")


@dataclass(frozen=True)
class User:
    name: str
    token: str
    role: str = "cluster-admin"
    namespace: str | None = None          # None: bound cluster-wide
    groups: tuple[str, ...] = ()

    @property
    def admin(self) -> bool:
        return MASTERS in self.groups

    @property
    def binding(self) -> str:
        """How RBAC names what lets this user in."""
        if self.namespace:
            return f'RoleBinding "kubelab-{self.name}/{self.namespace}" of ClusterRole "{self.role}"'
        return f'ClusterRoleBinding "kubelab-{self.name}" of ClusterRole "{self.role}"'

    def info(self) -> dict:
        return {"username": self.name, "groups": [*self.groups, "system:authenticated"]}


def admin(token: str) -> User:
    return User(ADMIN, token, groups=(MASTERS,))


def parse_user(text: str) -> tuple[str, str, str | None]:
    """NAME=ROLE[:NAMESPACE] -> (name, role, namespace); ValueError says what is wrong."""
    name, sep, rest = text.partition("=")
    role, _, namespace = rest.partition(":")
    if not sep or not name or not role:
        raise ValueError(f"{text!r}: expected NAME=ROLE or NAME=ROLE:NAMESPACE (e.g. viewer=view)")
    if role not in ROLES:
        raise ValueError(f"{text!r}: role {role!r} is not one of {', '.join(ROLES)}")
    if name == ADMIN or not all(c.isalnum() or c in "-." for c in name):
        raise ValueError(f"{text!r}: user name must be letters, digits, '-' or '.', not {ADMIN!r}")
    return name, role, namespace or None


@dataclass
class Attributes:
    verb: str
    path: str
    resource_request: bool = False
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def full_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def attributes(method: str, path: str, query) -> Attributes:
    """kube-apiserver's RequestInfoFactory, for the paths this cluster serves."""
    method = method.upper()
    verb = {"GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete"}.get(method, method.lower())
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, rest = parts[1], parts[3:]
    else:
        plain = {"POST": "post", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}
        return Attributes(plain.get(method, "get"), path)
    a = Attributes(verb, path, True, group)
    watch = False
    if rest[0] == "watch":
        watch, rest = True, rest[1:]
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        a.namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    if rest:
        a.resource = rest[0]
    if len(rest) > 1:
        a.name = rest[1]
    if len(rest) > 2:
        a.subresource = rest[2]
    if method in ("GET", "HEAD") and not a.name:
        a.verb = "watch" if watch or query.get("watch") in ("true", "1") else "list"
    elif watch:
        a.verb = "watch"
    elif method == "DELETE" and not a.name:
        a.verb = "deletecollection"
    if method == "GET" and a.resource == "pods" and a.subresource in UPGRADES:
        a.verb = "create"
    return a


@dataclass
class Users:
    """The cluster's users by token."""
    by_token: dict[str, User] = field(default_factory=dict)

    def add(self, user: User) -> None:
        self.by_token[user.token] = user

    def find(self, token: str) -> User | None:
        import secrets

        for known, user in self.by_token.items():
            if secrets.compare_digest(known.encode(), token.encode()):
                return user
        return None

    def __iter__(self):
        return iter(self.by_token.values())


def rules(user: User, namespace: str | None) -> list[Rule]:
    """The resource rules that hold for the user in `namespace` (None: cluster scope)."""
    out = list(BASIC)
    if user.admin:
        return ROLES["cluster-admin"] + tuple(out)
    if user.namespace is None or (namespace and namespace == user.namespace):
        out = list(ROLES[user.role]) + out
    return out


def decide(user: User, a: Attributes) -> tuple[bool, str]:
    """(allowed, reason) as RBAC gives them."""
    if user.admin:
        return True, ""
    if not a.resource_request:
        if any(fnmatch.fnmatchcase(a.path, p) for p in PUBLIC_PATHS) and a.verb == "get":
            return True, 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole ' \
                         '"system:discovery" to Group "system:authenticated"'
        return False, ""
    for rule in BASIC:
        if rule.allows(a.verb, a.group, a.full_resource):
            return True, 'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole ' \
                         '"system:basic-user" to Group "system:authenticated"'
    if user.namespace is not None and a.namespace != user.namespace:
        return False, ""
    if any(r.allows(a.verb, a.group, a.full_resource) for r in ROLES[user.role]):
        return True, f'RBAC: allowed by {user.binding} to User "{user.name}"'
    return False, ""


def forbidden_message(user: User, a: Attributes) -> str:
    """apiserver's responsewriters.forbiddenMessage wrapped in NewForbidden's words."""
    if not a.resource_request:
        return f'forbidden: User "{user.name}" cannot {a.verb} path "{a.path}"'
    qualified = f"{a.resource}.{a.group}" if a.group else a.resource
    what = f'{qualified} "{a.name}"' if a.name else qualified
    scope = (f'in the namespace "{a.namespace}"' if a.namespace else "at the cluster scope")
    return (f'{what} is forbidden: User "{user.name}" cannot {a.verb} resource '
            f'"{a.full_resource}" in API group "{a.group}" {scope}')

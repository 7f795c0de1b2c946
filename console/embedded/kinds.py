"""The resources the embedded API server serves: names, versions, scope, verbs.

`key` is the store's resource name ("pods", "deployments.apps"). Objects are
stored in `storage` version; the API layer converts on the way in and out.
Other components may `register` more kinds (metrics, custom resources).
"""

from dataclasses import dataclass

VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Kind:
    resource: str               # plural, as in the URL
    kind: str
    group: str                  # "" for core
    versions: tuple[str, ...]   # served, preferred first
    namespaced: bool = True
    short: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    storage: str = ""           # storage version; default: the preferred one
    verbs: tuple[str, ...] = VERBS

    @property
    def key(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def storage_version(self) -> str:
        return self.storage or self.versions[0]

    def api_version(self, version: str | None = None) -> str:
        v = version or self.storage_version
        return f"{self.group}/{v}" if self.group else v


_ALL = ("all",)
_ISTIO = ("v1", "v1beta1", "v1alpha3")

KINDS: list[Kind] = [
    Kind("namespaces", "Namespace", "", ("v1",), False, ("ns",), ("status", "finalize")),
    Kind("nodes", "Node", "", ("v1",), False, ("no",), ("status",)),
    Kind("pods", "Pod", "", ("v1",), True, ("po",), ("status", "log", "exec"), _ALL),
    Kind("services", "Service", "", ("v1",), True, ("svc",), ("status",), _ALL),
    Kind("endpoints", "Endpoints", "", ("v1",), True, ("ep",)),
    Kind("events", "Event", "", ("v1",), True, ("ev",)),
    Kind("configmaps", "ConfigMap", "", ("v1",), True, ("cm",)),
    Kind("secrets", "Secret", "", ("v1",), True),
    Kind("deployments", "Deployment", "apps", ("v1",), True, ("deploy",), ("scale", "status"), _ALL),
    Kind("replicasets", "ReplicaSet", "apps", ("v1",), True, ("rs",), ("scale", "status"), _ALL),
    Kind("horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling", ("v2", "v1"),
         True, ("hpa",), ("status",), _ALL, storage="v2"),
    Kind("endpointslices", "EndpointSlice", "discovery.k8s.io", ("v1",), True),
    Kind("leases", "Lease", "coordination.k8s.io", ("v1",), True),
    # the Istio kinds' definitions, as a cluster with Istio lists them (read-only here)
    Kind("customresourcedefinitions", "CustomResourceDefinition", "apiextensions.k8s.io",
         ("v1",), False, ("crd", "crds"), ("status",), ("api-extensions",),
         verbs=("get", "list", "watch")),
    # create-only reviews: the one user of this cluster may do everything
    Kind("selfsubjectaccessreviews", "SelfSubjectAccessReview", "authorization.k8s.io", ("v1",),
         False, verbs=("create",)),
    Kind("selfsubjectrulesreviews", "SelfSubjectRulesReview", "authorization.k8s.io", ("v1",),
         False, verbs=("create",)),
    Kind("selfsubjectreviews", "SelfSubjectReview", "authentication.k8s.io", ("v1",), False,
         verbs=("create",)),
    Kind("destinationrules", "DestinationRule", "networking.istio.io", _ISTIO, True, ("dr",),
         ("status",), ("istio-io", "networking-istio-io")),
    Kind("virtualservices", "VirtualService", "networking.istio.io", _ISTIO, True, ("vs",),
         ("status",), ("istio-io", "networking-istio-io")),
]

# Group order as the real server lists it (discovery order matters to kubectl's
# short-name resolution only through the preferred version; keep it stable).
_BY_PATH: dict[tuple[str, str, str], Kind] = {}
_BY_KEY: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    if kind not in KINDS:
        KINDS.append(kind)
    _BY_KEY[kind.key] = kind
    for v in kind.versions:
        _BY_PATH[(kind.group, v, kind.resource)] = kind


for _k in list(KINDS):
    register(_k)


def lookup(group: str, version: str, resource: str) -> Kind | None:
    return _BY_PATH.get((group, version, resource))


def by_key(key: str) -> Kind | None:
    return _BY_KEY.get(key)


def by_kind(api_version: str, kind: str) -> Kind | None:
    group, _, version = api_version.rpartition("/")
    for k in KINDS:
        if k.group == group and k.kind == kind and version in k.versions:
            return k
    return None


def groups() -> dict[str, list[str]]:
    """group -> served versions (preferred first), in first-seen order."""
    out: dict[str, list[str]] = {}
    for k in KINDS:
        vs = out.setdefault(k.group, [])
        for v in k.versions:
            if v not in vs:
                vs.append(v)
    return out


def in_version(group: str, version: str) -> list[Kind]:
    return [k for k in KINDS if k.group == group and version in k.versions]

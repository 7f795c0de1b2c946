"""The resources an embedded API server serves: names, versions, scope, verbs.

`key` is the store's resource name ("pods", "deployments.apps"). Objects are
stored in `storage` version; the API layer converts on the way in and out.

`BUILTIN` are the kinds every cluster serves (constants). Each Cluster has its
own `Catalogue` starting from them; kinds added at run time (an aggregated API
such as metrics.k8s.io, custom resources) go into that cluster's catalogue
only, so two clusters in one process never see each other's kinds.

A kind with a `Provider` is computed, not stored (as an aggregated API server's
kinds are): its get/list come from the provider, which may also say the API is
unavailable (the 503 the aggregator gives when an APIService has no backend).
"""

from dataclasses import dataclass
from typing import Iterable, Protocol

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
    # DELETE answers with the object, not a Status (the registry's ReturnDeletedObject)
    returns_deleted: bool = False

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


class Provider(Protocol):
    """Where a computed kind's objects come from (in the kind's served form)."""

    def unavailable(self) -> str | None:
        """None when serving; else why not (the API answers 503 with it)."""

    def list(self, namespace: str | None) -> Iterable[dict]:
        """Objects in name order within namespace; namespace None: all."""

    def get(self, namespace: str, name: str) -> dict | None:
        ...

    def not_found(self, namespace: str, name: str) -> str:
        """The 404 message for a name it does not have, as its server words it."""


_ALL = ("all",)
_ISTIO = ("v1", "v1beta1", "v1alpha3")

BUILTIN: tuple[Kind, ...] = (
    Kind("namespaces", "Namespace", "", ("v1",), False, ("ns",), ("status", "finalize"),
         returns_deleted=True),
    Kind("nodes", "Node", "", ("v1",), False, ("no",), ("status",)),
    Kind("pods", "Pod", "", ("v1",), True, ("po",), ("status", "log", "exec", "portforward"), _ALL,
         returns_deleted=True),
    Kind("services", "Service", "", ("v1",), True, ("svc",), ("status",), _ALL,
         returns_deleted=True),
    Kind("endpoints", "Endpoints", "", ("v1",), True, ("ep",)),
    Kind("events", "Event", "", ("v1",), True, ("ev",)),
    Kind("configmaps", "ConfigMap", "", ("v1",), True, ("cm",)),
    Kind("secrets", "Secret", "", ("v1",), True),
    Kind("serviceaccounts", "ServiceAccount", "", ("v1",), True, ("sa",)),
    Kind("deployments", "Deployment", "apps", ("v1",), True, ("deploy",), ("scale", "status"), _ALL),
    Kind("replicasets", "ReplicaSet", "apps", ("v1",), True, ("rs",), ("scale", "status"), _ALL),
    Kind("daemonsets", "DaemonSet", "apps", ("v1",), True, ("ds",), ("status",), _ALL),
    Kind("controllerrevisions", "ControllerRevision", "apps", ("v1",), True),
    Kind("jobs", "Job", "batch", ("v1",), True, (), ("status",), _ALL),
    Kind("cronjobs", "CronJob", "batch", ("v1",), True, ("cj",), ("status",), _ALL),
    Kind("horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling", ("v2", "v1"),
         True, ("hpa",), ("status",), _ALL, storage="v2"),
    Kind("endpointslices", "EndpointSlice", "discovery.k8s.io", ("v1",), True),
    Kind("leases", "Lease", "coordination.k8s.io", ("v1",), True),
    # stored as a cluster stores them (add-on manifests carry them); who may do what is
    # authz.py's, from `kubelab cluster --user`, not these objects
    Kind("clusterroles", "ClusterRole", "rbac.authorization.k8s.io", ("v1",), False),
    Kind("clusterrolebindings", "ClusterRoleBinding", "rbac.authorization.k8s.io", ("v1",), False),
    Kind("roles", "Role", "rbac.authorization.k8s.io", ("v1",), True),
    Kind("rolebindings", "RoleBinding", "rbac.authorization.k8s.io", ("v1",), True),
    # aggregated API servers behind the API server (metrics-server's v1beta1.metrics.k8s.io)
    Kind("apiservices", "APIService", "apiregistration.k8s.io", ("v1",), False, (),
         ("status",), ("api-extensions",)),
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
)


class Catalogue:
    """One cluster's kinds, in registration order (discovery lists groups in
    first-seen order, as the real server keeps its group priority stable)."""

    def __init__(self, builtin: Iterable[Kind] = BUILTIN):
        self._kinds: list[Kind] = []
        self._by_path: dict[tuple[str, str, str], Kind] = {}
        self._by_key: dict[str, Kind] = {}
        self._providers: dict[str, Provider] = {}
        for k in builtin:
            self.register(k)

    def register(self, kind: Kind, provider: Provider | None = None) -> None:
        old = self._by_key.get(kind.key)
        if old is not None and old != kind:
            self.unregister(kind.key)
        if kind not in self._kinds:
            self._kinds.append(kind)
        self._by_key[kind.key] = kind
        for v in kind.versions:
            self._by_path[(kind.group, v, kind.resource)] = kind
        if provider is not None:
            self._providers[kind.key] = provider

    def unregister(self, key: str) -> None:
        kind = self._by_key.pop(key, None)
        if kind is None:
            return
        self._kinds.remove(kind)
        self._providers.pop(key, None)
        for v in kind.versions:
            self._by_path.pop((kind.group, v, kind.resource), None)

    def __iter__(self):
        return iter(list(self._kinds))

    def provider(self, key: str) -> Provider | None:
        return self._providers.get(key)

    def lookup(self, group: str, version: str, resource: str) -> Kind | None:
        return self._by_path.get((group, version, resource))

    def by_key(self, key: str) -> Kind | None:
        return self._by_key.get(key)

    def by_kind(self, api_version: str, kind: str) -> Kind | None:
        group, _, version = api_version.rpartition("/")
        for k in self._kinds:
            if k.group == group and k.kind == kind and version in k.versions:
                return k
        return None

    def groups(self) -> dict[str, list[str]]:
        """group -> served versions (preferred first), in first-seen order."""
        out: dict[str, list[str]] = {}
        for k in self._kinds:
            vs = out.setdefault(k.group, [])
            for v in k.versions:
                if v not in vs:
                    vs.append(v)
        return out

    def in_version(self, group: str, version: str) -> list[Kind]:
        return [k for k in self._kinds if k.group == group and version in k.versions]

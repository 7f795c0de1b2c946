"""Which DestinationRule and VirtualService apply to a request, as istiod works it out.

Hosts: a name without a dot is short for <name>.<rule's namespace>.svc.cluster.local;
anything with a dot is taken as written (istiod's ResolveShortnameToFQDN, so
"reviews.prod" matches nothing; write reviews.prod.svc.cluster.local); "*" and
"*.suffix" are wildcards, the most specific match wins over a wider one.

Visibility (exportTo, default "*") and precedence as a sidecar sees them: rules in
the client's own namespace, then in the Service's namespace, then the root
namespace istio-system, then any other. Several DestinationRules for one host in
one namespace merge as istiod merges them (the oldest's trafficPolicy, subsets
added in age order, a duplicate subset name ignored); a DestinationRule with a
workloadSelector applies only to the workloads it selects. For VirtualServices
the first by that precedence (then age) wins.

Policies: TrafficPolicy for (subset, port) merges as istiod's
MergeSubsetTrafficPolicy: the DR's port-level settings replace its top level for
that port (no inheritance), then the subset's blocks replace the DR's.
"""

from console.embedded.controllers.base import map_matches

DOMAIN = "svc.cluster.local"
ROOT = "istio-system"
DR = "destinationrules.networking.istio.io"
VS = "virtualservices.networking.istio.io"


def resolve(host: str, namespace: str) -> str:
    host = (host or "").strip().lower()
    if not host or host == "*" or "." in host:
        return host.rstrip(".")
    return f"{host}.{namespace}.{DOMAIN}"


def host_matches(pattern: str, fqdn: str) -> int:
    """0: no match; otherwise larger for a more specific match."""
    if pattern == fqdn:
        return 10_000
    if pattern == "*":
        return 1
    if pattern.startswith("*.") and fqdn.endswith(pattern[1:]):
        return len(pattern)
    return 0


def visible(obj: dict, client_ns: str) -> bool:
    export = (obj.get("spec") or {}).get("exportTo") or ["*"]
    own = obj["metadata"].get("namespace") or "default"
    return any(e == "*" or e == client_ns or (e == "." and own == client_ns) for e in export)


def _rank(obj: dict, client_ns: str, service_ns: str) -> tuple:
    ns = obj["metadata"].get("namespace") or "default"
    order = 0 if ns == client_ns else 1 if ns == service_ns else 2 if ns == ROOT else 3
    return (order, obj["metadata"].get("creationTimestamp") or "", obj["metadata"].get("name"))


class MeshConfig:
    """Reads the stored rules; an index per kind rebuilt when one of them changes."""

    def __init__(self, store):
        self.store = store
        self.version = 0
        self._built = -1
        self._dr: list[tuple[str, dict]] = []     # (resolved host, rule)
        self._vs: list[tuple[str, dict]] = []

    def changed(self) -> None:
        self.version += 1

    def _index(self) -> None:
        if self._built == self.version:
            return
        self._built = self.version
        self._dr = []
        for obj in self.store.scan(DR):
            spec = obj.get("spec") or {}
            ns = obj["metadata"].get("namespace") or "default"
            if isinstance(spec, dict) and isinstance(spec.get("host"), str):
                self._dr.append((resolve(spec["host"], ns), obj))
        self._vs = []
        for obj in self.store.scan(VS):
            spec = obj.get("spec") or {}
            ns = obj["metadata"].get("namespace") or "default"
            gateways = spec.get("gateways") or ["mesh"]
            if not isinstance(spec, dict) or "mesh" not in gateways:
                continue
            for host in spec.get("hosts") or []:
                if isinstance(host, str):
                    self._vs.append((resolve(host, ns), obj))

    # -- DestinationRule -------------------------------------------------------------
    def destination_rule(self, client_ns: str, client_labels: dict | None, fqdn: str) -> dict | None:
        """The merged DestinationRule spec for fqdn as this client sees it, or None."""
        self._index()
        service_ns = fqdn.split(".")[1] if fqdn.count(".") >= 1 else client_ns
        found = []
        for pattern, obj in self._dr:
            score = host_matches(pattern, fqdn)
            if not score or not visible(obj, client_ns):
                continue
            selector = ((obj.get("spec") or {}).get("workloadSelector") or {}).get("matchLabels")
            if selector is not None:
                if client_labels is None or (obj["metadata"].get("namespace") or "default") != client_ns \
                        or not map_matches(selector, client_labels):
                    continue
            found.append((-score, _rank(obj, client_ns, service_ns), obj))
        if not found:
            return None
        found.sort(key=lambda t: (t[0], t[1]))
        best_score, (best_ns, *_), _ = found[0][0], found[0][1], found[0][2]
        same = [obj for score, rank, obj in found if score == best_score and rank[0] == best_ns]
        return merge_rules(same)

    # -- VirtualService --------------------------------------------------------------
    def virtual_service(self, client_ns: str, fqdn: str) -> dict | None:
        """The VirtualService object routing fqdn for this client, or None."""
        self._index()
        service_ns = fqdn.split(".")[1] if fqdn.count(".") >= 1 else client_ns
        found = [(-host_matches(p, fqdn), _rank(obj, client_ns, service_ns), obj)
                 for p, obj in self._vs if host_matches(p, fqdn) and visible(obj, client_ns)]
        if not found:
            return None
        found.sort(key=lambda t: (t[0], t[1]))
        return found[0][2]


def merge_rules(rules: list[dict]) -> dict:
    """Several DestinationRules for one host in one namespace, as istiod merges them."""
    first = dict(rules[0].get("spec") or {})
    policy = first.get("trafficPolicy")
    subsets = [s for s in first.get("subsets") or [] if isinstance(s, dict)]
    names = {s.get("name") for s in subsets}
    for obj in rules[1:]:
        spec = obj.get("spec") or {}
        if policy is None and spec.get("trafficPolicy"):
            policy = spec["trafficPolicy"]
        for s in spec.get("subsets") or []:
            if isinstance(s, dict) and s.get("name") not in names:
                subsets.append(s)
                names.add(s.get("name"))
    first["trafficPolicy"] = policy
    first["subsets"] = subsets
    return first


BLOCKS = ("connectionPool", "outlierDetection", "loadBalancer", "tls")


def port_policy(policy: dict | None, port: int) -> tuple[dict | None, bool]:
    """The policy for one Service port: a portLevelSettings entry replaces the top level."""
    if not isinstance(policy, dict):
        return None, False
    for entry in policy.get("portLevelSettings") or []:
        if isinstance(entry, dict) and ((entry.get("port") or {}).get("number")) == port:
            return {k: entry[k] for k in BLOCKS if k in entry}, True
    return policy, False


def traffic_policy(rule: dict | None, subset: str | None, port: int) -> dict:
    """The effective TrafficPolicy for (subset, port); {} when nothing applies."""
    if rule is None:
        return {}
    merged, _ = port_policy(rule.get("trafficPolicy"), port)
    merged = dict(merged or {})
    sub = subset_of(rule, subset)
    if sub is None or not isinstance(sub.get("trafficPolicy"), dict):
        return merged
    own, port_level = port_policy(sub["trafficPolicy"], port)
    for key in BLOCKS:
        if key in own or port_level:
            merged[key] = own.get(key)
    return {k: v for k, v in merged.items() if v is not None}


def subset_of(rule: dict | None, name: str | None) -> dict | None:
    if rule is None or not name:
        return None
    return next((s for s in rule.get("subsets") or [] if s.get("name") == name), None)

"""The EndpointSlice reconciler (k8s.io/endpointslice reconciler.go), for one
Service's IPv4 slices: existing slices are kept, so one pod's change touches one.

- Slices are grouped by their port set; a group no pod wants any more is deleted.
- 1. In each existing slice, endpoints still wanted are updated in place (same
  position), the others dropped; a slice left empty is deleted, a changed one updated.
- 2. The endpoints left (new pods) fill the slices already being updated, fullest first.
- 3. What is still left goes into the unchanged slice it leaves closest to full
  (getSliceToFill, only when fewer than maxEndpointsPerSlice are left), else into
  new slices of up to 100.
- A Service with no endpoints keeps one placeholder slice (no ports, no endpoints).
- finalize: a slice to create and one to delete become one update of the latter.

An endpoint is the same endpoint (updated in place, never moved) while its pod's
namespace/name, addresses and hostname stay (endpointset.go's hash). Where the Go
code picks "any" (a map's order), this picks by IP, fullest slice, then name, so a
run can be repeated.
"""

from typing import Callable, NamedTuple

from console.embedded.store import NotFound

SLICES = "endpointslices.discovery.k8s.io"
MANAGED_BY = "endpointslice-controller.k8s.io"
PER_SLICE = 100
TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"
RESERVED = ("kubernetes.io/service-name", "endpointslice.kubernetes.io/managed-by",
            "service.kubernetes.io/headless")


class Want(NamedTuple):
    """One endpoint the Service wants: its identity, where it sorts, and the
    Endpoint dict itself (it goes into stored slices as it is: never change it)."""
    ident: tuple
    order: tuple
    endpoint: dict


def ident_of(ep: dict) -> tuple:
    """endpointset.go hashEndpoint: addresses, hostname, targetRef namespace/name."""
    ref = ep.get("targetRef") or {}
    return (tuple(sorted(ep.get("addresses") or ())), ep.get("hostname") or "",
            ref.get("namespace") or "", ref.get("name") or "")


def port_key(ports) -> tuple:
    """endpointsliceutil.NewPortMapKey: the port set, in any order."""
    return tuple(sorted((p.get("name") or "", p.get("port"), p.get("protocol") or "TCP")
                        for p in ports or ()))


def slice_labels(svc: dict) -> dict:
    """setEndpointSliceLabels: the Service's labels but the reserved ones, then those."""
    labels = {k: v for k, v in (svc["metadata"].get("labels") or {}).items() if k not in RESERVED}
    if svc["spec"].get("clusterIP") in ("None", "", None):
        labels["service.kubernetes.io/headless"] = ""
    labels["kubernetes.io/service-name"] = svc["metadata"]["name"]
    labels["endpointslice.kubernetes.io/managed-by"] = MANAGED_BY
    return labels


def _own_labels(labels: dict | None) -> dict:
    return {k: v for k, v in (labels or {}).items() if k not in RESERVED}


class Wanted:
    """What one Service wants in its slices, kept across syncs as its pods change:
    port key -> ident -> Want, and port key -> the id of each of those Wants'
    endpoint dicts -> its ident (the stored slices hold those very dicts once
    written: found by identity, they need neither a hash nor a comparison)."""

    def __init__(self):
        self.groups: dict[tuple, dict[tuple, Want]] = {}
        self.mine: dict[tuple, dict[int, tuple]] = {}

    def add(self, ports: tuple, w: Want) -> None:
        group, mine = self.groups.setdefault(ports, {}), self.mine.setdefault(ports, {})
        prev = group.get(w.ident)
        if prev is not None:
            del mine[id(prev.endpoint)]
        group[w.ident] = w
        mine[id(w.endpoint)] = w.ident

    def drop(self, ports: tuple, w: Want) -> None:
        group = self.groups.get(ports)
        if group is None or group.get(w.ident) is not w:
            return
        del group[w.ident]
        del self.mine[ports][id(w.endpoint)]   # w is alive: no other object has its id
        if not group:
            del self.groups[ports], self.mine[ports]


class Plan(NamedTuple):
    create: list   # (ports, endpoints) of a new slice
    update: list   # (existing slice, ports, endpoints)
    delete: list   # existing slices


def plan(svc: dict, existing: list[dict], wanted: Wanted, per_slice: int = PER_SLICE) -> Plan:
    """reconcileByAddressType + finalize's create-to-update swap (wanted is only
    read). Ports are the port key's dicts."""
    by_ports: dict[tuple, list[dict]] = {}
    for s in sorted(existing, key=lambda s: s["metadata"]["name"]):
        by_ports.setdefault(port_key(s.get("ports")), []).append(s)
    labels = slice_labels(svc)
    create, update, delete = [], [], []
    for key in sorted(wanted.groups):
        c, u, d = _by_port_mapping(by_ports.get(key, []), wanted.groups[key], wanted.mine[key],
                                   per_slice, labels)
        # a pod none of whose ports resolve still has an endpoint, in a slice of no ports
        ports = [{"name": n, "port": p, "protocol": pr} for n, p, pr in key] or None
        create += [(ports, eps) for eps in c]
        update += [(s, ports, eps) for s, eps in u]
        delete += d
    for key, slices in by_ports.items():
        if key not in wanted.groups:
            delete += slices
    if len(delete) == len(existing) and not create:
        # the placeholder: kept if it is the one slice about to go, else made
        if len(delete) == 1 and not delete[0].get("ports") and not delete[0].get("endpoints") \
                and delete[0]["metadata"].get("labels") == labels:
            delete = []
        else:
            create.append((None, []))
    while create and delete:
        ports, eps = create.pop()
        update.append((delete.pop(0), ports, eps))
    return Plan(create, update, delete)


def _by_port_mapping(slices: list[dict], want: dict[tuple, Want], mine: dict[int, tuple],
                     per_slice: int, labels: dict) -> tuple[list, list, list]:
    """reconcileByPortMapping: (endpoint lists to create, (slice, endpoints) to
    update, slices to delete) for one port set."""
    changed: dict[str, tuple[dict, list]] = {}
    unchanged: list[tuple[dict, list]] = []
    delete = []
    placed: set[int] = set()   # wanted endpoints found in a slice (desiredSet.Delete), by id
    own = _own_labels(labels)
    for s in slices:
        old = s.get("endpoints") or []
        relabel = _own_labels(s["metadata"].get("labels")) != own
        ids = list(map(id, old))
        idents = list(map(mine.get, ids))
        if None not in idents and placed.isdisjoint(ids) and len(set(ids)) == len(ids):
            # every endpoint the very dict wanted: nothing to change
            placed.update(ids)
            if relabel:
                changed[s["metadata"]["name"]] = (s, list(old))
            else:
                unchanged.append((s, old))
            continue
        kept, updated = [], False
        for ep, ident in zip(old, idents):
            got = want.get(ident if ident is not None else ident_of(ep))
            if got is not None and id(got.endpoint) not in placed:
                placed.add(id(got.endpoint))
                kept.append(got.endpoint)
                if got.endpoint is not ep and got.endpoint != ep:
                    updated = True
        if updated or len(kept) != len(old):
            if kept:
                changed[s["metadata"]["name"]] = (s, kept)
            else:
                delete.append(s)
        elif relabel:
            changed[s["metadata"]["name"]] = (s, kept)
        else:
            unchanged.append((s, kept))
    left = [] if len(placed) == len(want) else \
        sorted((w for w in want.values() if id(w.endpoint) not in placed), key=lambda w: w.order)
    left.reverse()   # popped from the end: lowest IP first
    if left and changed:
        for _, eps in sorted(changed.values(), key=lambda c: -len(c[1])):
            while left and len(eps) < per_slice:
                eps.append(left.pop().endpoint)
    create = []
    while left:
        fill = None
        if len(left) < per_slice and unchanged:
            fill = _slice_to_fill(unchanged, len(left), per_slice)
        if fill is None:
            eps = []
            create.append(eps)
        else:
            unchanged.remove(fill)
            eps = list(fill[1])
            changed[fill[0]["metadata"]["name"]] = (fill[0], eps)
        while left and len(eps) < per_slice:
            eps.append(left.pop().endpoint)
    return create, list(changed.values()), delete


def _slice_to_fill(slices: list[tuple[dict, list]], n: int, per_slice: int):
    """getSliceToFill: the slice that n more endpoints leave closest to full."""
    best, closest = None, per_slice
    for pair in slices:
        diff = per_slice - (n + len(pair[1]))
        if 0 <= diff < closest:
            best, closest = pair, diff
            if diff == 0:
                break
    return best


def apply(registry, svc: dict, p: Plan, stamp: Callable[[], str]) -> int:
    """finalize: the creates (none while the Service is being deleted), updates and
    deletes of a plan; returns how many writes it made."""
    ns, name = svc["metadata"].get("namespace") or "", svc["metadata"]["name"]
    labels = slice_labels(svc)
    writes = 0
    if not svc["metadata"].get("deletionTimestamp"):
        for ports, eps in p.create:
            obj = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                   "metadata": {"generateName": f"{name}-", "namespace": ns, "labels": labels,
                                "annotations": {TRIGGER: stamp()},
                                "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name,
                                                     "uid": svc["metadata"]["uid"], "controller": True,
                                                     "blockOwnerDeletion": True}]},
                   "addressType": "IPv4", "endpoints": eps}
            if ports is not None:
                obj["ports"] = ports
            registry.create(SLICES, obj, owned=True)   # given away: its endpoints stay ours to find by identity
            writes += 1
    for s, ports, eps in p.update:
        def fn(obj, ports=ports, eps=eps):
            obj["endpoints"] = eps   # shared with no one who changes it: stored objects never are
            if ports is None:
                obj.pop("ports", None)
            else:
                obj["ports"] = ports
            meta = obj["metadata"]
            meta["labels"] = labels
            meta["annotations"] = {**(meta.get("annotations") or {}), TRIGGER: stamp()}
        registry.mutate(SLICES, ns, s["metadata"]["name"], fn, shallow=True)
        writes += 1
    for s in p.delete:
        try:
            registry.delete(SLICES, ns, s["metadata"]["name"])
        except NotFound:
            pass
        writes += 1
    return writes

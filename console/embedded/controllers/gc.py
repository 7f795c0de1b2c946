"""Garbage collector: follows metadata.ownerReferences for every kind.

- An object whose owners are all gone is deleted (background propagation; its
  own finalizers decide how its dependents go in turn).
- An owner deleted with propagationPolicy=Foreground carries the
  foregroundDeletion finalizer: its dependents are deleted first, and the
  finalizer is removed once no dependent with blockOwnerDeletion remains.
- An owner deleted with propagationPolicy=Orphan carries the orphan finalizer:
  its dependents lose their reference to it, then the finalizer is removed.
Objects that still have a live owner only lose references to gone owners.
"""

from console.embedded.controllers.base import Informer, WorkQueue, key_of, owner_refs, terminating
from console.embedded.store import Conflict, NotFound

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


def finalizers(obj: dict) -> list[str]:
    return obj["metadata"].get("finalizers") or []


def set_refs(obj: dict, refs: list[dict]) -> None:
    if refs:
        obj["metadata"]["ownerReferences"] = refs
    else:
        obj["metadata"].pop("ownerReferences", None)  # omitted when empty, as k8s serves it


def deleting_dependents(obj: dict) -> bool:
    return terminating(obj) and FOREGROUND in finalizers(obj)


class GarbageCollector:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "garbage-collector", self.sync)
        informer.on(None, self._on_event)
        for res, buckets in list(informer.objs.items()):
            for bucket in list(buckets.values()):
                for obj in list(bucket.values()):
                    self._check(res, obj)

    def _check(self, res: str, obj: dict) -> None:
        ns, name = key_of(obj)
        if terminating(obj) and (FOREGROUND in finalizers(obj) or ORPHAN in finalizers(obj)):
            self.queue.add(("owner", res, ns, name))
        if any(self.inf.by_uid(r.get("uid", "")) is None for r in owner_refs(obj)):
            self.queue.add(("dependent", res, ns, name))

    def _on_event(self, ev) -> None:
        obj = ev.obj
        uid = obj["metadata"].get("uid", "")
        if ev.type == "DELETED":
            for dep_res, dep in self.inf.dependents(uid):
                self.queue.add(("dependent", dep_res, *key_of(dep)))
        else:
            self._check(ev.res, obj)
        # A dependent that went away or let go may unblock a foreground owner.
        changed = ev.type == "DELETED" or (ev.old is not None and (
            owner_refs(ev.old) != owner_refs(obj) or terminating(ev.old) != terminating(obj)))
        if changed:
            for ref in owner_refs(ev.old or obj):
                found = self.inf.by_uid(ref.get("uid", ""))
                if found is not None:
                    owner = self.inf.get(*found)
                    if owner is not None and deleting_dependents(owner):
                        self.queue.add(("owner", *found))

    async def sync(self, key) -> None:
        kind, res, ns, name = key
        obj = self.inf.get(res, ns, name)
        if obj is None:
            return
        if kind == "owner":
            self._process_owner(res, obj)
        else:
            self._process_dependent(res, obj)

    # -- dependents ---------------------------------------------------------------
    def _process_dependent(self, res: str, obj: dict) -> None:
        if terminating(obj) and not deleting_dependents(obj):
            return
        solid, gone, waiting = [], set(), False
        for ref in owner_refs(obj):
            found = self.inf.by_uid(ref.get("uid", ""))
            owner = self.inf.get(*found) if found else None
            if owner is None:
                gone.add(ref.get("uid"))
            elif deleting_dependents(owner):
                gone.add(ref.get("uid"))
                waiting = True
            else:
                solid.append(ref)
        if not gone:
            return
        ns, name = key_of(obj)
        if solid:
            def drop(o):
                refs = [r for r in owner_refs(o) if r.get("uid") not in gone]
                if refs == owner_refs(o):
                    return False
                set_refs(o, refs)
            self.cluster.registry.mutate(res, ns, name, drop)
            return
        if waiting and self.inf.dependents(obj["metadata"].get("uid", "")):
            policy = "Foreground"  # the owner waits for the whole tree below it
        elif ORPHAN in finalizers(obj):
            policy = "Orphan"
        elif FOREGROUND in finalizers(obj):
            policy = "Foreground"
        else:
            policy = "Background"
        try:
            self.cluster.registry.delete(res, ns, name, propagation=policy)
        except NotFound:
            pass

    # -- owners being deleted ------------------------------------------------------
    def _process_owner(self, res: str, obj: dict) -> None:
        uid = obj["metadata"].get("uid", "")
        ns, name = key_of(obj)
        if ORPHAN in finalizers(obj):
            for dep_res, dep in self.inf.dependents(uid):
                def release(o):
                    refs = [r for r in owner_refs(o) if r.get("uid") != uid]
                    if refs == owner_refs(o):
                        return False
                    set_refs(o, refs)
                self.cluster.registry.mutate(dep_res, *key_of(dep), release)
            self._drop_finalizer(res, ns, name, ORPHAN)
            return
        if FOREGROUND not in finalizers(obj):
            return
        blocking = []
        for dep_res, dep in self.inf.dependents(uid):
            ref = next((r for r in owner_refs(dep) if r.get("uid") == uid), {})
            if ref.get("blockOwnerDeletion"):
                blocking.append((dep_res, dep))
            if not terminating(dep) or deleting_dependents(dep):
                self.queue.add(("dependent", dep_res, *key_of(dep)))
        if not blocking:
            self._drop_finalizer(res, ns, name, FOREGROUND)

    def _drop_finalizer(self, res: str, ns: str, name: str, finalizer: str) -> None:
        def fn(o):
            if finalizer not in finalizers(o):
                return False
            o["metadata"]["finalizers"] = [f for f in finalizers(o) if f != finalizer]
        try:
            self.cluster.registry.mutate(res, ns, name, fn)
        except (NotFound, Conflict):
            self.queue.add(("owner", res, ns, name))

"""Admission in front of the store: what the API server does to every write.

Both the REST layer and the controllers write through here, so a pod created by
the ReplicaSet controller is defaulted exactly like one sent by kubectl. The
hooks (defaulting, mutating admission, validation, allocation) are this
registry's own `admission` (admission.py): one cluster's hooks are not another's.
"""

import random
import uuid
from datetime import timedelta
from typing import Callable

from console.embedded import defaults, validation
from console.embedded.admission import Admission, Denied, Forbidden, Invalid
from console.embedded.clock import Clock
from console.embedded.store import Conflict, NotFound, Store, clone

__all__ = ["Registry", "Invalid", "Forbidden", "Denied", "builtin_admission", "random_suffix"]

# Kinds whose status is written only through the /status subresource.
STATUS_SUBRESOURCE = {
    "pods", "services", "namespaces", "nodes", "deployments.apps", "replicasets.apps",
    "horizontalpodautoscalers.autoscaling",
    "destinationrules.networking.istio.io", "virtualservices.networking.istio.io",
    "apiservices.apiregistration.k8s.io", "daemonsets.apps", "jobs.batch", "cronjobs.batch",
}
# Kinds with a .spec whose changes bump metadata.generation.
GENERATION = {"deployments.apps", "replicasets.apps", "horizontalpodautoscalers.autoscaling",
              "daemonsets.apps", "jobs.batch", "cronjobs.batch",
              "destinationrules.networking.istio.io", "virtualservices.networking.istio.io"}

_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"  # what k8s utilrand uses: no vowels, no 0/1/3


def builtin_admission() -> Admission:
    """A fresh set of the built-in hooks (one per Registry)."""
    a = Admission()
    for phase, table in (("default", defaults.DEFAULTERS), ("validate", validation.VALIDATORS),
                         ("allocate", defaults.ALLOCATORS)):
        for res, fn in table.items():
            a.add(phase, res, fn)
    return a


def random_suffix(n: int = 5) -> str:
    return "".join(random.choice(_SUFFIX) for _ in range(n))


class Registry:
    def __init__(self, store: Store, clock: Clock, admission: Admission | None = None):
        self.store = store
        self.clock = clock
        self.admission = admission if admission is not None else builtin_admission()

    # -- reads (copies) ----------------------------------------------------
    def get(self, res: str, namespace: str, name: str) -> dict | None:
        return self.store.get(res, namespace, name)

    def list(self, res: str, namespace: str | None = None) -> list[dict]:
        return self.store.list(res, namespace)

    def scan(self, res: str, namespace: str | None = None):
        """Read-only view (do not mutate), see Store.scan."""
        return self.store.scan(res, namespace)

    # -- writes --------------------------------------------------------------
    def create(self, res: str, obj: dict, dry_run: bool = False,
               warnings: "list[str] | None" = None, owned: bool = False) -> dict:
        """owned: obj is the caller's to give away (a controller's fresh pod, an
        event), not copied, and the stored object comes back (read-only)."""
        if not owned:
            obj = clone(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + random_suffix()
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.clock.stamp()
        meta.pop("resourceVersion", None)
        meta.pop("deletionTimestamp", None)
        if res in GENERATION:
            meta["generation"] = 1
        if res in STATUS_SUBRESOURCE:
            obj.pop("status", None)
        ns = meta.get("namespace")
        if ns and res not in ("namespaces", "events"):
            owner = self.store.peek("namespaces", "", ns)
            if owner is not None and owner["metadata"].get("deletionTimestamp"):
                raise Forbidden(f'{res.split(".")[0]} "{meta.get("name", "")}" is forbidden: '
                                f"unable to create new content in namespace {ns} because it "
                                "is being terminated")
        self._admit(res, obj, None, warnings)
        if dry_run:
            return obj
        for attempt in range(8):
            try:
                stored = self.store.create(res, obj, owned=True)
                return stored if owned else clone(stored)
            except Conflict:
                # a generated name that collides is retried, as the API server does since 1.32
                if not meta.get("generateName") or attempt == 7:
                    raise
                meta["name"] = meta["generateName"] + random_suffix()

    def update(self, res: str, obj: dict, subresource: str | None = None,
               dry_run: bool = False, warnings: "list[str] | None" = None,
               owned: bool = False) -> dict:
        """Full replace (PUT). subresource "status" changes only .status.
        owned: obj is ours to keep (mutate's own copy), not copied again, and the
        stored object comes back (read-only)."""
        meta = obj.get("metadata", {})
        # read-only: nothing below changes `old` or anything `new` shares with it
        old = self.store.peek(res, meta.get("namespace") or "", meta.get("name", ""))
        if old is None:
            raise NotFound(f'{res} "{meta.get("name")}" not found')
        new = obj if owned else clone(obj)
        if subresource in ("status", "finalize"):
            status = new.get("status")
            new = dict(old)       # a status write shares the rest with the stored object
            new["metadata"] = dict(old["metadata"])
            new["status"] = status
            new["metadata"]["resourceVersion"] = meta.get("resourceVersion") or old["metadata"]["resourceVersion"]
        else:
            if "managedFields" not in new["metadata"] and "managedFields" in old["metadata"]:
                new["metadata"]["managedFields"] = clone(old["metadata"]["managedFields"])
            for k in ("uid", "creationTimestamp", "generation", "deletionTimestamp",
                      "deletionGracePeriodSeconds"):
                # the client may not move these (finalizers it may)
                if k in old["metadata"]:
                    new["metadata"][k] = old["metadata"][k]
                else:
                    new["metadata"].pop(k, None)
            if res in STATUS_SUBRESOURCE and "status" in old:
                new["status"] = clone(old["status"])   # admission may default in place
            if res in GENERATION and new.get("spec") != old.get("spec"):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
            self._admit(res, new, old, warnings)
        if subresource == "finalize":
            new = clone(old)
            new.setdefault("spec", {})["finalizers"] = (obj.get("spec") or {}).get("finalizers") or []
            new["metadata"]["resourceVersion"] = meta.get("resourceVersion") or old["metadata"]["resourceVersion"]
        if dry_run:
            return clone(new)
        stored = self._finish_if_final(res, self.store.update(res, new, owned=True))
        return stored if owned else clone(stored)

    def mutate(self, res: str, namespace: str, name: str, fn: Callable[[dict], object],
               subresource: str | None = None, shallow: bool = False) -> dict | None:
        """Read-modify-write for controllers: fn edits the object in place.

        Returns the stored object (read-only: copy it to change it), or None when
        it does not exist (any more). fn returning False means "nothing to change".
        With subresource "status" fn gets a copy of the status only, the rest shared
        with the stored object (read it, never change it: the write takes .status).
        shallow: fn replaces what it changes, never edits it in place (the object
        and its metadata are copies, the rest is shared: a 1,000-address Endpoints
        rewritten whole need not be copied first).
        """
        for _ in range(5):
            if subresource == "status" or shallow:
                obj = self._view(res, namespace, name, subresource == "status")
            else:
                obj = self.store.get(res, namespace, name)
            if obj is None:
                return None
            if fn(obj) is False:
                return obj
            try:
                return self.update(res, obj, subresource=subresource, owned=True)
            except Conflict:
                continue
        raise Conflict(f'{res} "{name}": too many conflicts', "Conflict")

    def bind(self, namespace: str, name: str, uid: str, node: str) -> dict | None:
        """The pods/binding subresource, as kube-apiserver's BindingREST
        (setPodHostAndAnnotations): one update of the pod of that uid sets spec.nodeName
        and the PodScheduled condition True (UpdatePodCondition: replaced where it
        stood, reason and message cleared, or appended), so a watcher sees one
        MODIFIED; with no admission of a pod update (a Binding is admitted, not the
        pod). Returns the stored pod (read-only), or None when it is gone, another
        pod now, being deleted, gated, or bound already."""
        old = self.store.peek("pods", namespace, name)
        if old is None or old["metadata"].get("uid") != uid or old["metadata"].get("deletionTimestamp"):
            return None
        spec = old.get("spec") or {}
        if spec.get("nodeName") or spec.get("schedulingGates"):
            return None
        status = dict(old.get("status") or {})
        conds = list(status.get("conditions") or [])
        cond = {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                "lastTransitionTime": self.clock.stamp()}
        at = next((i for i, c in enumerate(conds) if c.get("type") == "PodScheduled"), None)
        if at is None:
            conds.append(cond)
        else:
            if conds[at].get("status") == "True":
                cond["lastTransitionTime"] = conds[at].get("lastTransitionTime")
            conds[at] = cond
        status["conditions"] = conds
        new = dict(old, spec=dict(spec, nodeName=node), status=status)
        new["metadata"] = dict(old["metadata"])
        return self.store.update("pods", new, owned=True)

    def _view(self, res: str, namespace: str, name: str, status: bool) -> dict | None:
        stored = self.store.peek(res, namespace, name)
        if stored is None:
            return None
        obj = dict(stored)
        obj["metadata"] = dict(stored["metadata"])
        if status and "status" in stored:
            obj["status"] = clone(stored["status"])
        return obj

    def delete(self, res: str, namespace: str, name: str, grace_seconds: int | None = None,
               propagation: str | None = None, dry_run: bool = False) -> dict:
        """Delete, as the real registry does.

        Pods: grace None means spec.terminationGracePeriodSeconds; a scheduled,
        non-terminal pod with grace > 0 only gets metadata.deletionTimestamp and
        deletionGracePeriodSeconds (it shows Terminating); the kubelet finishes
        with grace_seconds=0. propagation Foreground/Orphan adds the
        foregroundDeletion/orphan finalizer for the garbage collector. Namespaces
        go Terminating (spec.finalizers ["kubernetes"]); the namespace controller
        empties them and clears spec.finalizers. An object with finalizers stays
        (with a deletionTimestamp) until an update leaves them empty.
        Returns the object as stored now, or as it was when removed.
        """
        obj = self.store.get(res, namespace, name)
        if obj is None:
            raise NotFound(f'{res} "{name}" not found')
        if res == "namespaces" and name in ("default", "kube-system", "kube-public"):
            raise Forbidden(f'namespaces "{name}" is forbidden: this namespace may not be deleted')
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        elif propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        grace = 0
        if res == "pods":
            if grace_seconds is None:
                grace_seconds = (obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
            phase = (obj.get("status") or {}).get("phase")
            if (obj.get("spec") or {}).get("nodeName") and phase not in ("Succeeded", "Failed"):
                grace = max(0, int(grace_seconds or 0))
        if res == "namespaces":
            spec = obj.setdefault("spec", {})
            if meta.get("deletionTimestamp") is None:
                spec["finalizers"] = ["kubernetes"]
            obj.setdefault("status", {})["phase"] = "Terminating"
        pending = finalizers or (res == "namespaces" and (obj.get("spec") or {}).get("finalizers"))
        if not pending and grace == 0:
            if dry_run:
                return obj
            return self.store.delete(res, namespace, name)
        if meta.get("deletionTimestamp") is not None:
            old_grace = meta.get("deletionGracePeriodSeconds", 0)
            if finalizers == list(meta.get("finalizers") or []) and (grace >= old_grace):
                return obj  # nothing new: deletion already under way
        now = self.clock.now()
        if meta.get("deletionTimestamp") is None or grace < meta.get("deletionGracePeriodSeconds", 0):
            meta["deletionTimestamp"] = (now + timedelta(seconds=grace)).strftime("%Y-%m-%dT%H:%M:%SZ")
            meta["deletionGracePeriodSeconds"] = grace
        if finalizers:
            meta["finalizers"] = finalizers
        if dry_run:
            return obj
        return clone(self.store.update(res, obj, owned=True))

    def _finish_if_final(self, res: str, obj: dict) -> dict:
        """An object being deleted goes once its last finalizer is gone."""
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") is None or meta.get("finalizers"):
            return obj
        if res == "namespaces" and (obj.get("spec") or {}).get("finalizers"):
            return obj
        if res == "pods" and meta.get("deletionGracePeriodSeconds", 0) > 0:
            return obj  # the kubelet finishes graceful pods
        try:
            return self.store.delete(res, meta.get("namespace") or "", meta["name"])
        except NotFound:
            return obj

    # -- hooks -------------------------------------------------------------
    def _admit(self, res: str, obj: dict, old: dict | None, warnings: "list[str] | None" = None) -> None:
        self.admission.admit(self, res, obj, old, warnings)

"""Admission in front of the store: what the API server does to every write.

Both the REST layer and the controllers write through here, so a pod created by
the ReplicaSet controller is defaulted exactly like one sent by kubectl.

Hooks per resource (filled in by `defaults.py`, `validation.py`):
  DEFAULTERS[res](obj)          -> fills defaults in place
  VALIDATORS[res](obj, old)     -> list of (field path, message); non-empty -> Invalid
"""

import copy
import random
import string
import uuid
from typing import Callable

from console.embedded.clock import Clock
from console.embedded.store import Conflict, NotFound, Store

DEFAULTERS: dict[str, Callable[[dict], None]] = {}
VALIDATORS: dict[str, Callable[[dict, dict | None], list[tuple[str, str]]]] = {}
# Kinds whose status is written only through the /status subresource.
STATUS_SUBRESOURCE = {
    "pods", "services", "namespaces", "nodes", "deployments.apps", "replicasets.apps",
    "horizontalpodautoscalers.autoscaling",
}
# Kinds with a .spec whose changes bump metadata.generation.
GENERATION = {"deployments.apps", "replicasets.apps", "horizontalpodautoscalers.autoscaling",
              "destinationrules.networking.istio.io", "virtualservices.networking.istio.io"}

_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"  # what k8s utilrand uses: no vowels, no 0/1/3


class Invalid(Exception):
    """422: field errors, as [(path, message)]."""

    def __init__(self, kind: str, name: str, causes: list[tuple[str, str]]):
        self.kind, self.name, self.causes = kind, name, causes
        detail = ", ".join(f"{p}: {m}" for p, m in causes)
        super().__init__(f'{kind} "{name}" is invalid: {detail}')


def random_suffix(n: int = 5) -> str:
    return "".join(random.choice(_SUFFIX) for _ in range(n))


class Registry:
    def __init__(self, store: Store, clock: Clock):
        self.store = store
        self.clock = clock

    # -- reads (copies) ----------------------------------------------------
    def get(self, res: str, namespace: str, name: str) -> dict | None:
        return self.store.get(res, namespace, name)

    def list(self, res: str, namespace: str | None = None) -> list[dict]:
        return self.store.list(res, namespace)

    # -- writes --------------------------------------------------------------
    def create(self, res: str, obj: dict, dry_run: bool = False) -> dict:
        obj = copy.deepcopy(obj)
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
        self._admit(res, obj, None)
        if dry_run:
            return obj
        return self.store.create(res, obj)

    def update(self, res: str, obj: dict, subresource: str | None = None,
               dry_run: bool = False) -> dict:
        """Full replace (PUT). subresource "status" changes only .status."""
        meta = obj.get("metadata", {})
        old = self.store.get(res, meta.get("namespace") or "", meta.get("name", ""))
        if old is None:
            raise NotFound(f'{res} "{meta.get("name")}" not found')
        new = copy.deepcopy(obj)
        if subresource == "status":
            status = new.get("status")
            new = copy.deepcopy(old)
            new["status"] = status
            new["metadata"]["resourceVersion"] = meta.get("resourceVersion") or old["metadata"]["resourceVersion"]
        else:
            for k in ("uid", "creationTimestamp", "generation", "deletionTimestamp",
                      "deletionGracePeriodSeconds"):
                if k in old["metadata"]:
                    new["metadata"][k] = old["metadata"][k]
                else:
                    new["metadata"].pop(k, None)
            if res in STATUS_SUBRESOURCE and "status" in old:
                new["status"] = old["status"]
            if res in GENERATION and new.get("spec") != old.get("spec"):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
            self._admit(res, new, old)
        if dry_run:
            return new
        return self.store.update(res, new)

    def mutate(self, res: str, namespace: str, name: str, fn: Callable[[dict], object],
               subresource: str | None = None) -> dict | None:
        """Read-modify-write for controllers: fn edits the object in place.

        Returns the stored object, or None when it does not exist (any more).
        fn returning False means "nothing to change".
        """
        for _ in range(5):
            obj = self.store.get(res, namespace, name)
            if obj is None:
                return None
            if fn(obj) is False:
                return obj
            try:
                return self.update(res, obj, subresource=subresource)
            except Conflict:
                continue
        raise Conflict(f'{res} "{name}": too many conflicts', "Conflict")

    def delete(self, res: str, namespace: str, name: str, grace_seconds: int | None = None,
               propagation: str | None = None) -> dict:
        """Delete. Graceful kinds (pods) get a deletionTimestamp first; the kubelet
        finishes them. Dependents are the garbage collector's business."""
        obj = self.store.get(res, namespace, name)
        if obj is None:
            raise NotFound(f'{res} "{name}" not found')
        return self.store.delete(res, namespace, name)

    # -- hooks -------------------------------------------------------------
    def _admit(self, res: str, obj: dict, old: dict | None) -> None:
        if res in DEFAULTERS:
            DEFAULTERS[res](obj)
        if res in VALIDATORS:
            causes = VALIDATORS[res](obj, old)
            if causes:
                raise Invalid(obj.get("kind", res), obj["metadata"].get("name", ""), causes)

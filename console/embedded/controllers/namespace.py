"""Namespace controller: a Terminating namespace is emptied, then removed.

Everything namespaced in it is deleted (pods gracefully, as the kubelet allows);
while objects remain the namespace shows NamespaceContentRemaining; once none
is left its spec.finalizers ["kubernetes"] is cleared through /finalize and the
registry removes it.
"""

from console.embedded.controllers.base import Informer, WorkQueue, terminating
from console.embedded.store import NotFound

RECHECK = 15.0  # simulated seconds between looks while content remains


class NamespaceController:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "namespace", self.sync)
        informer.on(None, self._on_event)
        for ns in informer.all("namespaces"):
            if terminating(ns):
                self.queue.add(ns["metadata"]["name"])

    def _on_event(self, ev) -> None:
        if ev.res == "namespaces":
            if ev.type != "DELETED" and terminating(ev.obj):
                self.queue.add(ev.obj["metadata"]["name"])
            return
        ns = ev.obj["metadata"].get("namespace")
        if ns and ev.type == "DELETED":
            owner = self.inf.get("namespaces", "", ns)
            if owner is not None and terminating(owner):
                self.queue.add(ns)

    def _content(self, ns: str) -> dict[str, list[dict]]:
        out = {}
        for res, buckets in list(self.inf.objs.items()):
            if res == "namespaces":
                continue
            objs = list(buckets.get(ns, {}).values())
            if objs:
                out[res] = objs
        return out

    async def sync(self, name) -> None:
        ns = self.inf.get("namespaces", "", name)
        if ns is None or not terminating(ns):
            return
        content = self._content(name)
        for res, objs in content.items():
            for obj in objs:
                if terminating(obj):
                    continue
                try:
                    self.cluster.registry.delete(res, name, obj["metadata"]["name"])
                except NotFound:
                    pass
        content = self._content(name)
        if content:
            # Worded as the real controller: "<resource>.<group>", so core kinds read "pods."
            left = ", ".join(f"{res if '.' in res else res + '.'} has {len(objs)} resource instances"
                             for res, objs in sorted(content.items()))
            self._condition(name, "NamespaceContentRemaining", "SomeResourcesRemain",
                            f"Some resources are remaining: {left}")
            finalizers: dict[str, int] = {}
            for objs in content.values():
                for obj in objs:
                    for f in obj["metadata"].get("finalizers") or []:
                        finalizers[f] = finalizers.get(f, 0) + 1
            if finalizers:
                held = ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items()))
                self._condition(name, "NamespaceFinalizersRemaining", "SomeFinalizersRemain",
                                f"Some content in the namespace has finalizers remaining: {held}")
            self.queue.add_after(name, RECHECK)
            return

        def finalize(obj):
            if not (obj.get("spec") or {}).get("finalizers"):
                return False
            obj.setdefault("spec", {})["finalizers"] = []
        self.cluster.registry.mutate("namespaces", "", name, finalize, subresource="finalize")

    def _condition(self, name: str, type_: str, reason: str, message: str) -> None:
        now = self.cluster.clock.stamp()

        def fn(obj):
            status = obj.setdefault("status", {})
            conds = status.get("conditions") or []
            cur = next((c for c in conds if c.get("type") == type_), None)
            if cur and cur.get("message") == message:
                return False
            conds = [c for c in conds if c.get("type") != type_]
            conds.append({"type": type_, "status": "True", "lastTransitionTime": now,
                          "reason": reason, "message": message})
            status["conditions"] = conds
            status["phase"] = "Terminating"
        self.cluster.registry.mutate("namespaces", "", name, fn, subresource="status")

"""Deployment controller, after kube-controller-manager's: one ReplicaSet per pod
template (named <deployment>-<hash>), rolling update within maxSurge and
maxUnavailable, Recreate, proportional scaling, pause, revision bookkeeping
(a reused old ReplicaSet gets the next revision, as `kubectl rollout undo`
expects), revisionHistoryLimit, status and the Progressing/Available conditions.
"""


from console.embedded.controllers import deployutil as du
from console.embedded.controllers.base import (
    Informer, WorkQueue, controller_ref, key_of, selector_matches, terminating,
)
from console.embedded.controllers.deploystatus import RolloutStatus
from console.embedded.controllers.replicaset import epoch
from console.embedded.store import Conflict, NotFound, clone

RES = "deployments.apps"
RS = "replicasets.apps"
COMPONENT = "deployment-controller"


class DeploymentController(RolloutStatus):
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "deployment", self.sync)
        informer.on(RES, self._on_deployment)
        informer.on(RS, self._on_rs)
        informer.on("pods", self._on_pod)
        for d in informer.all(RES):
            self.queue.add(key_of(d))

    # -- events ----------------------------------------------------------------
    def _on_deployment(self, ev) -> None:
        if ev.type != "DELETED":
            self.queue.add(key_of(ev.obj))

    def _owner_of(self, obj: dict | None, kind: str, res: str):
        ref = controller_ref(obj) if obj else None
        if ref and ref.get("kind") == kind:
            found = self.inf.by_uid(ref.get("uid", ""))
            if found and found[0] == res:
                return found[1:]
        return None

    def _on_rs(self, ev) -> None:
        for obj in (ev.obj, ev.old):
            key = self._owner_of(obj, "Deployment", RES)
            if key:
                self.queue.add(key)
        if ev.type == "ADDED" and controller_ref(ev.obj) is None:
            for d in self.inf.in_namespace(RES, ev.obj["metadata"].get("namespace") or ""):
                self.queue.add(key_of(d))

    def _on_pod(self, ev) -> None:
        # Recreate waits for the old pods to be gone.
        if ev.type != "DELETED":
            return
        rs_key = self._owner_of(ev.obj, "ReplicaSet", RS)
        rs = self.inf.get(RS, *rs_key) if rs_key else None
        key = self._owner_of(rs, "Deployment", RES)
        if key:
            self.queue.add(key)

    # -- reconcile ---------------------------------------------------------------
    async def sync(self, key) -> None:
        d = self.inf.get(RES, *key)
        if d is None:
            return
        d = clone(d)
        rss = self._replica_sets(d)
        if terminating(d):
            new_rs, old = self._split(d, rss)
            self._sync_status(d, [r for r in [new_rs] if r] + old, new_rs)
            return
        if not d["spec"].get("selector"):
            self.cluster.event(d, "SelectingAll",
                               "This deployment is selecting all pods. A non-empty selector is required.",
                               "Warning", component=COMPONENT)
            return
        self._paused_condition(d)
        if d["spec"].get("paused") or self._scaling_event(d, rss):
            self._sync_only(d, rss)
        elif du.is_rolling(d):
            self._rolling(d, rss)
        else:
            self._recreate(d, rss)

    def _replica_sets(self, d: dict) -> list[dict]:
        uid = d["metadata"]["uid"]
        out = list(self.inf.controlled(uid, RS))
        ns = d["metadata"].get("namespace") or ""
        for rs in self.inf.in_namespace(RS, ns):
            if controller_ref(rs) is None and not terminating(rs) and selector_matches(
                    d["spec"].get("selector"), ((rs["spec"].get("template") or {}).get("metadata") or {}).get("labels")):
                ref = {"apiVersion": "apps/v1", "kind": "Deployment", "name": d["metadata"]["name"],
                       "uid": uid, "controller": True, "blockOwnerDeletion": True}

                def own(obj):
                    if controller_ref(obj) is not None:
                        return False
                    obj["metadata"]["ownerReferences"] = (obj["metadata"].get("ownerReferences") or []) + [ref]
                got = self.cluster.registry.mutate(RS, ns, rs["metadata"]["name"], own)
                if got is not None and (controller_ref(got) or {}).get("uid") == uid:
                    out.append(got)
        return [clone(r) for r in out]

    def _split(self, d: dict, rss: list[dict]) -> tuple[dict | None, list[dict]]:
        new_rs = None
        for rs in du.by_creation(rss):
            if du.equal_ignore_hash(rs["spec"].get("template"), d["spec"].get("template")):
                new_rs = rs
                break
        return new_rs, [rs for rs in rss if rs is not new_rs]

    # -- the new ReplicaSet and revisions ------------------------------------------
    def _new_rs(self, d: dict, rss: list[dict], create: bool) -> tuple[dict | None, list[dict]]:
        new_rs, old = self._split(d, rss)
        new_revision = max([du.revision(r) for r in old], default=0) + 1
        ns = d["metadata"].get("namespace") or ""
        if new_rs is not None:
            want = clone(new_rs)
            changed = du.set_new_rs_annotations(d, want, new_revision, exists=True)
            if changed or want["spec"].get("minReadySeconds", 0) != d["spec"].get("minReadySeconds", 0):
                want["spec"]["minReadySeconds"] = d["spec"].get("minReadySeconds", 0)
                new_rs = self.cluster.registry.update(RS, want)
            self._set_revision(d, du.annotations(new_rs).get(du.REVISION, ""))
            if du.has_deadline(d) and du.condition(d.get("status") or {}, "Progressing") is None:
                self._write_condition(d, "True", "FoundNewReplicaSet",
                                      f'Found new replica set "{new_rs["metadata"]["name"]}"')
            return new_rs, old
        if not create:
            return None, old
        collisions = (d.get("status") or {}).get("collisionCount")
        template = clone(d["spec"]["template"])
        h = du.template_hash(template, collisions)
        template.setdefault("metadata", {}).setdefault("labels", {})[du.HASH_LABEL] = h
        selector = clone(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[du.HASH_LABEL] = h
        rs = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {
                "name": f'{d["metadata"]["name"]}-{h}', "namespace": ns,
                "labels": dict(template["metadata"]["labels"]),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": d["metadata"]["name"], "uid": d["metadata"]["uid"],
                                     "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": {"replicas": 0, "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                     "selector": selector, "template": template},
        }
        du.set_new_rs_annotations(d, rs, new_revision, exists=False)
        all_rss = old
        rs["spec"]["replicas"] = self._new_rs_replicas(d, all_rss, None)
        try:
            created = self.cluster.registry.create(RS, rs)
        except Conflict:
            existing = self.inf.get(RS, ns, rs["metadata"]["name"])
            if (existing and (controller_ref(existing) or {}).get("uid") == d["metadata"]["uid"]
                    and du.equal_ignore_hash(existing["spec"].get("template"), d["spec"]["template"])):
                return clone(existing), old
            # A hash collision: the next hash comes from a bumped collisionCount.
            def bump(obj):
                obj.setdefault("status", {})["collisionCount"] = (collisions or 0) + 1
            self.cluster.registry.mutate(RES, ns, d["metadata"]["name"], bump, subresource="status")
            raise
        n = created["spec"]["replicas"]
        if n > 0:
            self.cluster.event(d, "ScalingReplicaSet",
                               f'Scaled up replica set {created["metadata"]["name"]} from 0 to {n}',
                               component=COMPONENT)
        self._set_revision(d, str(new_revision))
        if du.has_deadline(d):
            self._write_condition(d, "True", "NewReplicaSetCreated",
                                  f'Created new replica set "{created["metadata"]["name"]}"')
        return created, old

    def _set_revision(self, d: dict, rev: str) -> None:
        if not rev or du.annotations(d).get(du.REVISION) == rev:
            return

        def fn(obj):
            ann = obj["metadata"].setdefault("annotations", {})
            if ann.get(du.REVISION) == rev:
                return False
            ann[du.REVISION] = rev
        got = self.cluster.registry.mutate(RES, *key_of(d), fn)
        if got is not None:
            d["metadata"] = clone(got["metadata"])   # d is ours to change, got is the store's

    def _write_condition(self, d: dict, value: str, reason: str, message: str) -> None:
        status = d.setdefault("status", {})
        du.set_condition(status, "Progressing", value, reason, message, self.cluster.clock.stamp())

        def fn(obj):
            obj["status"] = clone(status)
        self.cluster.registry.mutate(RES, *key_of(d), fn, subresource="status")

    def _paused_condition(self, d: dict) -> None:
        if not du.has_deadline(d):
            return
        cond = du.condition(d.get("status") or {}, "Progressing")
        paused = bool(d["spec"].get("paused"))
        if paused and not (cond and cond.get("reason") == "DeploymentPaused"):
            self._write_condition(d, "Unknown", "DeploymentPaused", "Deployment is paused")
        elif not paused and cond and cond.get("reason") == "DeploymentPaused":
            self._write_condition(d, "Unknown", "DeploymentResumed", "Deployment is resumed")

    # -- scaling ------------------------------------------------------------------
    def _scale_rs(self, d: dict, rs: dict, n: int) -> bool:
        """Sets replicas and the desired/max annotations; records ScalingReplicaSet."""
        old_n = rs["spec"].get("replicas", 0)
        want = clone(rs)
        ann_changed = du.set_replicas_annotations(want, du.replicas(d), du.replicas(d) + du.max_surge(d))
        if old_n == n and not ann_changed:
            return False
        want["spec"]["replicas"] = n
        try:
            got = self.cluster.registry.update(RS, want)
        except NotFound:
            return False
        rs.clear()
        rs.update(clone(got))
        if old_n != n:
            self.cluster.event(d, "ScalingReplicaSet",
                               f'Scaled {"up" if n > old_n else "down"} replica set '
                               f'{rs["metadata"]["name"]} from {old_n} to {n}', component=COMPONENT)
        return old_n != n

    def _new_rs_replicas(self, d: dict, all_rss: list[dict], new_rs: dict | None) -> int:
        n = du.replicas(d)
        if not du.is_rolling(d):
            return n
        current = du.spec_replicas(all_rss + ([new_rs] if new_rs else []))
        have = new_rs["spec"].get("replicas", 0) if new_rs else 0
        max_total = n + du.fenceposts(d)[0]
        if current >= max_total:
            return have
        return have + min(max_total - current, n - have)

    def _scaling_event(self, d: dict, rss: list[dict]) -> bool:
        new_rs, old = self._split(d, rss)
        for rs in du.active([new_rs] + old):
            desired = du.int_annotation(rs, du.DESIRED)
            if desired is not None and desired != du.replicas(d):
                return True
        return False

    def _scale(self, d: dict, new_rs: dict | None, old: list[dict]) -> None:
        n = du.replicas(d)
        newest_first = sorted(old, key=lambda r: (r["metadata"].get("creationTimestamp") or "",
                                                  r["metadata"]["name"]), reverse=True)
        act = du.active(([new_rs] if new_rs else []) + newest_first)
        if len(act) <= 1:
            target = act[0] if act else (new_rs or (newest_first[0] if newest_first else None))
            if target is not None:
                self._scale_rs(d, target, n)
            return
        if new_rs and du.int_annotation(new_rs, du.DESIRED) == n and new_rs["spec"].get("replicas") == n \
                and (new_rs.get("status") or {}).get("availableReplicas", 0) == n:
            for rs in du.active(old):
                self._scale_rs(d, rs, 0)
            return
        if not du.is_rolling(d):
            return
        allowed = n + du.max_surge(d) if n > 0 else 0
        to_add = allowed - du.spec_replicas(act)
        if to_add > 0:
            order = sorted(act, key=lambda r: (-(r["spec"].get("replicas") or 0), -epoch(r["metadata"].get("creationTimestamp"))))
        else:
            order = sorted(act, key=lambda r: (-(r["spec"].get("replicas") or 0), epoch(r["metadata"].get("creationTimestamp"))))
        sizes, added = {}, 0
        for rs in order:
            prop = self._proportion(d, rs, to_add, added)
            sizes[rs["metadata"]["name"]] = rs["spec"].get("replicas", 0) + prop
            added += prop
        for i, rs in enumerate(order):
            size = sizes[rs["metadata"]["name"]]
            if i == 0 and to_add != added:
                size = max(0, size + to_add - added)
            self._scale_rs(d, rs, size)

    def _proportion(self, d: dict, rs: dict, to_add: int, added: int) -> int:
        have = rs["spec"].get("replicas") or 0
        if have == 0 or to_add == 0 or to_add == added:
            return 0
        if du.replicas(d) == 0:
            fraction = -have
        else:
            full = du.replicas(d) + du.max_surge(d)
            annotated = du.int_annotation(rs, du.MAX)
            if annotated is None:
                annotated = (d.get("status") or {}).get("replicas", 0)
            fraction = du.go_round(have * full / annotated) - have if annotated else 0
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    # -- strategies --------------------------------------------------------------
    def _sync_only(self, d: dict, rss: list[dict]) -> None:
        new_rs, old = self._new_rs(d, rss, create=False)
        self._scale(d, new_rs, old)
        if d["spec"].get("paused"):
            self._cleanup(d, old)
        self._sync_status(d, ([new_rs] if new_rs else []) + old, new_rs, rollout=False)

    def _rolling(self, d: dict, rss: list[dict]) -> None:
        new_rs, old = self._new_rs(d, rss, create=True)
        all_rss = [new_rs] + old
        if not self._reconcile_new(d, all_rss, new_rs):
            if not self._reconcile_old(d, all_rss, du.active(old), new_rs):
                if du.complete(d, self._status(d, all_rss, new_rs)):
                    self._cleanup(d, old)
        self._sync_status(d, all_rss, new_rs)

    def _reconcile_new(self, d: dict, all_rss: list[dict], new_rs: dict) -> bool:
        n = du.replicas(d)
        have = new_rs["spec"].get("replicas", 0)
        if have == n:
            return False
        if have > n:
            return self._scale_rs(d, new_rs, n)
        others = [r for r in all_rss if r is not new_rs]
        return self._scale_rs(d, new_rs, self._new_rs_replicas(d, others, new_rs))

    def _reconcile_old(self, d: dict, all_rss: list[dict], old: list[dict], new_rs: dict) -> bool:
        if du.spec_replicas(old) == 0:
            return False
        if not all(du.settled(r) for r in all_rss):
            # A ReplicaSet whose status predates its spec would count pods that are
            # about to go: scale down only on counts its controller has confirmed.
            return False
        min_available = du.replicas(d) - du.max_unavailable(d)
        new_unavailable = new_rs["spec"].get("replicas", 0) - (new_rs.get("status") or {}).get("availableReplicas", 0)
        max_down = du.spec_replicas(all_rss) - min_available - new_unavailable
        if max_down <= 0:
            return False
        cleaned = 0
        for rs in du.by_creation(old):  # unhealthy old replicas go first
            if cleaned >= max_down:
                break
            have = rs["spec"].get("replicas", 0)
            unhealthy = have - (rs.get("status") or {}).get("availableReplicas", 0)
            if have == 0 or unhealthy <= 0:
                continue
            down = min(max_down - cleaned, unhealthy)
            self._scale_rs(d, rs, have - down)
            cleaned += down
        available = du.status_sum([new_rs] + old, "availableReplicas")
        if available <= min_available:
            return cleaned > 0
        total, scaled = available - min_available, 0
        for rs in du.by_creation(old):
            if scaled >= total:
                break
            have = rs["spec"].get("replicas", 0)
            if have == 0:
                continue
            down = min(have, total - scaled)
            self._scale_rs(d, rs, have - down)
            scaled += down
        return cleaned + scaled > 0

    def _recreate(self, d: dict, rss: list[dict]) -> None:
        new_rs, old = self._new_rs(d, rss, create=False)
        scaled = False
        for rs in du.active(old):
            scaled |= self._scale_rs(d, rs, 0)
        if scaled or self._old_pods_running(old):
            self._sync_status(d, ([new_rs] if new_rs else []) + old, new_rs)
            return
        if new_rs is None:
            new_rs, old = self._new_rs(d, rss, create=True)
        self._scale_rs(d, new_rs, du.replicas(d))
        if du.complete(d, self._status(d, [new_rs] + old, new_rs)):
            self._cleanup(d, old)
        self._sync_status(d, [new_rs] + old, new_rs)

    def _old_pods_running(self, old: list[dict]) -> bool:
        for rs in old:
            if (rs.get("status") or {}).get("replicas", 0) > 0:
                return True
            for pod in self.inf.controlled(rs["metadata"]["uid"], "pods"):
                if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                    return True
        return False

    def _cleanup(self, d: dict, old: list[dict]) -> None:
        limit = d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [r for r in old if not terminating(r)]
        extra = len(alive) - limit
        for rs in sorted(alive, key=lambda r: (du.revision(r), r["metadata"].get("creationTimestamp") or ""))[:max(0, extra)]:
            st = rs.get("status") or {}
            if st.get("replicas", 0) or rs["spec"].get("replicas", 0) \
                    or rs["metadata"].get("generation", 1) > st.get("observedGeneration", 0):
                continue
            try:
                self.cluster.registry.delete(RS, *key_of(rs))
            except NotFound:
                pass

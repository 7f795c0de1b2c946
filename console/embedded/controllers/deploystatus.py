"""Deployment status as the deployment controller computes it: replica counts
summed over its ReplicaSets, the Available condition, and the Progressing
condition with progressDeadlineSeconds (simulated time)."""


from console.embedded.controllers import deployutil as du
from console.embedded.controllers.base import key_of
from console.embedded.controllers.replicaset import epoch
from console.embedded.store import clone

RES = "deployments.apps"


class RolloutStatus:
    """Mixed into DeploymentController (uses self.cluster and self.queue)."""

    def _status(self, d: dict, all_rss: list[dict], new_rs: dict | None) -> dict:
        all_rss = [r for r in all_rss if r]
        available = du.status_sum(all_rss, "availableReplicas")
        status = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": du.status_sum(all_rss, "replicas"),
            "updatedReplicas": du.status_sum([new_rs] if new_rs else [], "replicas"),
            "readyReplicas": du.status_sum(all_rss, "readyReplicas"),
            "availableReplicas": available,
            "unavailableReplicas": max(0, du.spec_replicas(all_rss) - available),
        }
        old = d.get("status") or {}
        if old.get("collisionCount") is not None:
            status["collisionCount"] = old["collisionCount"]
        status["conditions"] = clone(old.get("conditions") or [])
        now = self.cluster.clock.stamp()
        if available >= du.replicas(d) - du.max_unavailable(d):
            du.set_condition(status, "Available", "True", "MinimumReplicasAvailable",
                             "Deployment has minimum availability.", now)
        else:
            du.set_condition(status, "Available", "False", "MinimumReplicasUnavailable",
                             "Deployment does not have minimum availability.", now)
        # A ReplicaSet that cannot create its pods (FailedCreate) shows on the Deployment.
        failure = next((c for r in all_rss for c in (r.get("status") or {}).get("conditions") or []
                        if c.get("type") == "ReplicaFailure" and c.get("status") == "True"), None)
        if failure:
            du.set_condition(status, "ReplicaFailure", "True", failure.get("reason", "FailedCreate"),
                             failure.get("message", ""), now)
        else:
            du.remove_condition(status, "ReplicaFailure")
        return status

    def _sync_status(self, d: dict, all_rss: list[dict], new_rs: dict | None,
                     rollout: bool = True) -> None:
        status = self._status(d, all_rss, new_rs)
        now = self.cluster.clock.stamp()
        if rollout and not du.has_deadline(d):
            du.remove_condition(status, "Progressing")
        cond = du.condition(status, "Progressing")
        done = (status["replicas"] == status["updatedReplicas"] and cond is not None
                and cond.get("reason") == "NewReplicaSetAvailable")
        if rollout and du.has_deadline(d) and not done and new_rs is not None:
            name = new_rs["metadata"]["name"]
            if du.complete(d, status):
                du.set_condition(status, "Progressing", "True", "NewReplicaSetAvailable",
                                 f'ReplicaSet "{name}" has successfully progressed.', now)
            elif du.progressing(d, status):
                du.remove_condition(status, "Progressing")
                du.set_condition(status, "Progressing", "True", "ReplicaSetUpdated",
                                 f'ReplicaSet "{name}" is progressing.', now)
                if cond and cond.get("status") == "True":
                    du.condition(status, "Progressing")["lastTransitionTime"] = cond.get("lastTransitionTime", now)
            elif self._timed_out(d, cond):
                du.set_condition(status, "Progressing", "False", "ProgressDeadlineExceeded",
                                 f'ReplicaSet "{name}" has timed out progressing.', now)
        self._requeue_stuck(d, status)
        # Zero counts are omitted, as the Go structs' omitempty does.
        status = {k: v for k, v in status.items() if v or k in ("observedGeneration",)}
        if status == (d.get("status") or {}):
            return

        def fn(obj):
            if obj.get("status") == status:
                return False
            obj["status"] = status
        self.cluster.registry.mutate(RES, *key_of(d), fn, subresource="status")

    def _since(self, stamp: str | None) -> float:
        """Simulated seconds since a wall-clock timestamp."""
        wall = self.cluster.clock.now().timestamp() - epoch(stamp)
        return max(0.0, wall) * self.cluster.clock.speed

    def _timed_out(self, d: dict, cond: dict | None) -> bool:
        if cond is None or cond.get("reason") == "NewReplicaSetAvailable":
            return False
        if cond.get("reason") == "ProgressDeadlineExceeded":
            return True
        return self._since(cond.get("lastUpdateTime")) > d["spec"]["progressDeadlineSeconds"]

    def _requeue_stuck(self, d: dict, status: dict) -> None:
        cond = du.condition(status, "Progressing")
        if (not du.has_deadline(d) or cond is None or du.complete(d, status)
                or cond.get("reason") in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded")
                or cond.get("status") != "True"):
            return
        left = d["spec"]["progressDeadlineSeconds"] - self._since(cond.get("lastUpdateTime"))
        self.queue.add_after(key_of(d), max(0.0, left) + 1.0)

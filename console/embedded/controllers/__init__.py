"""The control plane: kube-controller-manager's controllers and the scheduler.

`run(cluster)` builds one shared informer over the store, starts each
controller's work queue, and runs until cancelled. While it runs,
`cluster.controllers` is the ControlPlane: `.informer` (indexes by
namespace, uid and owner, for any component that wants them), `.controllers`
by name, and `.idle()` (no work queued) for tests that wait for quiet.

deployment.py  Deployments -> ReplicaSets (deployutil.py, deploystatus.py)
replicaset.py  ReplicaSets -> Pods
scheduler.py   default-scheduler: Pods -> Nodes
endpoints.py   Services -> Endpoints and EndpointSlices
gc.py          ownerReferences: background, foreground, orphan
namespace.py   a Terminating namespace is emptied, then removed
podgc.py       pods of a deleted Node are removed
eventttl.py    events expire after an hour
hpa.py         HorizontalPodAutoscalers -> the scale of their targets (hpacalc.py)
daemonset.py   DaemonSets -> a pod per node
job.py         Jobs -> pods run to completion
cronjob.py     CronJobs -> Jobs on their schedule (simulated calendar)
"""

import asyncio

from console.embedded.controllers.base import Informer
from console.embedded.controllers.cronjob import CronJobController
from console.embedded.controllers.daemonset import DaemonSetController
from console.embedded.controllers.deployment import DeploymentController
from console.embedded.controllers.endpoints import EndpointsController
from console.embedded.controllers.eventttl import EventTTL
from console.embedded.controllers.gc import GarbageCollector
from console.embedded.controllers.job import JobController
from console.embedded.controllers.hpa import HPAController
from console.embedded.controllers.namespace import NamespaceController
from console.embedded.controllers.podgc import PodGC
from console.embedded.controllers.replicaset import ReplicaSetController
from console.embedded.controllers.scheduler import Scheduler

CONTROLLERS = {
    "deployment": DeploymentController,
    "replicaset": ReplicaSetController,
    "scheduler": Scheduler,
    "endpoints": EndpointsController,
    "garbage-collector": GarbageCollector,
    "namespace": NamespaceController,
    "pod-garbage-collector": PodGC,
    "event-ttl": EventTTL,
    "horizontal-pod-autoscaler": HPAController,
    "daemonset": DaemonSetController,
    "job": JobController,
    "cronjob": CronJobController,
}


class ControlPlane:
    def __init__(self, cluster, only: list[str] | None = None):
        self.informer = Informer(cluster.store)
        self.informer.start()
        self.controllers = {name: cls(cluster, self.informer)
                            for name, cls in CONTROLLERS.items() if only is None or name in only}

    def idle(self) -> bool:
        """No work waiting (the event TTL's periodic sweep does not count)."""
        return all(len(c.queue) == 0 for name, c in self.controllers.items()
                   if name not in ("event-ttl", "horizontal-pod-autoscaler", "cronjob"))

    async def run(self) -> None:
        await asyncio.gather(*(c.queue.run() for c in self.controllers.values()))


async def run(cluster, only: list[str] | None = None) -> None:
    plane = ControlPlane(cluster, only)
    cluster.controllers = plane
    try:
        await plane.run()
    finally:
        if getattr(cluster, "controllers", None) is plane:
            cluster.controllers = None

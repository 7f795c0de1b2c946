"""The embedded cluster in one object: clock, store, registry, and the
components (controllers, kubelets, service proxies) running on one event loop.

The API server (`server.py`) is only a door onto `registry`; components write
through `registry` too and learn of changes from `store.subscribe`.

A component is a module with `async def run(cluster)`: it sets itself up,
runs until cancelled, and cleans up in `finally`.
"""

import asyncio
import importlib
import logging

from console.embedded import events
from console.embedded.clock import Clock
from console.embedded.kinds import Catalogue
from console.embedded.registry import Registry
from console.embedded.store import Store

log = logging.getLogger("kubelab.cluster")

# In start order. Kubelets register the Nodes; controllers then schedule onto them.
COMPONENTS = [
    "console.embedded.bootstrap",
    "console.embedded.mesh.istiod",     # its admission webhooks before anyone writes pods
    "console.embedded.kubelet",
    "console.embedded.controllers",
    "console.embedded.metrics",
]


class Cluster:
    def __init__(self, speed: float = 1.0, nodes: int = 2, version: str = "v1.33.1",
                 data=None, metrics: bool = True, max_pods: int = 110):
        """data: a directory that keeps the objects across runs (persist.py); raises
        persist.DataError when it cannot be used. metrics: install metrics-server.
        max_pods: each node's pod capacity (kubelet's --max-pods)."""
        self.clock = Clock(speed)
        journal = None
        if data is not None:
            from console.embedded.persist import Journal
            journal = Journal(data)
        self.store = Store(journal)
        self.restored = journal is not None and journal.restored   # a restart: pods come back
        self.registry = Registry(self.store, self.clock)
        self.kinds = Catalogue()  # what this cluster's API serves (its own, see kinds.py)
        self.recorder = events.Recorder(self.registry)
        self.nodes = nodes
        self.max_pods = max_pods
        self.version = version
        self.metrics_server = metrics   # bootstrap installs metrics-server (kube-system)
        self._tasks: list[asyncio.Task] = []

    def event(self, obj: dict, reason: str, message: str, type_: str = "Normal",
              component: str = "kubelet", host: str | None = None,
              field_path: str | None = None) -> None:
        try:
            self.recorder.record(obj, reason, message, type_, component, host, field_path)
        except Exception:  # an event must never take a controller down
            log.exception("recording event %s failed", reason)

    def spawn(self, coro, name: str) -> asyncio.Task:
        """A background task that logs (never hides) a crash."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        task.add_done_callback(self._reap)
        self._tasks.append(task)
        return task

    def _reap(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("component %s crashed", task.get_name(), exc_info=task.exception())

    async def start(self) -> None:
        for name in COMPONENTS:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                log.warning("component %s is not built yet", name)
                continue
            self.spawn(module.run(self), name)
            await asyncio.sleep(0)  # let it set up before the next one starts

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.store.seals is not None:
            self.store.seals.check_all()
        if self.store.journal is not None:
            self.store.journal.close()

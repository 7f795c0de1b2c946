"""One container of a pod: image, the simulated app, probes, restarts."""

import asyncio
import hashlib
from collections import deque

LOG_LINES = 5000


class Container:
    def __init__(self, worker, spec: dict):
        self.worker = worker
        self.cluster = worker.cluster
        self.spec = spec
        self.name = spec["name"]
        self.image = spec.get("image", "")
        self.task: asyncio.Task | None = None
        self.state = "waiting"
        self.reason = "ContainerCreating"
        self.message: str | None = None
        self.exit_code: int | None = None
        self.started_at: str | None = None
        self.finished_at: str | None = None
        self.last_state: dict = {}
        self.restart_count = 0
        self.ready = False
        self.started = False
        self.ever_started = False
        self.container_id: str | None = None
        self._log: deque[str] = deque(maxlen=LOG_LINES)
        self._prev_log: list[str] | None = None
        self._stop = asyncio.Event()

    async def run(self) -> None:
        self._start()
        await self._stop.wait()

    def _start(self) -> None:
        self.container_id = "containerd://" + hashlib.sha256(
            f"{self.worker.uid}/{self.name}/{self.restart_count}".encode()).hexdigest()
        self.state = "running"
        self.started_at = self.cluster.clock.stamp()
        self.started = self.ever_started = True
        self.ready = True
        self.worker.changed()

    async def stop(self, grace: float, message: str) -> None:
        self._stop.set()
        self.state = "terminated"
        self.exit_code = 0
        self.reason = "Completed"
        self.finished_at = self.cluster.clock.stamp()
        self.ready = self.started = False
        self.worker.changed()

    def abort(self) -> None:
        self._stop.set()
        if self.task is not None:
            self.task.cancel()

    def logs(self, previous: bool) -> list[str]:
        return list(self._prev_log or []) if previous else list(self._log)

    async def follow(self):
        for line in list(self._log):
            yield line

    def status(self) -> dict:
        if self.state == "running":
            state = {"running": {"startedAt": self.started_at}}
        elif self.state == "terminated":
            state = {"terminated": {"exitCode": self.exit_code, "reason": self.reason,
                                    "startedAt": self.started_at, "finishedAt": self.finished_at,
                                    "containerID": self.container_id}}
        else:
            state = {"waiting": {"reason": self.reason}}
            if self.message:
                state["waiting"]["message"] = self.message
        out = {
            "name": self.name,
            "state": state,
            "lastState": self.last_state,
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": self.image,
            "imageID": "",
            "started": self.started,
        }
        if self.container_id:
            out["containerID"] = self.container_id
        return out

"""One container of a pod, as the kubelet and containerd see it: pull the image,
start the simulated app, probe it, kill it, restart it with back-off.

Times are simulated (the cluster clock); status is reported through the
worker, which writes the pod's status once per burst of changes.
"""

import asyncio
import hashlib
import logging

from console.embedded import apps
from console.embedded.kubelet import config, images
from console.embedded.kubelet.logs import ContainerLog
from console.embedded.kubelet.probes import Prober, run_hook
from console.embedded.kubelet.pull import Backoff, ensure_image

log = logging.getLogger("kubelab.kubelet")
MIN_GRACE = 2        # kubelet's minimumGracePeriodInSeconds: SIGTERM gets at least this


class Container:
    def __init__(self, worker, spec: dict, init: bool = False):
        self.init = init                 # an init container: runs to completion first
        self.worker = worker
        self.cluster = worker.cluster
        self.clock = worker.cluster.clock
        self.spec = spec
        self.name = spec["name"]
        self.image = spec.get("image", "")
        self.ref = images.reference(self.image)
        self.task: asyncio.Task | None = None
        self.app: apps.App | None = None
        self.proc: asyncio.Task | None = None
        self.state, self.reason, self.message = "waiting", "ContainerCreating", None
        self.exit_code: int | None = None
        self.started_at = self.finished_at = None
        self.last_state: dict = {}
        self._restart: dict | None = None    # the instance a pending restart replaces
        self.restart_count = 0
        self.ready = self.started = self.ever_started = False
        self.container_id: str | None = None
        self.image_id = ""
        self.log = ContainerLog(self.clock)
        self.prev_log: ContainerLog | None = None
        self.probes: dict[str, Prober] = {}
        self._probe_tasks: dict[str, asyncio.Task] = {}
        self._stopping = asyncio.Event()
        self._kick = asyncio.Event()       # wakes a pause early: stop, or a new image
        self._killed_reason: str | None = None
        self._hooked = None                  # the process whose preStop hook has run
        self.restart_backoff = Backoff()
        self.pull_backoff = Backoff()
        self._files: dict[str, bytes] = {}   # from volumes, set by mount()
        self._env: dict[str, str] = {}       # set by configure()

    # -- helpers ------------------------------------------------------------------
    def event(self, reason: str, message: str, type_: str = "Normal") -> None:
        self.worker.event(reason, message, type_, f"spec.containers{{{self.name}}}")

    def set_waiting(self, reason: str, message: str | None = None) -> None:
        self.state, self.reason, self.message = "waiting", reason, message
        self.ready = False
        self.worker.changed()

    async def pause(self, sim_seconds: float) -> bool:
        """Sleep unless woken (stop, new image); True if the container is stopping."""
        try:
            await asyncio.wait_for(self._kick.wait(), self.clock.real(sim_seconds))
        except asyncio.TimeoutError:
            pass
        self._kick.clear()
        return self._stopping.is_set()

    def respec(self, spec: dict) -> None:
        """The pod's container changed (only the image may): restart with the new one."""
        if spec.get("image") == self.image:
            return
        self.spec, self.image = spec, spec.get("image", "")
        self.ref = images.reference(self.image)
        self.image_id = ""
        self._kick.set()
        if self.state == "running":
            self.event("Killing", f"Container {self.name} definition changed, will be restarted")
            asyncio.ensure_future(self.kill(self.worker.grace()))

    def came_back(self, before: dict) -> None:
        """The node restarted under this container (`before`: its last status): it
        starts again as a restart, its last state what containerd reports for a
        container that vanished with the node (exit code 255, reason Unknown)."""
        self.restart_count = int(before.get("restartCount") or 0)
        state = before.get("state") or {}
        ran = state.get("running") or state.get("terminated")
        if ran and before.get("containerID"):
            self.last_state = self._restart = {"terminated": {
                "exitCode": 255, "reason": "Unknown", "startedAt": ran.get("startedAt"),
                "finishedAt": self.clock.stamp(), "containerID": before["containerID"]}}
        elif before.get("lastState"):
            self.last_state = before["lastState"]

    @property
    def restart_policy(self) -> str:
        return (self.worker.pod.get("spec") or {}).get("restartPolicy", "Always")

    # -- the container's life ---------------------------------------------------------
    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                if not await self.mount() or not await self.pull() or not await self.configure():
                    return
                code = await self.run_once()
                if self._stopping.is_set() or not self.should_restart(code):
                    return
                if not await self.back_off():
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("container %s of %s/%s", self.name, *self.worker.key)
            raise

    def should_restart(self, code: int) -> bool:
        policy = self.restart_policy
        if self.init:
            return code != 0 and policy != "Never"
        return policy == "Always" or (policy == "OnFailure" and code != 0)

    async def pull(self) -> bool:
        return await ensure_image(self)

    async def mount(self) -> bool:
        """Volumes first (the pod stays ContainerCreating until they mount)."""
        while True:
            try:
                self._files = config.files(self.cluster.registry, self.worker.pod, self.spec)
                return True
            except config.MountError as exc:
                self.worker.event("FailedMount", str(exc), "Warning")
                self.set_waiting("ContainerCreating")
            if await self.pause(10.0):
                return False

    async def configure(self) -> bool:
        """The environment, after the image: CreateContainerConfigError until it resolves."""
        w = self.worker
        while True:
            try:
                self._env = config.environment(self.cluster.registry, w.pod, self.spec,
                                               w.node.ip, w.ip or "")
                return True
            except config.ConfigError as exc:
                self.event("Failed", f"Error: {exc}", "Warning")
                self.set_waiting("CreateContainerConfigError", str(exc))
            if await self.pause(10.0):
                return False

    async def run_once(self) -> int:
        """Create and start the container, run it until its process ends."""
        w = self.worker
        self.log = ContainerLog(self.clock)
        self.container_id = "containerd://" + hashlib.sha256(
            f"{w.uid}/{self.name}/{self.restart_count}/{self.clock.elapsed()}".encode()).hexdigest()
        ctx = apps.Context(self.clock, w.key[1], w.key[0], self.name, self.image, w.ip or "",
                           self.spec, w.annotations(), self.log.append, env=self._env,
                           files=self._files, net=w.net, grace_seconds=w.grace(),
                           broker=w.kubelet.broker, on_ports=w.ports_changed)
        self.app = apps.start(ctx)
        self.event("Created", f"Created container: {self.name}")
        error = self.app.start_error()
        if error:
            return self._start_failed(error)
        self.proc = asyncio.ensure_future(self.app.main())
        if self._restart is not None:
            self.last_state, self._restart = self._restart, None
            self.restart_count += 1
        self.state, self.reason, self.message = "running", None, None
        self.started_at = self.clock.stamp()
        self.run_since = self.clock.elapsed()
        self.ever_started = True
        self.event("Started", f"Started container {self.name}")
        self._killed_reason = None
        self._watch_memory()
        self.start_probes()
        code = await self._wait_process()
        self.app.procs.kill_all()          # exec'd processes die with the container
        self.stop_probes()
        reason = self._killed_reason or ("Completed" if code == 0 else "Error")
        self.state, self.exit_code, self.reason = "terminated", code, reason
        self.finished_at = self.clock.stamp()
        self.finished_sim = self.clock.elapsed()
        self.ready = self.started = False
        self.app.close_ports()
        self.app.drop_connections(graceful=code != 137)
        self.log.close()
        w.changed()
        return code

    def _watch_memory(self) -> None:
        """An app whose footprint exceeds limits.memory is OOM-killed as it grows
        (partway through its boot), exit 137, reason OOMKilled."""
        limit = config.memory_limit(self.spec)
        if limit is None or self.app.memory_mb * 2**20 <= limit:
            return
        proc = self.proc

        def oom():
            if self.proc is proc and not proc.done():
                self._killed_reason = "OOMKilled"
                self.log.append("kubelab: memory use passed limits.memory: the kernel's OOM killer "
                                "ended the process")
                proc.cancel()
        self.clock.call_later(max(0.5, self.app.boot_seconds * 0.6), oom)

    def _start_failed(self, error: str) -> int:
        """runc could not exec the entrypoint: StartError, exit 128, as containerd reports."""
        if self._restart is not None:
            self.last_state, self._restart = self._restart, None
            self.restart_count += 1
        self.event("Failed", f"Error: {error}", "Warning")
        self.state, self.exit_code, self.reason, self.message = "terminated", 128, "StartError", error
        self.started_at = "1970-01-01T00:00:00Z"
        self.finished_at = self.clock.stamp()
        self.finished_sim = self.clock.elapsed()
        self.ever_started = True
        self.ready = self.started = False
        self.log.close()
        self.worker.changed()
        return 128

    async def _wait_process(self) -> int:
        try:
            return int(await self.proc)
        except asyncio.CancelledError:
            if asyncio.current_task().cancelling():
                raise
            return 137                       # SIGKILL
        except Exception as exc:
            self.log.append(f"kubelab: the simulated app crashed: {exc!r}")
            log.exception("app of %s/%s", self.worker.key[1], self.name)
            return 1

    async def back_off(self) -> bool:
        """Wait out the restart back-off (CrashLoopBackOff). The restart is counted
        when the new instance starts, as kubelet's restartCount is."""
        now = self.clock.elapsed()
        delay = self.restart_backoff.wait_for(self.finished_sim, now)
        self.prev_log = self.log
        self._restart = {"terminated": self._terminated()}
        if delay > 0:
            self.worker.flush()        # "Error" is seen before "CrashLoopBackOff", as in a cluster
            self.last_state = self._restart
            pod = f"{self.worker.key[1]}_{self.worker.key[0]}({self.worker.uid})"
            shown = images.go_duration(self.restart_backoff.delay).replace("ms", "s")
            self.set_waiting("CrashLoopBackOff",
                             f"back-off {shown} restarting failed container={self.name} pod={pod}")
            self.event("BackOff", f"Back-off restarting failed container {self.name} in pod {pod}",
                       "Warning")
            if await self.pause(delay):
                return False
        self.restart_backoff.next(self.clock.elapsed())
        return True

    # -- probes ---------------------------------------------------------------------
    def start_probes(self) -> None:
        self.probes = {}
        for kind in ("startup", "liveness", "readiness"):
            spec = self.spec.get(f"{kind}Probe")
            if isinstance(spec, dict):
                self.probes[kind] = p = Prober(self, kind, spec)
                self._probe_tasks[kind] = asyncio.ensure_future(p.run())
        self.started = "startup" not in self.probes
        self.ready = self.started and "readiness" not in self.probes
        if self._stopping.is_set():
            self.stop_liveness_and_startup()   # started as its pod goes (worker.go: deletion requested)
        self.worker.changed()

    def stop_probes(self) -> None:
        for t in self._probe_tasks.values():
            t.cancel()
        self._probe_tasks.clear()

    def stop_liveness_and_startup(self) -> None:
        """kubelet's SyncTerminatingPod: probeManager.StopLivenessAndStartup before
        killPod, so a failing liveness probe never restarts a container whose pod is
        going; readiness probes on until the container stops (RemovePod after
        killPod), so the pod's Ready, and its endpoints' `serving`, follow the app
        through the grace period. The stopped workers take their results with them:
        prober_manager.UpdatePodStatus then counts the container as started, and
        ready as its readiness probe says (ready with none)."""
        for kind in ("liveness", "startup"):
            task = self._probe_tasks.pop(kind, None)
            if task is not None:
                task.cancel()
            self.probes.pop(kind, None)
        if self.state == "running" and not self.started:
            self.started = True
            self.ready = "readiness" not in self.probes
            self.worker.changed()

    def on_probe(self, kind: str, ok: bool) -> None:
        if kind == "startup" and ok:
            self.started = True
            self.ready = "readiness" not in self.probes
        elif kind == "readiness":
            self.ready = ok and self.started
        elif not ok:   # liveness or startup failed past the threshold
            self.event("Killing", f"Container {self.name} failed {kind} probe, will be restarted")
            spec = self.spec.get(f"{kind}Probe") or {}
            grace = spec.get("terminationGracePeriodSeconds")
            asyncio.ensure_future(self.kill(grace if isinstance(grace, int) else self.worker.grace()))
        self.worker.changed()

    # -- stopping -------------------------------------------------------------------
    async def kill(self, grace: float) -> None:
        """kubelet's killContainer: the preStop hook first, given the grace period (the
        app serves on meanwhile, its pod terminating but still Ready), then SIGTERM, then
        SIGKILL after what is left of the grace period (at least 2 s) — simulated seconds."""
        proc, app = self.proc, self.app
        if proc is None or proc.done() or app is None:
            return
        hook = (self.spec.get("lifecycle") or {}).get("preStop")
        if isinstance(hook, dict) and grace > 0 and self._hooked is not proc:
            self._hooked = proc       # once per instance: a second, shorter delete goes on to SIGTERM
            start = self.clock.elapsed()
            try:
                if not await asyncio.wait_for(run_hook(self, hook, grace), self.clock.real(grace)):
                    # kubelet leaves the hook's output out of the event (it may hold secrets)
                    self.event("FailedPreStopHook", "PreStopHook failed", "Warning")
            except asyncio.TimeoutError:
                pass      # "PreStop hook not completed in grace period": on to SIGTERM
            grace = max(grace - (self.clock.elapsed() - start), MIN_GRACE)
            if proc.done():
                return
        app.sigterm()     # still running (and ready, without a probe) until it exits
        done, _ = await asyncio.wait([proc], timeout=self.clock.real(grace))
        if not done:
            proc.cancel()
            await asyncio.wait([proc])

    async def stop(self, grace: float) -> None:
        """The pod is going away: stop whatever this container is doing."""
        self._stopping.set()
        self._kick.set()
        self.stop_liveness_and_startup()
        if self.state == "running":
            self.event("Killing", f"Stopping container {self.name}")
            await self.kill(grace)
        if self.task is not None:
            await asyncio.wait([self.task])

    def abort(self) -> None:
        """Gone at once (force delete, cluster stop): the process dies with its sockets."""
        self._stopping.set()
        self._kick.set()
        self.stop_probes()
        if self.app is not None:
            self.app.close_ports()
            self.app.drop_connections(graceful=False)
            self.app.procs.kill_all()
        for t in (self.proc, self.task):
            if t is not None and not t.done():
                t.cancel()

    # -- reading ----------------------------------------------------------------------
    def logs(self, previous: bool) -> list[str] | None:
        """Lines as "<RFC3339Nano> text" (the API strips the stamp unless asked);
        None while no instance has started, or with no previous instance."""
        if previous:
            return None if self.prev_log is None else self.prev_log.lines(timestamps=True)
        return self.log.lines(timestamps=True) if self.ever_started else None

    def follow(self):
        return self.log.follow()

    def _terminated(self) -> dict:
        out = {"exitCode": self.exit_code, "reason": self.reason,
               "startedAt": self.started_at, "finishedAt": self.finished_at,
               "containerID": self.container_id}
        if self.reason == "StartError" and self.message:
            out["message"] = self.message
        return out

    def status(self) -> dict:
        if self.state == "running":
            state = {"running": {"startedAt": self.started_at}}
        elif self.state == "terminated":
            state = {"terminated": self._terminated()}
        else:
            state = {"waiting": {"reason": self.reason}}
            if self.message:
                state["waiting"]["message"] = self.message
        ready = self.ready
        if self.init:   # kubelet: an init container is ready once it exited 0
            ready = self.state == "terminated" and self.exit_code == 0
        out = {"name": self.name, "state": state, "lastState": self.last_state,
               "ready": ready, "restartCount": self.restart_count,
               "image": self.ref if self.image_id else self.image,
               "imageID": self.image_id, "started": self.started}
        if self.container_id and self.ever_started:
            out["containerID"] = self.container_id
        return out

"""One pod on one node: sandbox (pod IP), its containers, its status, its end.

Containers run themselves (container.py); the worker owns the pod-level view:
it writes status whenever a container changes (coalesced per loop turn), and
on deletion stops the containers within the grace period and removes the pod.
"""

import asyncio
import logging

from console.embedded.kubelet import status as st
from console.embedded.kubelet.container import Container
from console.embedded.kubelet.podnet import PodNet
from console.embedded.store import NotFound

log = logging.getLogger("kubelab.kubelet")


class PodWorker:
    def __init__(self, kubelet, node, pod: dict, rebooted: bool = False):
        """rebooted: the pod ran on this node before the cluster restarted (--data)."""
        self.kubelet = kubelet
        self.cluster = kubelet.cluster
        self.node = node
        self.pod = pod
        meta = pod["metadata"]
        self.key = (meta.get("namespace") or "default", meta["name"])
        self.uid = meta.get("uid")
        self.ip: str | None = None
        self.task: asyncio.Task | None = None
        self.removed = False
        self.start_time: str | None = None
        self.containers: list[Container] = []
        self.init_containers: list[Container] = []
        self.net = PodNet(self)
        self._wake = asyncio.Event()
        self._dirty = False
        self._terminating = False
        self._grace = 0.0
        self.rebooted = rebooted and bool((pod.get("status") or {}).get("podIP")
                                          or (pod.get("status") or {}).get("containerStatuses"))

    # -- signals from the kubelet -------------------------------------------
    def poke(self, pod: dict) -> None:
        self.pod = pod
        specs = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
        for c in self.containers:
            if c.name in specs:
                c.respec(specs[c.name])
        if (pod.get("spec") or {}).get("readinessGates") and self.containers:
            self.changed()      # a gate's condition may have moved: Ready follows
        self._wake.set()

    def gone(self) -> None:
        """The pod object is gone from the API: stop at once."""
        self.removed = True
        self._wake.set()

    def changed(self) -> None:
        """A container changed: write status soon (once per burst)."""
        if not self._dirty:
            self._dirty = True
            asyncio.get_running_loop().call_soon(self.flush)

    # -- the pod's life --------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._run()
        finally:
            for c in self.init_containers + self.containers:
                c.abort()
            self.kubelet.forget(self)

    async def _run(self) -> None:
        spec = self.pod.get("spec") or {}
        self.start_time = (self.pod.get("status") or {}).get("startTime") or self.cluster.clock.stamp()
        self.init_containers = [Container(self, c, init=True) for c in spec.get("initContainers") or []]
        self.containers = [Container(self, c) for c in spec.get("containers", [])]
        for c in self.containers:
            if self.init_containers:
                c.reason = "PodInitializing"
        if self.rebooted:
            self._come_back()
        if spec.get("hostNetwork"):
            self.ip = self.node.ip          # the node's own address (kube-proxy, CNI agents)
        while self.ip is None:
            try:
                self.ip = self.node.allocate_ip()
            except RuntimeError:
                self.event("FailedCreatePodSandBox", "Failed to create pod sandbox: rpc error: code "
                           "= Unknown desc = failed to setup network for sandbox: plugin type="
                           "\"ptp\" failed (add): failed to allocate for range 0: no IP addresses "
                           f"available in range set: {self.node.cidr}", "Warning")
                self.flush()
                await self.cluster.clock.sleep(10)
                if self.removed:
                    return
                if self.pod["metadata"].get("deletionTimestamp"):
                    await self._terminate(0)
                    return
        if not spec.get("hostNetwork"):
            self.kubelet.by_ip[self.ip] = self
        self.flush()
        self.cluster.spawn(self._start_containers(), f"start {self.key[1]}")
        while not self.removed:
            meta = self.pod["metadata"]
            if meta.get("deletionTimestamp"):
                grace = meta.get("deletionGracePeriodSeconds")
                if grace is None:
                    grace = self.grace()
                # a second delete may shorten the grace period: kill sooner then
                if not self._terminating or grace < self._grace:
                    self._terminating, self._grace = True, grace
                    self.cluster.spawn(self._terminate(grace), f"terminate {self.key[1]}")
            self._wake.clear()
            await self._wake.wait()

    def _come_back(self) -> None:
        """After a node restart: the old sandbox and its containers are gone, so the
        kubelet makes a new sandbox and starts the containers again. Each that had run
        counts a restart, its last state the one containerd reports for a container
        that vanished with the node: exit code 255, reason Unknown."""
        old = {s.get("name"): s for s in (self.pod.get("status") or {}).get("containerStatuses") or []}
        self.event("SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
        for c in self.containers:
            c.came_back(old.get(c.name) or {})

    def initialized(self) -> bool:
        return all(c.state == "terminated" and c.exit_code == 0 for c in self.init_containers)

    async def _start_containers(self) -> None:
        """Init containers one by one, each to a clean exit; then the app containers."""
        for c in self.init_containers:
            c.task = self.cluster.spawn(c.run(), f"init container {self.key[1]}/{c.name}")
            await asyncio.wait([c.task])
            if self._terminating or self.removed or c.exit_code != 0:
                return      # stopped, or failed for good (restartPolicy Never): pod Failed
        if self._terminating or self.removed:
            return
        for c in self.containers:
            c.task = self.cluster.spawn(c.run(), f"container {self.key[1]}/{c.name}")

    async def _terminate(self, grace: float) -> None:
        await asyncio.gather(*(c.stop(grace) for c in self.init_containers + self.containers))
        if self.removed:
            return
        try:
            self.cluster.registry.delete("pods", self.key[0], self.key[1], grace_seconds=0)
        except NotFound:
            pass
        self.gone()

    # -- for containers -----------------------------------------------------------
    def event(self, reason: str, message: str, type_: str = "Normal",
              field_path: str | None = None) -> None:
        meta = self.pod["metadata"]
        obj = {"kind": "Pod", "apiVersion": "v1",
               "metadata": {"name": meta["name"], "namespace": self.key[0], "uid": self.uid,
                            "resourceVersion": meta.get("resourceVersion", "")}}
        self.cluster.event(obj, reason, message, type_, "kubelet", self.node.name, field_path)

    def annotations(self) -> dict:
        return dict(self.pod["metadata"].get("annotations") or {})

    def grace(self) -> int:
        value = (self.pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        return value if isinstance(value, int) and value >= 0 else 30

    def ports_changed(self, app) -> None:
        """One of the pod's apps opened or closed its ports (the Service listeners' gates)."""
        network = getattr(self.cluster, "network", None)
        if network is not None:
            network.ports_changed(self, bool(app.listening))

    def listener(self, port: int):
        """The app listening on this port of the pod's network namespace, if any."""
        for c in self.containers:
            if c.app is not None and c.state == "running" and c.app.accepts(port):
                return c.app
        return None

    # -- logs ------------------------------------------------------------------
    def container(self, name: str | None) -> Container | None:
        if name is None:
            return self.containers[0] if self.containers else None
        return next((c for c in self.containers + self.init_containers if c.name == name), None)

    def logs(self, name: str | None, previous: bool) -> list[str] | None:
        c = self.container(name)
        return None if c is None else c.logs(previous)

    def follow(self, name: str | None):
        c = self.container(name)
        if c is None:
            raise KeyError(name)
        return c.follow()

    # -- status ------------------------------------------------------------------
    def flush(self) -> None:
        self._dirty = False
        if self.removed:
            return
        try:
            self.cluster.registry.mutate("pods", self.key[0], self.key[1], self._write_status,
                                         subresource="status")
        except Exception:
            log.exception("status of %s/%s", *self.key)

    def _write_status(self, pod: dict) -> bool | None:
        if pod["metadata"].get("uid") != self.uid:
            return False
        stamp = self.cluster.clock.stamp()
        spec = pod.get("spec") or {}
        old = pod.get("status") or {}
        conds = [dict(c) for c in old.get("conditions") or []]
        cs = self.containers
        started = bool(self.ip)
        st.set_condition(conds, "PodReadyToStartContainers", started, stamp)
        pending = [c.name for c in self.init_containers
                   if not (c.state == "terminated" and c.exit_code == 0)]
        st.set_condition(conds, "Initialized", not pending, stamp,
                         "ContainersNotInitialized" if pending else None,
                         f"containers with incomplete status: [{' '.join(pending)}]" if pending else None)
        not_ready = [c.name for c in cs if not c.ready]
        msg = f"containers with unready status: [{' '.join(not_ready)}]" if not_ready else None
        st.set_condition(conds, "ContainersReady", not not_ready, stamp,
                         "ContainersNotReady" if not_ready else None, msg)
        gates = [g.get("conditionType") for g in spec.get("readinessGates") or []]
        have = {c["type"]: c["status"] for c in conds}
        missing = [g for g in gates if have.get(g) != "True"]
        if not_ready or not missing:
            st.set_condition(conds, "Ready", not not_ready, stamp,
                             "ContainersNotReady" if not_ready else None, msg)
        else:   # containers ready, a readiness gate is not
            gate_msg = (f'corresponding condition of pod readiness gate "{missing[0]}" does not exist.'
                        if missing[0] not in have else
                        f'the status of pod readiness gate "{missing[0]}" is not "True", but {have[missing[0]]}')
            st.set_condition(conds, "Ready", False, stamp, "ReadinessGatesNotReady", gate_msg)
        if not any(c["type"] == "PodScheduled" for c in conds):
            st.set_condition(conds, "PodScheduled", True, stamp)
        new = dict(old)
        policy = spec.get("restartPolicy", "Always")
        phase = st.phase(policy, cs)
        if pending:
            failed = any(c.state == "terminated" and c.exit_code and policy == "Never"
                         for c in self.init_containers)
            phase = "Failed" if failed else "Pending"
        new.update({
            "phase": phase,
            "conditions": st.sort_conditions(conds),
            "hostIP": self.node.ip,
            "hostIPs": [{"ip": self.node.ip}],
            "startTime": self.start_time,
            "qosClass": old.get("qosClass") or st.qos_class(spec),
            "containerStatuses": [c.status() for c in cs],
        })
        if self.init_containers:
            new["initContainerStatuses"] = [c.status() for c in self.init_containers]
        if self.ip:
            new["podIP"] = self.ip
            new["podIPs"] = [{"ip": self.ip}]
        if new == old:
            return False
        pod["status"] = new
        return None

"""Liveness, readiness and startup probes, run the way kubelet's prober runs them;
and a lifecycle hook's handler (`run_hook`: exec, httpGet, sleep), which the
kubelet runs with the same handlers.

Defaults are the API's: periodSeconds 10, timeoutSeconds 1, successThreshold 1,
failureThreshold 3, initialDelaySeconds 0. Every failed probe records an
Unhealthy event worded as kubelet words it; crossing failureThreshold changes
the result the container acts on.
"""

import asyncio
import shlex

from console.embedded.apps import Request

DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 1,
            "successThreshold": 1, "failureThreshold": 3}
TITLE = {"liveness": "Liveness", "readiness": "Readiness", "startup": "Startup"}


def param(spec: dict, key: str) -> int:
    value = spec.get(key)
    return DEFAULTS[key] if not isinstance(value, int) or value <= 0 and key != "initialDelaySeconds" \
        else value


def resolve_port(port, container_spec: dict) -> int | None:
    if isinstance(port, int):
        return port
    if isinstance(port, str):
        if port.isdigit():
            return int(port)
        for p in container_spec.get("ports") or []:
            if p.get("name") == port:
                return p.get("containerPort")
    return None


class Prober:
    def __init__(self, container, kind: str, spec: dict):
        self.c = container
        self.kind = kind
        self.spec = spec
        self.result = {"readiness": False, "liveness": True}.get(kind, False)
        self.successes = 0
        self.failures = 0

    async def run(self) -> None:
        c, spec = self.c, self.spec
        await c.clock.sleep(param(spec, "initialDelaySeconds"))
        period = param(spec, "periodSeconds")
        while c.state == "running":
            if self.kind != "startup" and not c.started:
                await c.clock.sleep(1)      # liveness/readiness wait for startup to pass
                continue
            ok, output = await self.probe_once()
            if c.state != "running":
                return
            if ok is None:
                # the prober itself failed: kubelet throws the result away
                c.event("Unhealthy", f"{TITLE[self.kind]} probe errored: {output}", "Warning")
            elif ok:
                self.failures = 0
                self.successes += 1
                if self.successes >= (param(spec, "successThreshold") if self.kind == "readiness" else 1):
                    self.set(True)
                if self.kind == "startup" and self.result:
                    return
            else:
                self.successes = 0
                self.failures += 1
                c.event("Unhealthy", f"{TITLE[self.kind]} probe failed: {output}", "Warning")
                if self.failures >= param(spec, "failureThreshold"):
                    self.set(False)
                    if self.kind in ("liveness", "startup"):
                        return     # on hold until the container restarts
            await c.clock.sleep(period)

    def set(self, value: bool) -> None:
        if value != self.result or self.kind in ("liveness", "startup"):
            changed = value != self.result
            self.result = value
            if changed or not value:
                self.c.on_probe(self.kind, value)

    async def probe_once(self, timeout: float | None = None) -> tuple[bool | None, str]:
        """(True|False, output), or (None, error) when the probe could not run."""
        timeout = param(self.spec, "timeoutSeconds") if timeout is None else timeout
        try:
            if "exec" in self.spec:
                return await self._exec(timeout)
            if "httpGet" in self.spec:
                return await self._http(timeout)
            if "tcpSocket" in self.spec or "grpc" in self.spec:
                return self._tcp()
        except Exception as exc:  # a probe must never take the kubelet down
            return False, f"probe error: {exc}"
        return False, "unknown probe handler: one of exec, httpGet, tcpSocket or grpc must be set"

    async def _exec(self, timeout: int) -> tuple[bool, str]:
        command = (self.spec.get("exec") or {}).get("command") or []
        if not command:
            return False, ("OCI runtime exec failed: exec failed: unable to start container "
                           "process: exec: \"\": executable file not found in $PATH: unknown")
        app = self.c.app
        error = "container is not running" if app is None else app.exec_error(list(command))
        if error:
            return False, error
        task = asyncio.ensure_future(app.exec(list(command)))
        try:
            code, output = await asyncio.wait_for(task, self.c.clock.real(timeout))
        except asyncio.TimeoutError:
            return False, f'command "{shlex.join(command)}" timed out'
        return code == 0, output.rstrip("\n")

    def _target(self, kind: str) -> tuple[str, int | None]:
        h = self.spec.get(kind) or {}
        return self.c.worker.ip or "", resolve_port(h.get("port"), self.c.spec)

    async def _http(self, timeout: int) -> tuple[bool, str]:
        h = self.spec["httpGet"]
        ip, port = self._target("httpGet")
        scheme = (h.get("scheme") or "HTTP").lower()
        path = h.get("path") or "/"
        if not path.startswith("/"):
            path = "/" + path
        url = f"{scheme}://{ip}:{port}{path}"
        if port is None:
            return None, f"couldn't find port: {h.get('port')} in container \"{self.c.name}\""
        app = self.c.worker.listener(port)
        if app is None:
            return False, f'Get "{url}": dial tcp {ip}:{port}: connect: connection refused'
        headers = {"host": f"{ip}:{port}", "user-agent": f"kube-probe/{self.c.cluster.version[1:].rsplit('.', 1)[0]}",
                   "accept": "*/*"}
        for hdr in h.get("httpHeaders") or []:
            headers[str(hdr.get("name", "")).lower()] = str(hdr.get("value", ""))
        req = Request("GET", path, headers, b"", client=self.c.worker.node.ip)
        if app.latency() > timeout:          # an overloaded app answers too late
            await self.c.clock.sleep(timeout)
            return False, (f'Get "{url}": context deadline exceeded (Client.Timeout exceeded '
                           "while awaiting headers)")
        result = await app.call(req, probe=True)
        if 200 <= result.status < 400:
            return True, ""
        return False, f"HTTP probe failed with statuscode: {result.status}"

    def _tcp(self) -> tuple[bool, str]:
        kind = "tcpSocket" if "tcpSocket" in self.spec else "grpc"
        ip, port = self._target(kind)
        if port is None:
            return None, f"couldn't find port: {(self.spec[kind] or {}).get('port')} in container \"{self.c.name}\""
        if self.c.worker.listener(port) is None:
            return False, f"dial tcp {ip}:{port}: connect: connection refused"
        return True, ""


async def run_hook(container, hook: dict, within: float) -> bool:
    """A lifecycle hook (preStop) given `within` seconds: True if its handler succeeded
    (an exec that exits 0, an httpGet answered 2xx/3xx, a sleep that ran out)."""
    sleep = hook.get("sleep")
    if isinstance(sleep, dict):
        await container.clock.sleep(max(0, int(sleep.get("seconds") or 0)))
        return True
    ok, _ = await Prober(container, "hook", hook).probe_once(timeout=within)
    return ok is True

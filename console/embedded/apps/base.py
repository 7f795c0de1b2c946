"""What every simulated app is: a process in a container with a file system,
a log, CPU it burns, ports it listens on once booted, and an HTTP handler.

The kubelet runs `main()` as the container's process (its return value is the
exit code), sends `sigterm()` to stop it, runs probes through `exec()` and
`handle()`, and the Service proxy calls `handle()` for real traffic.
"""

import asyncio
import random
from http import HTTPStatus
from dataclasses import dataclass, field

from console.embedded.apps.fs import FileSystem
from console.embedded.apps.procs import HUP, INT, QUIT, TERM, ProcTable
from console.embedded.apps.quota import Quota
from console.embedded.apps.shell import GNU, IO, SHELL_ONLY, Shell
from console.embedded.apps.streams import Capture

REASONS = {s.value: s.phrase for s in HTTPStatus}


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)   # lower-case names
    body: bytes = b""
    client: str = "10.244.0.1"
    sim: bool = False      # served on the simulated clock (App.call: curl in a pod, probes)

    @property
    def host(self) -> str:
        return self.headers.get("host", "")

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def head_lines(resp: Response, keep: bool = True, date: str = "") -> list[tuple[str, str]]:
    """The header lines a server in the cluster writes with a Response, in order (the
    Service proxy writes them; curl -i and http show them). An app's (Tomcat-like):
    Content-Type, Content-Length, its own, Date. An Envoy's (resp.envoy): lower-case
    names, date, then server and x-envoy-upstream-service-time last."""
    date = date or http_date()
    if not getattr(resp, "envoy", False):
        lines = [("Content-Type", resp.content_type)] if resp.content_type else []
        if resp.status not in (204, 304):
            lines.append(("Content-Length", str(len(resp.body))))
        lines += list(resp.headers.items())
        if not keep:
            lines.append(("Connection", "close"))
        return lines + [("Date", date)]
    last = ("server", "x-envoy-upstream-service-time")
    lines = [("content-length", str(len(resp.body))), ("content-type", resp.content_type)]
    lines += [(k.lower(), v) for k, v in resp.headers.items() if k not in last]
    lines.append(("date", date))
    lines += [(k, resp.headers[k]) for k in last if k in resp.headers]
    if not keep:
        lines.append(("connection", "close"))
    return lines


def http_date(when: float | None = None) -> str:
    import time
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(when))


class SecondStamp:
    """time.strftime(fmt) of the current UTC second, formatted once a second: an access
    log line per request is on the request path. One per app (no module-level cache)."""

    __slots__ = ("fmt", "second", "text")

    def __init__(self, fmt: str):
        self.fmt, self.second, self.text = fmt, -1, ""

    def __call__(self) -> str:
        import time
        now = int(time.time())
        if now != self.second:
            self.text, self.second = time.strftime(self.fmt, time.gmtime(now)), now
        return self.text


class Cpu:
    """CPU time per container, in core-seconds of simulated time.

    A request's cost is real work done at real request rates, so it is scaled
    by the clock's speed: usage / (simulated window) then reads as the cores
    the traffic would need, whatever --speed is.
    """

    def __init__(self, clock, idle_millicores: float = 1.0):
        self.clock = clock
        self.idle = idle_millicores / 1000.0
        self.since = clock.elapsed()
        self.burned = 0.0

    def add(self, millicore_seconds: float) -> None:
        self.burned += millicore_seconds / 1000.0 * self.clock.speed

    def burn_for(self, millicores: float, sim_seconds: float) -> None:
        self.burned += millicores / 1000.0 * sim_seconds

    def usage_core_seconds(self) -> float:
        """Cumulative, like cAdvisor's usage_usec (monotonic)."""
        return self.burned + self.idle * (self.clock.elapsed() - self.since)


@dataclass
class Context:
    clock: object
    pod: str
    namespace: str
    container: str
    image: str
    ip: str
    spec: dict                       # the container's spec
    annotations: dict
    log: object                      # callable(line)
    env: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)   # path -> bytes from configMap/secret volumes
    net: object = None                          # the pod's network for curl/wget (kubelet/podnet.py)
    grace_seconds: float = 30.0                 # the pod's terminationGracePeriodSeconds
    broker: object = None                       # the cluster's message broker (events.py)
    on_ports: object = None                     # callable(app) when it opens or closes its ports


DEFAULT_CORES = 2.0      # without limits.cpu a container may burst to about this much


def cpu_cores(spec: dict) -> float:
    """limits.cpu as cores ("500m" -> 0.5), or DEFAULT_CORES."""
    raw = str(((spec.get("resources") or {}).get("limits") or {}).get("cpu") or "").strip()
    try:
        value = float(raw[:-1]) / 1000 if raw.endswith("m") else float(raw)
    except ValueError:
        return DEFAULT_CORES
    return value if value > 0 else DEFAULT_CORES


def annotation_float(ctx: Context, key: str, default: float) -> float:
    raw = ctx.annotations.get(f"kubelab.dev/{key}")
    if raw is None:
        return default
    try:
        text = str(raw).strip()
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        ctx.log(f"kubelab: ignoring annotation kubelab.dev/{key}={raw!r}: not a number")
        return default


class App:
    kind = "http"
    flavor = GNU
    default_ports: tuple[int, ...] = (8080,)
    boot_seconds = 2.0
    cpu_per_request = 2.0            # millicore-seconds (= ms of one core)
    latency_ms = 2.0
    error_rate = 0.0
    stop_exit: int | None = 143      # exit code on SIGTERM; None: SIGTERM is ignored
    handles = frozenset({TERM, INT, HUP})   # signals PID 1 has handlers for (kill from inside)
    tools: frozenset = frozenset()          # commands only some images have (shell.OPTIONAL)
    idle_millicores = 1.0
    memory_mb = 50.0                 # resident set once booted: over limits.memory -> OOMKilled
    entrypoints: tuple[str, ...] = ()  # a `command` naming one of these runs the app itself

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.clock = ctx.clock
        self.fs = FileSystem(ctx.files)
        self.procs = ProcTable(self.clock)
        self.shell = self.new_shell()      # PID 1's own shell, for images that run one
        self.shell.pid = 1
        self.cpu = Cpu(self.clock, self.idle_millicores)
        self.listening: set[int] = set()
        self.connections: set = set()     # the Service proxy's connections to this app
        self.inflight = 0
        self.served = 0
        self._stop = asyncio.Event()
        self.exit_code: int | None = None   # set when the app ends by itself
        self.boot_seconds = annotation_float(ctx, "boot-seconds", self.boot_seconds)
        self.cpu_per_request = annotation_float(ctx, "cpu-per-request", self.cpu_per_request)
        self.latency_ms = annotation_float(ctx, "latency-ms", self.latency_ms)
        self.error_rate = annotation_float(ctx, "error-rate", self.error_rate)
        self.memory_mb = annotation_float(ctx, "memory-mb", self.memory_mb)
        self.cores = cpu_cores(ctx.spec)
        self.quota = Quota(self.cores)
        self.procs.start_init(self.cmdline(), self.signal).cpu = self.cpu.usage_core_seconds

    def start_error(self) -> str | None:
        """Why the runtime cannot start this process (a missing binary), or None."""
        return None

    def cmdline(self) -> list[str]:
        """PID 1's command line, as `ps` shows it."""
        command = list(self.ctx.spec.get("command") or []) + list(self.ctx.spec.get("args") or [])
        return command or ["/" + self.ctx.image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]]

    def signal(self, sig: int) -> None:
        """A signal sent to PID 1 from inside the container: only those the process
        has a handler for arrive; a handled TERM/INT/HUP/QUIT is a clean shutdown."""
        if sig not in self.handles:
            return
        if sig in (TERM, INT, HUP, QUIT):
            self.exit(self.signal_exit(sig))

    def signal_exit(self, sig: int) -> int:
        return 128 + sig

    # -- the process ---------------------------------------------------------------
    def ports(self) -> list[int]:
        declared = [p.get("containerPort") for p in self.ctx.spec.get("ports") or []]
        return [p for p in declared if isinstance(p, int)] or list(self.default_ports)

    async def main(self) -> int:
        await self.boot()
        self.open_ports(self.ports())
        self.started()
        await self._stop.wait()
        self.stopping()
        await self.shutdown()
        self.close_ports()
        self.drop_connections(graceful=True)
        return self.exit_code if self.exit_code is not None else (self.stop_exit or 0)

    async def shutdown(self) -> None:
        """Between SIGTERM and closing the ports (still serving)."""

    def open_ports(self, ports) -> None:
        self.listening.update(ports)
        if self.ctx.on_ports is not None:
            self.ctx.on_ports(self)      # the Service listeners may take connections now

    def close_ports(self) -> None:
        if not self.listening:
            return
        self.listening.clear()
        if self.ctx.on_ports is not None:
            self.ctx.on_ports(self)

    def drop_connections(self, graceful: bool) -> None:
        for conn in list(self.connections):
            conn.drop(graceful)

    async def boot(self) -> None:
        if self.boot_seconds > 0:
            self.cpu.burn_for(500, self.boot_seconds)
            await self.clock.sleep(self.boot_seconds)

    def started(self) -> None:
        self.ctx.log(f"listening on :{','.join(map(str, sorted(self.listening)))}")

    def stopping(self) -> None:
        self.ctx.log("received SIGTERM, shutting down")

    def exit(self, code: int) -> None:
        """The app ends by itself (a crash, an actuator shutdown, a handled signal)."""
        self.exit_code = code
        self._stop.set()

    def sigterm(self) -> None:
        if self.stop_exit is not None:
            self._stop.set()

    # -- traffic ---------------------------------------------------------------------
    def accepts(self, port: int) -> bool:
        return port in self.listening

    def handle(self, req: Request):
        """Response, or an awaitable of one when the app takes its time."""
        self.cpu.add(self.cpu_per_request)
        self.served += 1
        if self.error_rate and random.random() < self.error_rate:
            return self.delayed(Response(500, b'{"error":"Internal Server Error"}'))
        return self.delayed(self.route(req))

    async def call(self, req: Request, probe: bool = False) -> Response:
        """A request from inside the cluster (kubelet probes, curl in a pod): the same
        latency, spent on the simulated clock like every in-cluster duration."""
        req.sim = True
        delay = self.latency()
        if not probe:
            # in-cluster traffic already runs at simulated rates: no speed scaling
            self.cpu.burned += self.cpu_per_request / 1000.0
            self.served += 1
        self.inflight += 1
        try:
            await self.clock.sleep(delay)
        finally:
            self.inflight -= 1
        if not probe and self.error_rate and random.random() < self.error_rate:
            return Response(500, b'{"error":"Internal Server Error"}')
        resp = self.route(req)
        return resp if isinstance(resp, Response) else await resp

    def route(self, req: Request):
        """The answer: a Response, or a coroutine of one for an app that calls
        other Services while it serves (it runs after the app's own time)."""
        return Response(200, b'{"status":"ok"}')

    def latency(self, take: bool = False) -> float:
        """Seconds (real) for the next request: its own wait (latency-ms), its CPU time
        shared with the requests in flight over the cores it may run on, and the wait
        for CPU quota (quota.py), so a pod's throughput tops out at cores /
        cpu-per-request and latency grows. `take`: the request is served, its CPU
        comes out of the quota (a probe's check only looks)."""
        cpu = self.cpu_per_request / 1000.0
        run = cpu * max(1.0, (self.inflight + 1) / max(1.0, self.cores))
        throttled = self.quota.take(cpu) if take else self.quota.wait()
        return self.latency_ms / 1000.0 + run + throttled

    def delayed(self, resp):
        delay = self.latency(take=True)
        if isinstance(resp, Response) and delay <= 0.0005:
            return resp
        return self._after(delay, resp)

    async def _after(self, delay: float, resp) -> Response:
        self.inflight += 1
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            if not isinstance(resp, Response):
                resp.close()               # the call it would have made is never made
            raise
        finally:
            self.inflight -= 1
        return resp if isinstance(resp, Response) else await resp

    async def fetch(self, within: Request, method: str, url: str, body: bytes = b"",
                    headers: dict | None = None, timeout: float | None = None) -> Response:
        """An HTTP call this app makes while serving `within`, through the pod's
        network, in the same time frame as the request it serves. Raises what
        PodNet.request raises."""
        from urllib.parse import urlsplit
        parts = urlsplit(url if "://" in url else "http://" + url)
        host, port = parts.hostname or "", parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        hdrs = {"host": f"{host}:{port}", "content-type": "application/json",
                "accept": "application/json", **(headers or {})}
        if self.ctx.net is None:
            raise LookupError(host)
        req = Request(method, target, hdrs, body)
        return await self.ctx.net.request(host, port, req, timeout, realtime=not within.sim)

    # -- exec ------------------------------------------------------------------------
    def new_shell(self, session=None, tty_name: str | None = None) -> Shell:
        """A shell process in this container (an exec, a probe): its own cwd and
        variables, the container's file system, network and processes."""
        sh = Shell(self.fs, self.clock.sleep, env=self.ctx.env, flavor=self.flavor,
                   hostname=self.ctx.pod, procs=self.procs, session=session, tty_name=tty_name)
        sh.net, sh.app = self.ctx.net, self
        return sh

    def exec_error(self, argv: list[str]) -> str | None:
        """runc's reason for not starting argv[0] in this container, or None."""
        name = argv[0] if argv else ""
        base = name.rsplit("/", 1)[-1]
        if name and base not in SHELL_ONLY and self.shell.command(name) is not None:
            return None
        reason = (f"stat {name}: no such file or directory" if name.startswith("/")
                  else "executable file not found in $PATH")
        return ("OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{name}": {reason}: unknown')

    async def exec(self, argv: list[str]) -> tuple[int, str]:
        """Run a command whole (exec probes): exit code and output, stdout and stderr
        interleaved."""
        out = Capture()
        code = await self.new_shell().run_argv(argv, IO(out, out))
        return code, out.text()

    def exec_session(self, argv: list[str], out, err, tty: bool = False, stdin: bool = False):
        from console.embedded.apps.session import ExecSession
        return ExecSession(self, argv, out, err, tty=tty, stdin=stdin)

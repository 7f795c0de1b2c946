"""The Istio sidecar image (docker.io/istio/proxyv2), in its three roles.

- `istio-iptables ...` (the injected istio-init init container): writes the
  redirect rules, prints what istio-iptables prints, exits 0.
- `proxy sidecar ...` (the istio-proxy container): pilot-agent with Envoy. Ready
  on :15021/healthz/ready; :15020 answers the app probes istio's injector
  rewrote (/app-health/<container>/livez|readyz|startupz), checking the app's
  original probe from ISTIO_KUBE_APP_PROBERS as pilot-agent does; :15090
  serves stats. It never takes the app's ports: the pod's traffic itself goes
  through the mesh (console/embedded/mesh), which asks this process whether it
  runs.
"""

import json

from console.embedded.apps.base import App, Request, Response

PORTS = (15000, 15001, 15004, 15006, 15020, 15021, 15090)
DRAIN_SECONDS = 5.0       # ProxyConfig terminationDrainDuration's default


class IstioProxyApp(App):
    kind = "istio-proxy"
    default_ports = PORTS
    boot_seconds = 1.5
    cpu_per_request = 0.2
    latency_ms = 0.0
    stop_exit = 0
    idle_millicores = 4.0
    memory_mb = 45.0

    def __init__(self, ctx):
        super().__init__(ctx)
        # the pod's kubelab.dev/* profile describes its app, not the injected proxy
        cls = type(self)
        self.boot_seconds, self.cpu_per_request = cls.boot_seconds, cls.cpu_per_request
        self.latency_ms, self.error_rate, self.memory_mb = cls.latency_ms, 0.0, cls.memory_mb

    def _role(self) -> str:
        args = list(self.ctx.spec.get("command") or []) + list(self.ctx.spec.get("args") or [])
        return "iptables" if "istio-iptables" in args[:2] else "proxy"

    def ports(self) -> list[int]:
        return [] if self._role() == "iptables" else list(PORTS)

    async def main(self) -> int:
        if self._role() != "iptables":
            return await super().main()
        for line in IPTABLES:
            self.ctx.log(line)
        await self.clock.sleep(0.3)
        return 0

    def started(self) -> None:
        self.ctx.log("info\tEnvoy proxy is ready")

    def stopping(self) -> None:
        self.ctx.log("info\tAgent draining Proxy for termination")

    async def shutdown(self) -> None:
        """pilot-agent drains for terminationDrainDuration (5 s) before Envoy exits,
        still serving, so the app's own graceful shutdown keeps its traffic."""
        self.ctx.log("info\tGraceful termination period is 5s, starting...")
        await self.clock.sleep(DRAIN_SECONDS)
        self.ctx.log("info\tGraceful termination period complete, terminating remaining proxies.")
        self.ctx.log("info\tEnvoy exited normally")

    def route(self, req):
        if req.path == "/healthz/ready":
            return Response(200, b"", "text/plain")
        if req.path == "/stats/prometheus":
            return Response(200, b"# envoy stats\n", "text/plain")
        return Response(404, b"", "text/plain")

    async def call(self, req: Request, probe: bool = False) -> Response:
        if req.path.startswith("/app-health/"):
            return await self._app_health(req)
        return await super().call(req, probe)

    async def _app_health(self, req: Request) -> Response:
        """pilot-agent's status server: the original probe, run against the app."""
        try:
            probers = json.loads(self.ctx.env.get("ISTIO_KUBE_APP_PROBERS") or "{}")
        except ValueError:
            probers = {}
        spec = probers.get(req.path)
        if not isinstance(spec, dict):
            return Response(404, b"", "text/plain")
        worker = getattr(self.ctx.net, "worker", None)
        if "tcpSocket" in spec:
            port = (spec.get("tcpSocket") or {}).get("port")
            up = worker is not None and isinstance(port, int) and worker.listener(port) is not None
            return Response(200 if up else 500, b"", "text/plain")
        get = spec.get("httpGet") or {}
        port = get.get("port")
        app = worker.listener(port) if worker is not None and isinstance(port, int) else None
        if app is None:
            return Response(500, b"", "text/plain")
        headers = {"host": f"localhost:{port}", "user-agent": req.headers.get("user-agent", "")}
        for h in get.get("httpHeaders") or []:
            headers[str(h.get("name", "")).lower()] = str(h.get("value", ""))
        answer = await app.call(Request("GET", get.get("path") or "/", headers, b"", "127.0.0.6"),
                                probe=True)
        return Response(answer.status if 200 <= answer.status < 400 else 500, b"", "text/plain")


IPTABLES = [
    "info\tIstio iptables environment:",
    "info\tIstio iptables variables:",
    "info\tPROXY_PORT=15001",
    "info\tINBOUND_CAPTURE_PORT=15006",
    "info\tPROXY_UID=1337",
    "info\tINBOUND_INTERCEPTION_MODE=REDIRECT",
    "info\tINBOUND_PORTS_INCLUDE=*",
    "info\tINBOUND_PORTS_EXCLUDE=15090,15021,15020",
    "info\tOUTBOUND_IP_RANGES_INCLUDE=*",
    "info\tRunning iptables-restore with the following input:",
    "* nat",
    "-N ISTIO_INBOUND",
    "-N ISTIO_REDIRECT",
    "-N ISTIO_IN_REDIRECT",
    "-N ISTIO_OUTPUT",
    "-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN",
    "-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001",
    "-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006",
    "-A PREROUTING -p tcp -j ISTIO_INBOUND",
    "-A ISTIO_INBOUND -p tcp --dport 15090 -j RETURN",
    "-A ISTIO_INBOUND -p tcp --dport 15021 -j RETURN",
    "-A ISTIO_INBOUND -p tcp --dport 15020 -j RETURN",
    "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT",
    "-A OUTPUT -p tcp -j ISTIO_OUTPUT",
    "-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN",
    "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN",
    "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
    "-A ISTIO_OUTPUT -j ISTIO_REDIRECT",
    "COMMIT",
]

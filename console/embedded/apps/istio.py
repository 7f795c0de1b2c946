"""The Istio sidecar (istio/proxyv2): ready on :15021/healthz/ready, stats on
:15090. It never takes the app's ports, so a 2/2 pod still reaches its app.
Mesh routing itself belongs to the Service proxy pipeline (roadmap)."""

from console.embedded.apps.base import App, Response


class IstioProxyApp(App):
    kind = "istio-proxy"
    default_ports = (15000, 15001, 15006, 15021, 15090)
    boot_seconds = 1.5
    cpu_per_request = 0.2
    latency_ms = 0.0
    stop_exit = 0
    idle_millicores = 4.0
    memory_mb = 45.0

    def ports(self) -> list[int]:
        return list(self.default_ports)

    def started(self) -> None:
        self.ctx.log("info\tEnvoy proxy is ready")

    def route(self, req):
        if req.path == "/healthz/ready":
            return Response(200, b"", "text/plain")
        if req.path == "/stats/prometheus":
            return Response(200, b"# envoy stats\n", "text/plain")
        return Response(404, b"", "text/plain")

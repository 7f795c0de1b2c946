"""metrics-server's own process: serves /readyz, /livez and its API port. The
scraping and the metrics.k8s.io storage are the cluster's metrics component
(console/embedded/metrics), which runs while this process does."""

from console.embedded.apps.base import App, Response


class MetricsServerApp(App):
    kind = "metrics-server"
    default_ports = (10250,)
    boot_seconds = 3.0
    cpu_per_request = 0.5
    latency_ms = 1.0
    idle_millicores = 4.0         # what it burns scraping every 15 s
    memory_mb = 21.0

    def _klog(self, where: str, msg: str) -> None:
        """klog's header: I<mmdd hh:mm:ss.uuuuuu> <pid> <file:line>] msg"""
        now = self.clock.now()
        self.ctx.log(f"I{now:%m%d %H:%M:%S.%f}       1 {where}] {msg}")

    async def boot(self) -> None:
        self._klog("serving.go:374", "Generated self-signed cert (/tmp/apiserver.crt, "
                   "/tmp/apiserver.key)")
        await super().boot()

    def started(self) -> None:
        port = sorted(self.listening)[0] if self.listening else 10250
        self._klog("secure_serving.go:213", f"Serving securely on [::]:{port}")

    def route(self, req) -> Response:
        if req.path in ("/readyz", "/livez", "/healthz"):
            return Response(200, b"ok", "text/plain")
        return Response(404, b'{"kind":"Status","apiVersion":"v1","status":"Failure",'
                        b'"reason":"NotFound","code":404}')

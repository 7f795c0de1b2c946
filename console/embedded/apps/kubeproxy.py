"""kube-proxy's own process on a node (kube-system's DaemonSet): its health and
metrics ports on the node's address. The Service proxying itself is the
cluster's network component (console/embedded/network), which runs on every
node whether or not this pod does."""

from console.embedded.apps.base import App, Response


class KubeProxyApp(App):
    kind = "kube-proxy"
    default_ports = (10249, 10256)
    entrypoints = ("/usr/local/bin/kube-proxy", "kube-proxy")
    boot_seconds = 1.0
    cpu_per_request = 0.5
    latency_ms = 1.0
    idle_millicores = 1.0
    memory_mb = 18.0

    def started(self) -> None:
        now = self.clock.now()
        node = self.ctx.env.get("NODE_NAME", "")
        self.ctx.log(f"I{now:%m%d %H:%M:%S.%f}       1 server_linux.go:66] \"Using iptables "
                     f"proxy\" node=\"{node}\"")
        self.ctx.log(f"I{now:%m%d %H:%M:%S.%f}       1 shared_informer.go:320] \"Caches are "
                     "synced\" controller=\"service config\"")

    def route(self, req) -> Response:
        if req.path == "/healthz" or req.path == "/livez":
            return Response(200, b'{"lastUpdated":"","currentTime":""}')
        if req.path == "/metrics":
            return Response(200, b"# kube-proxy\n", "text/plain")
        return Response(404, b"404 page not found\n", "text/plain")

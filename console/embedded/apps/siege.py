"""The labs' siege pod: idle until someone execs into it (exec lands later)."""

from console.embedded.apps.base import App


class SiegeApp(App):
    kind = "siege"
    default_ports = (80,)
    boot_seconds = 0.5
    stop_exit = 0
    memory_mb = 12.0
    idle_millicores = 0.5

    def started(self) -> None:
        self.ctx.log("siege pod ready: kubectl exec -it siege -- /bin/bash")

    def route(self, req):
        return self.fs_page()

    def fs_page(self):
        from console.embedded.apps.base import Response
        return Response(200, b"siege\n", "text/plain")

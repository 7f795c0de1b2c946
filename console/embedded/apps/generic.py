"""Any other image: an HTTP server on its declared ports that answers 200."""

import json

from console.embedded.apps.base import App, Response


class GenericApp(App):
    kind = "http"
    boot_seconds = 2.0

    def started(self) -> None:
        self.ctx.log(f"{self.ctx.image}: listening on port(s) "
                     f"{', '.join(map(str, sorted(self.listening)))}")

    def route(self, req):
        body = {"pod": self.ctx.pod, "image": self.ctx.image, "path": req.path,
                "method": req.method}
        return Response(200, json.dumps(body).encode() + b"\n")

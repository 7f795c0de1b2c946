"""One request handed to one app, as a fresh connection to a pod would carry it.

The two paces of traffic in the embedded cluster:
  realtime=False  in-cluster callers (curl in a pod, an app calling a Service):
                  the app's `call`, its latency spent on the simulated clock
  realtime=True   traffic that arrives on a loopback socket at real rates (the
                  Service listeners, a pod's egress listener): the app's `handle`

An app that dies while it holds the request (killed, OOM) resets it: the caller
gets ConnectionResetError, as a TCP peer would see RST.
"""

import logging

from console.embedded.apps.base import Response

log = logging.getLogger("kubelab.network")


class InFlight:
    """Stands in the app's `connections` while it serves one request."""

    __slots__ = ("reset",)

    def __init__(self):
        self.reset = False

    def drop(self, graceful: bool) -> None:
        if not graceful:
            self.reset = True


async def exchange(app, req, realtime: bool = False) -> Response:
    """The app's answer to req; ConnectionResetError when it died holding it."""
    token = InFlight()
    app.connections.add(token)
    try:
        try:
            result = app.handle(req) if realtime else app.call(req)
            if not isinstance(result, Response):
                result = await result
        except (ConnectionError, LookupError):
            raise
        except Exception:   # a simulated app's bug answers 500, never takes the caller down
            log.exception("app handler")
            result = Response(500, b"", "text/plain")
    finally:
        app.connections.discard(token)
    if token.reset or not app.listening:
        raise ConnectionResetError("connection reset by peer")
    return result

"""Document 003's hostname app: Flask's development server with its reloader
(`flask run --debug`), answering `/` with the pod's hostname and address:

    <p>Hostname: dpy-hname-...</p><p>IPv4 Address: 10.244.1.5</p>

The reloader is PID 1 and the server its child, so `ps ax | grep flask` shows two
flask processes; killing the serving one (the document's `kill -9 20`) ends the
reloader too (Werkzeug exits with the child's status: -9, 247 to the kernel), the
container stops and the kubelet starts it again. `kill -9 1` is ignored, as for
any PID 1 without a handler.
"""

from console.embedded.apps.base import App, Response, SecondStamp
from console.embedded.apps.procs import INT, TERM

ARGV = ["/usr/local/bin/python", "/usr/local/bin/flask", "run", "--host=0.0.0.0", "--port=80",
        "--debug"]
SERVER = "Werkzeug/3.0.1 Python/3.12.1"


class FlaskHostnameApp(App):
    kind = "hostname"
    default_ports = (80,)
    boot_seconds = 1.0
    cpu_per_request = 1.0
    latency_ms = 1.0
    memory_mb = 30.0
    idle_millicores = 2.0          # the reloader polls the files (stat) every second
    handles = frozenset({TERM, INT})

    def __init__(self, ctx):
        super().__init__(ctx)
        self.access_time = SecondStamp("%d/%b/%Y %H:%M:%S")   # werkzeug's, in brackets

    def cmdline(self) -> list[str]:
        if self.ctx.spec.get("command") or self.ctx.spec.get("args"):
            return super().cmdline()
        return list(ARGV)

    def started(self) -> None:
        log = self.ctx.log
        for line in (" * Serving Flask app 'app'", " * Debug mode: on",
                     "WARNING: This is a development server. Do not use it in a production "
                     "deployment. Use a production WSGI server instead.",
                     " * Running on all addresses (0.0.0.0)", " * Running on http://127.0.0.1:80",
                     f" * Running on http://{self.ctx.ip}:80", "Press CTRL+C to quit",
                     " * Restarting with stat"):
            log(line)
        server = self.procs.spawn(list(ARGV), ppid=1)
        server.on_exit = self._server_died
        log(" * Debugger is active!")
        log(" * Debugger PIN: 118-093-473")

    def _server_died(self, sig: int | None) -> None:
        """The reloader's subprocess.call returned -sig: it exits with that status
        (unless it is ending anyway: SIGTERM from the kubelet, an exit of its own)."""
        if sig is not None and not self._stop.is_set():
            self.exit((-sig) & 0xFF)

    def signal_exit(self, sig: int) -> int:
        return 0 if sig == INT else 128 + sig     # ^C: KeyboardInterrupt, a clean exit

    def route(self, req):
        if req.path == "/" and req.method in ("GET", "HEAD"):
            body = (f"<p>Hostname: {self.ctx.pod}</p><p>IPv4 Address: {self.ctx.ip}</p>\n").encode()
            resp = Response(200, body, "text/html; charset=utf-8")
        else:
            resp = Response(404, NOT_FOUND, "text/html; charset=utf-8")
        self.ctx.log(f'{req.client} - - [{self.access_time()}] "{req.method} {req.target} HTTP/1.1" {resp.status} -')
        resp.headers["Server"] = SERVER
        return resp


NOT_FOUND = (b'<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n'
             b'<p>The requested URL was not found on the server. If you entered the URL manually '
             b'please check your spelling and try again.</p>\n')

"""nginx: boots at once, serves the welcome page on :80, logs each request the
way the official image does."""

import time

from console.embedded.apps.base import App, Response, SecondStamp
from console.embedded.apps.procs import HUP, INT, QUIT, SIGNALS, TERM

WELCOME = b"""<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

NOT_FOUND = b"""<html>
<head><title>404 Not Found</title></head>
<body>
<center><h1>404 Not Found</h1></center>
<hr><center>nginx/%s</center>
</body>
</html>
"""


class NginxApp(App):
    kind = "nginx"
    default_ports = (80,)
    boot_seconds = 0.0
    cpu_per_request = 0.5
    latency_ms = 0.0
    stop_exit = 0
    memory_mb = 8.0
    idle_millicores = 0.2
    handles = frozenset({TERM, INT, QUIT, HUP, SIGNALS["USR1"], SIGNALS["USR2"], SIGNALS["WINCH"]})
    workers = 2

    def __init__(self, ctx):
        super().__init__(ctx)
        self.access_time = SecondStamp("%d/%b/%Y:%H:%M:%S +0000")

    def cmdline(self) -> list[str]:
        if self.ctx.spec.get("command") or self.ctx.spec.get("args"):
            return super().cmdline()
        return ["nginx: master process nginx -g daemon off;"]

    def signal_exit(self, sig: int) -> int:
        return 0                     # nginx exits 0 after TERM, INT or QUIT

    def signal(self, sig: int) -> None:
        if sig in (HUP, SIGNALS["USR1"], SIGNALS["USR2"], SIGNALS["WINCH"]):
            self.ctx.log(f"{self._stamp()} [notice] 1#1: signal {sig} received, ignored")
            return
        super().signal(sig)

    def version(self) -> str:
        tag = self.ctx.image.rsplit(":", 1)[1] if ":" in self.ctx.image.rsplit("/", 1)[-1] else ""
        return tag if tag[:1].isdigit() else "1.27.3"

    def ports(self) -> list[int]:
        return [80]            # nginx.conf listens on 80 whatever the pod declares

    def _stamp(self) -> str:
        return time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime())

    async def boot(self) -> None:
        log = self.ctx.log
        log("/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration")
        log("/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/")
        log("/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh")
        log("10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf")
        log("/docker-entrypoint.sh: Configuration complete; ready for start up")
        await super().boot()

    def started(self) -> None:
        s = self._stamp()
        for line in ("using the \"epoll\" event method", f"nginx/{self.version()}",
                     "built by gcc 12.2.0 (Debian 12.2.0-14)",
                     "OS: Linux 6.1.0-28-amd64", "start worker processes"):
            self.ctx.log(f"{s} [notice] 1#1: {line}")
        for _ in range(self.workers):
            pid = self.procs.spawn(["nginx: worker process"], ppid=1).pid
            self.ctx.log(f"{s} [notice] 1#1: start worker process {pid}")

    def stopping(self) -> None:
        s = self._stamp()
        self.ctx.log(f"{s} [notice] 1#1: signal 3 (SIGQUIT) received, shutting down")
        self.ctx.log(f"{s} [notice] 1#1: exit")

    def route(self, req):
        if req.path in ("/", "/index.html") and req.method in ("GET", "HEAD"):
            resp = Response(200, WELCOME, "text/html")
        else:
            resp = Response(404, NOT_FOUND % self.version().encode(), "text/html")
        stamp = self.access_time()
        agent = req.headers.get("user-agent", "-")
        self.ctx.log(f'{req.client} - - [{stamp}] "{req.method} {req.target} HTTP/1.1" '
                     f'{resp.status} {len(resp.body)} "-" "{agent}" "-"')
        resp.headers["Server"] = f"nginx/{self.version()}"
        return resp

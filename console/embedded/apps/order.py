"""The labs' order service: a Spring-Boot-like app with a boot time of tens of
seconds, GET/POST /orders, /actuator/health that PUT /actuator/down and
/actuator/up flip, CPU per request and a latency that grows with load."""

import asyncio
import json
import time

from console.embedded.apps.base import App, Response

BANNER = [
    "",
    "  .   ____          _            __ _ _",
    " /\\\\ / ___'_ __ _ _(_)_ __  __ _ \\ \\ \\ \\",
    "( ( )\\___ | '_ | '_| | '_ \\/ _` | \\ \\ \\ \\",
    " \\\\/  ___)| |_)| | | | | || (_| |  ) ) ) )",
    "  '  |____| .__|_| |_|_| |_\\__, | / / / /",
    " =========|_|==============|___/=/_/_/_/",
    " :: Spring Boot ::                (v2.7.18)",
    "",
]


# the labs' images are built from msaez's Dockerfile: ENTRYPOINT ["java", ...]
JAVA = ["java", "-Xmx400M", "-Djava.security.egd=file:/dev/./urandom", "-jar", "/app.jar",
        "--spring.profiles.active=docker"]

# Boot times by image. jinyoung/order (lab L2): 25 s, which gives the document's 70 %
# availability during a rollout without readiness. acmexii/order-liveness boots sooner:
# its published manifest probes liveness from 15 s, three failures 5 s apart, and the
# lab works, so it is up before 25 s (document 000's `kubectl get po -w` shows such pods
# going 1/1 17-21 s after Running).
BOOT_BY_IMAGE = {"acmexii/order-liveness": 18.0}


class OrderApp(App):
    kind = "order"
    default_ports = (8080,)
    boot_seconds = 25.0
    cpu_per_request = 12.0        # millicore-seconds: a JPA select/insert on a small JVM
    latency_ms = 8.0              # waiting on the database
    stop_exit = 143
    memory_mb = 380.0
    idle_millicores = 3.0

    def __init__(self, ctx):
        from console.embedded.apps import repository
        self.boot_seconds = BOOT_BY_IMAGE.get(repository(ctx.image), OrderApp.boot_seconds)
        super().__init__(ctx)
        self.healthy = True
        self.orders: list[dict] = []
        self.boot_started = 0.0

    def cmdline(self) -> list[str]:
        return super().cmdline() if self.ctx.spec.get("command") else list(JAVA)

    def version(self) -> str:
        last = self.ctx.image.rsplit("/", 1)[-1]
        return last.split(":", 1)[1] if ":" in last else "latest"

    def _log(self, level: str, thread: str, logger: str, msg: str) -> None:
        ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}"
        self.ctx.log(f"{ts} {level:>5} 1 --- [{thread:>15}] {logger:<40} : {msg}")

    async def boot(self) -> None:
        for line in BANNER:
            self.ctx.log(line)
        self.boot_started = self.clock.elapsed()
        app = "order.OrderApplication"
        self._log("INFO", "main", app, f"Starting OrderApplication v0.0.1-SNAPSHOT using Java "
                  f"11.0.16 on {self.ctx.pod} with PID 1 (/app.jar started by root in /)")
        self._log("INFO", "main", app, 'No active profile set, falling back to 1 default profile: "default"')
        await self._step(0.25)
        self._log("INFO", "main", ".s.d.r.c.RepositoryConfigurationDelegate",
                  "Bootstrapping Spring Data JPA repositories in DEFAULT mode.")
        await self._step(0.25)
        self._log("INFO", "main", "o.s.b.w.embedded.tomcat.TomcatWebServer",
                  "Tomcat initialized with port(s): 8080 (http)")
        self._log("INFO", "main", "o.apache.catalina.core.StandardService", "Starting service [Tomcat]")
        await self._step(0.3)
        self._log("INFO", "main", "o.hibernate.jpa.internal.util.LogHelper",
                  "HHH000204: Processing PersistenceUnitInfo [name: default]")
        self._log("INFO", "main", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Start completed.")
        await self._step(0.2)

    async def _step(self, share: float) -> None:
        d = self.boot_seconds * share
        self.cpu.burn_for(800, d)
        await self.clock.sleep(d)

    def started(self) -> None:
        took = self.clock.elapsed() - self.boot_started
        self._log("INFO", "main", "o.s.b.w.embedded.tomcat.TomcatWebServer",
                  f"Tomcat started on port(s): {', '.join(map(str, sorted(self.listening)))} "
                  "(http) with context path ''")
        self._log("INFO", "main", "order.OrderApplication",
                  f"Started OrderApplication in {took:.3f} seconds (JVM running for {took + 1.2:.3f})")

    async def shutdown(self) -> None:
        # Shutdown hooks run (2 s) while Tomcat still answers. Endpoint removal costs
        # real time in here, so allow up to 1 s real too, within half the grace period.
        floor = min(1.0, self.clock.real(self.ctx.grace_seconds) / 2)
        await asyncio.sleep(max(self.clock.real(2.0), floor))

    def stopping(self) -> None:
        self._log("INFO", "ionShutdownHook", "o.s.b.w.e.tomcat.GracefulShutdown",
                  "Commencing graceful shutdown. Waiting for active requests to complete")
        self._log("INFO", "tomcat-shutdown", "o.s.b.w.e.tomcat.GracefulShutdown", "Graceful shutdown complete")
        self._log("INFO", "ionShutdownHook", "com.zaxxer.hikari.HikariDataSource",
                  "HikariPool-1 - Shutdown completed.")

    def route(self, req):
        path, method = req.path.rstrip("/") or "/", req.method
        if path == "/actuator/health":
            if method != "GET":
                return self._error(405, "Method Not Allowed", path)
            status = "UP" if self.healthy else "DOWN"
            return Response(200 if self.healthy else 503, json.dumps({"status": status}).encode(),
                            "application/vnd.spring-boot.actuator.v3+json")
        if path in ("/actuator/down", "/actuator/up"):
            if method not in ("PUT", "POST"):
                return self._error(405, "Method Not Allowed", path)
            self.healthy = path.endswith("/up")
            self._log("INFO", "nio-8080-exec-1", "order.HealthController",
                      f"health set to {'UP' if self.healthy else 'DOWN'}")
            return Response(200, json.dumps({"status": "UP" if self.healthy else "DOWN"}).encode())
        if path == "/actuator/shutdown":
            if method != "POST":
                return self._error(405, "Method Not Allowed", path)
            asyncio.get_running_loop().call_soon(self.exit, 0)
            return Response(200, b'{"message":"Shutting down, bye..."}')
        if path == "/orders":
            if method == "POST":
                return self._create(req)
            if method in ("GET", "HEAD"):
                return Response(200, self._list())
            return self._error(405, "Method Not Allowed", path)
        if path.startswith("/orders/") and method == "GET":
            oid = path.rsplit("/", 1)[1]
            for o in self.orders:
                if str(o["id"]) == oid:
                    return Response(200, json.dumps(self._hal(o)).encode(), "application/hal+json")
            return Response(404, b"")
        return self._error(404, "Not Found", path)

    def _hal(self, order: dict) -> dict:
        link = f"http://order:8080/orders/{order['id']}"
        body = {k: v for k, v in order.items() if k != "id"}
        body["_links"] = {"self": {"href": link}, "order": {"href": link}}
        return body

    def _list(self) -> bytes:
        recent = self.orders[-20:]
        return json.dumps({
            "_embedded": {"orders": [self._hal(o) for o in recent]},
            "_links": {"self": {"href": "http://order:8080/orders"},
                       "profile": {"href": "http://order:8080/profile/orders"}},
            "page": {"size": 20, "totalElements": len(self.orders),
                     "totalPages": (len(self.orders) + 19) // 20, "number": 0},
            "version": self.version(),
        }).encode()

    def _create(self, req) -> Response:
        try:
            data = json.loads(req.body or b"{}")
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            return self._error(400, "Bad Request", "/orders")
        order = {"id": len(self.orders) + 1, "productId": data.get("productId"),
                 "qty": data.get("qty", 1), "customerId": data.get("customerId"),
                 "status": "OrderPlaced"}
        self.orders.append(order)
        if len(self.orders) > 10_000:     # bounded: a long load test must not grow memory
            del self.orders[:5_000]
        return Response(201, json.dumps(self._hal(order)).encode(), "application/hal+json",
                        {"Location": f"http://order:8080/orders/{order['id']}"})

    def _error(self, code: int, error: str, path: str) -> Response:
        body = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000+00:00", time.gmtime()),
                "status": code, "error": error, "path": path}
        return Response(code, json.dumps(body).encode())

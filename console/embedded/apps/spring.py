"""What the labs' Spring Boot services share: the JVM's command line, the
banner and log format, a boot of tens of seconds, graceful shutdown, the
actuator (health, and the labs' PUT /actuator/down|up, POST /actuator/shutdown),
Spring's JSON error body, and properties read the way Spring Boot reads them
from the environment (`api.url.kakao` as is, or relaxed: `API_URL_KAKAO`).
"""

import asyncio
import json
import re
import time

from console.embedded.apps.base import App, Response

# the labs' images are built from msaez's Dockerfile: ENTRYPOINT ["java", ...]
JAVA = ["java", "-Xmx400M", "-Djava.security.egd=file:/dev/./urandom", "-jar", "/app.jar",
        "--spring.profiles.active=docker"]
PLACEHOLDER = re.compile(r"\$\{([^}:]+)(?::([^}]*))?\}")


def banner(version: str) -> list[str]:
    return ["", "  .   ____          _            __ _ _",
            " /\\\\ / ___'_ __ _ _(_)_ __  __ _ \\ \\ \\ \\",
            "( ( )\\___ | '_ | '_| | '_ \\/ _` | \\ \\ \\ \\",
            " \\\\/  ___)| |_)| | | | | || (_| |  ) ) ) )",
            "  '  |____| .__|_| |_|_| |_\\__, | / / / /",
            " =========|_|==============|___/=/_/_/_/",
            # SpringBootBanner pads the version to a 42-column strap line
            " :: Spring Boot :: " + f"(v{version})".rjust(42 - len(" :: Spring Boot :: ")), ""]


def jackson_pretty(value, depth: int = 0) -> str:
    """JSON as Jackson's DefaultPrettyPrinter writes it (SerializationFeature.INDENT_OUTPUT,
    which Spring Data REST's ObjectMapper turns on): `"name" : value`, objects one member a
    line indented two spaces, arrays on one line `[ a, b ]`, empty ones `{ }` and `[ ]`."""
    if isinstance(value, dict):
        if not value:
            return "{ }"
        pad = "  " * (depth + 1)
        members = ",\n".join(f"{pad}{json.dumps(str(k))} : {jackson_pretty(v, depth + 1)}"
                             for k, v in value.items())
        return "{\n" + members + "\n" + "  " * depth + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(jackson_pretty(v, depth) for v in value) + " ]"
    return json.dumps(value, ensure_ascii=False)


class SpringApp(App):
    kind = "spring"
    default_ports = (8080,)
    boot_seconds = 25.0
    cpu_per_request = 12.0        # millicore-seconds: a JPA select/insert on a small JVM
    latency_ms = 8.0              # waiting on the database
    stop_exit = 143
    memory_mb = 380.0
    idle_millicores = 3.0
    boot_version = "2.7.18"
    main_class = "order.OrderApplication"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.healthy = True
        self.boot_started = 0.0

    def cmdline(self) -> list[str]:
        return super().cmdline() if self.ctx.spec.get("command") else list(JAVA)

    # -- configuration ------------------------------------------------------------------
    def prop(self, name: str, default: str | None = None) -> str | None:
        """A Spring property from the environment: the exact name, or its relaxed
        form (dots and dashes to underscores, upper case)."""
        env = self.ctx.env
        if name in env:
            return env[name]
        relaxed = re.sub(r"[.\-\[\]]+", "_", name).strip("_").upper()
        return env.get(relaxed, default)

    def resolve(self, text: str) -> str:
        """`${api.url.kakao:http://kakao:8080}/kakaos` with this app's properties."""
        return PLACEHOLDER.sub(lambda m: self.prop(m.group(1), m.group(2) or "") or "", text)

    # -- logs and life --------------------------------------------------------------------
    def log(self, level: str, thread: str, logger: str, msg: str) -> None:
        ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}"
        self.ctx.log(f"{ts} {level:>5} 1 --- [{thread:>15}] {logger:<40} : {msg}")

    @property
    def app_name(self) -> str:
        return self.main_class.rsplit(".", 1)[-1]

    async def boot(self) -> None:
        for line in banner(self.boot_version):
            self.ctx.log(line)
        self.boot_started = self.clock.elapsed()
        app = self.main_class
        self.log("INFO", "main", app, f"Starting {self.app_name} v0.0.1-SNAPSHOT using Java "
                 f"11.0.16 on {self.ctx.pod} with PID 1 (/app.jar started by root in /)")
        self.log("INFO", "main", app, 'No active profile set, falling back to 1 default profile: "default"')
        await self._step(0.25)
        self.log("INFO", "main", ".s.d.r.c.RepositoryConfigurationDelegate",
                 "Bootstrapping Spring Data JPA repositories in DEFAULT mode.")
        await self._step(0.25)
        self.log("INFO", "main", "o.s.b.w.embedded.tomcat.TomcatWebServer",
                 "Tomcat initialized with port(s): 8080 (http)")
        self.log("INFO", "main", "o.apache.catalina.core.StandardService", "Starting service [Tomcat]")
        await self._step(0.3)
        self.log("INFO", "main", "o.hibernate.jpa.internal.util.LogHelper",
                 "HHH000204: Processing PersistenceUnitInfo [name: default]")
        self.log("INFO", "main", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Start completed.")
        await self._step(0.2)

    async def _step(self, share: float) -> None:
        d = self.boot_seconds * share
        self.cpu.burn_for(800, d)
        await self.clock.sleep(d)

    def started(self) -> None:
        took = self.clock.elapsed() - self.boot_started
        self.log("INFO", "main", "o.s.b.w.embedded.tomcat.TomcatWebServer",
                 f"Tomcat started on port(s): {', '.join(map(str, sorted(self.listening)))} "
                 "(http) with context path ''")
        self.log("INFO", "main", self.main_class,
                 f"Started {self.app_name} in {took:.3f} seconds (JVM running for {took + 1.2:.3f})")

    async def shutdown(self) -> None:
        # Shutdown hooks run (2 s) while Tomcat still answers. Endpoint removal costs
        # real time in here, so allow up to 1 s real too, within half the grace period.
        floor = min(1.0, self.clock.real(self.ctx.grace_seconds) / 2)
        await asyncio.sleep(max(self.clock.real(2.0), floor))

    def stopping(self) -> None:
        self.log("INFO", "ionShutdownHook", "o.s.b.w.e.tomcat.GracefulShutdown",
                 "Commencing graceful shutdown. Waiting for active requests to complete")
        self.log("INFO", "tomcat-shutdown", "o.s.b.w.e.tomcat.GracefulShutdown", "Graceful shutdown complete")
        self.log("INFO", "ionShutdownHook", "com.zaxxer.hikari.HikariDataSource",
                 "HikariPool-1 - Shutdown completed.")

    # -- HTTP ---------------------------------------------------------------------------
    def actuator(self, req) -> Response | None:
        """/actuator/health and the labs' switches; None for any other path."""
        path, method = req.path.rstrip("/") or "/", req.method
        if path == "/actuator/health":
            if method != "GET":
                return self.error(405, "Method Not Allowed", path)
            status = "UP" if self.healthy else "DOWN"
            return Response(200 if self.healthy else 503, json.dumps({"status": status}).encode(),
                            "application/vnd.spring-boot.actuator.v3+json")
        if path in ("/actuator/down", "/actuator/up"):
            if method not in ("PUT", "POST"):
                return self.error(405, "Method Not Allowed", path)
            self.healthy = path.endswith("/up")
            self.log("INFO", "nio-8080-exec-1", f"{self.main_class.rsplit('.', 1)[0]}.HealthController",
                     f"health set to {'UP' if self.healthy else 'DOWN'}")
            return Response(200, json.dumps({"status": "UP" if self.healthy else "DOWN"}).encode())
        if path == "/actuator/shutdown":
            if method != "POST":
                return self.error(405, "Method Not Allowed", path)
            asyncio.get_running_loop().call_soon(self.exit, 0)
            return Response(200, b'{"message":"Shutting down, bye..."}')
        return None

    def error(self, code: int, error: str, path: str, message: str | None = None) -> Response:
        """Spring Boot's error body: 2.3 and later leave the message out by default
        (server.error.include-message=never); 2.1 puts it in, and its timestamp has
        no colon in the offset."""
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"
        old = self.boot_version.endswith("RELEASE")
        body = {"timestamp": stamp + ("+0000" if old else "+00:00"), "status": code,
                "error": error}
        if old:
            body["message"] = message if message is not None else self.missing_message(code)
        body["path"] = path
        # Boot's ObjectMapper writes it compact (document 004: 251 bytes for the rollback 500)
        return Response(code, json.dumps(body, separators=(",", ":")).encode(),
                        "application/json;charset=UTF-8" if old else "application/json")

    def missing_message(self, code: int) -> str | None:
        """The message of an error that has none (MVC's DefaultErrorAttributes)."""
        return "No message available"

    def link_base(self, req, default: str) -> str:
        """Spring Data REST builds links from the request's Host."""
        return "http://" + (req.host or default)

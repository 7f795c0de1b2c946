"""The labs' API gateway (Spring Cloud Gateway on Boot 2.1): requests routed by
path to the Services behind it, answers passed back as they came (status,
headers, body: a 503 from a circuit breaker stays a 503).

Routes, first match wins:
  - SPRING_CLOUD_GATEWAY_ROUTES_<n>_URI with ..._PREDICATES_<m>=Path=/a/**,/b/**
    in the container's environment (Spring's relaxed binding of
    spring.cloud.gateway.routes[n]; given, they replace the image's list), or
  - the pod annotation `kubelab.dev/routes` (calls.py has its syntax), or
  - the image's own: the routes of documents 002 and 004 (ROUTES).

Failures are the gateway's: a name that does not resolve or a refused or reset
connection is a 500 with WebFlux's error body, a response slower than
spring.cloud.gateway.httpclient.response-timeout (none by default) a 504, and
a path no route matches a 404.
"""

import re

from console.embedded.apps.base import Response
from console.embedded.apps.calls import BadSpec, parse_routes, path_matches
from console.embedded.apps.spring import SpringApp

ROUTES = [("/customers/**", "http://customer:8080"), ("/kakaos/**", "http://kakao:8080"),
          ("/customerViews/**", "http://customerview:8080"),
          ("/carManagements/**", "http://management:8080"),
          ("/carReservations/**", "http://reservation:8080"),
          ("/carRentals/**", "http://rental:8080"), ("/payments/**", "http://payment:8080"),
          ("/carInformations/**", "http://view:8080")]
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "host",
       "upgrade", "te", "trailer", "proxy-authorization", "proxy-authenticate"}


def _duration(text: str | None) -> float | None:
    """Spring's Duration: 5s, 500ms, 1m, or a bare number of milliseconds."""
    if not text:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", text)
    if not m:
        return None
    n = float(m.group(1))
    return {"ms": n / 1000, "s": n, "m": n * 60, None: n / 1000}[m.group(2)]


class GatewayApp(SpringApp):
    kind = "gateway"
    boot_version = "2.1.9.RELEASE"
    main_class = "gateway.GatewayApplication"
    boot_seconds = 15.0
    cpu_per_request = 1.5          # reactive: no database, a little routing
    latency_ms = 1.0
    memory_mb = 300.0

    def __init__(self, ctx):
        super().__init__(ctx)
        self.routes = self._routes()
        self.response_timeout = _duration(self.prop("spring.cloud.gateway.httpclient.response-timeout"))

    def _routes(self) -> list[tuple[str, str]]:
        from_env = []
        n = 0
        while (uri := self.prop(f"spring.cloud.gateway.routes[{n}].uri")) is not None:
            m = 0
            while (pred := self.prop(f"spring.cloud.gateway.routes[{n}].predicates[{m}]")) is not None:
                name, _, args = pred.partition("=")
                if name.strip() == "Path":
                    from_env += [(p.strip(), uri.rstrip("/")) for p in args.split(",") if p.strip()]
                m += 1
            n += 1
        if from_env:
            return from_env
        text = self.ctx.annotations.get("kubelab.dev/routes")
        if text:
            try:
                return parse_routes(text)
            except BadSpec as exc:
                self.ctx.log(f"kubelab: ignoring annotation kubelab.dev/routes: {exc}")
        return list(ROUTES)

    def started(self) -> None:
        for name in ("After", "Before", "Between", "Cookie", "Header", "Host", "Method", "Path",
                     "Query", "RemoteAddr"):
            self.log("INFO", "main", "o.s.c.g.r.RouteDefinitionRouteLocator",
                     f"Loaded RoutePredicateFactory [{name}]")
        super().started()
        self.ctx.log("kubelab: routes " + ", ".join(f"{p} -> {u}" for p, u in self.routes))

    def route(self, req):
        found = self.actuator(req)
        if found is not None:
            return found
        for pattern, uri in self.routes:
            if path_matches(pattern, req.path):
                return self._forward(req, uri)
        return self.error(404, "Not Found", req.path, None)

    def missing_message(self, code: int) -> str | None:
        return None if code == 404 else super().missing_message(code)     # WebFlux: null

    async def _forward(self, req, uri: str) -> Response:
        headers = {k: v for k, v in req.headers.items() if k not in HOP}
        headers["x-forwarded-for"] = req.client
        headers["x-forwarded-host"] = req.host
        target = uri + req.target
        host = uri.split("://", 1)[1].split("/", 1)[0]
        try:
            resp = await self.fetch(req, req.method, target, req.body, headers,
                                    timeout=self.response_timeout)
        except LookupError:
            return self._fail(req, 500, "Internal Server Error",
                              f"failed to resolve '{host.split(':')[0]}' after 2 queries ")
        except ConnectionRefusedError:
            return self._fail(req, 500, "Internal Server Error", f"Connection refused: {host}")
        except ConnectionResetError:
            return self._fail(req, 500, "Internal Server Error",
                              "Connection prematurely closed BEFORE response")
        except TimeoutError:
            return self._fail(req, 504, "Gateway Timeout", "Response took longer than timeout: "
                              f"PT{self.response_timeout:g}S")
        kept = {k: v for k, v in resp.headers.items() if k.lower() not in HOP}
        return Response(resp.status, resp.body, resp.content_type, kept)

    def _fail(self, req, code: int, error: str, message: str) -> Response:
        self.log("ERROR", "ctor-http-nio-2", "a.w.r.e.AbstractErrorWebExceptionHandler",
                 f"[{id(req) & 0xffffffff:08x}]  500 Server Error for HTTP {req.method} \"{req.path}\"")
        return self.error(code, error, req.path, message)

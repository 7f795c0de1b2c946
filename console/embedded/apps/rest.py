"""The labs' other Spring Boot services (documents 002 and 004): Spring Data REST
repositories over an in-memory database, Feign calls made while saving, and
domain events on the broker.

  customer      /customers; saving one calls POST ${api.url.kakao}/kakaos (Feign,
                in @PostPersist: a failed call rolls the save back and the
                client gets 500 "Could not commit JPA transaction ..."); deleting
                one publishes CustomerRegisterCanceled
  kakao         /kakaos; saves a record for each CustomerRegisterCanceled
  customerview  /customerViews; the read model, fed by CustomerRegisterCanceled
  management    /carManagements     reservation  /carReservations, calls
  payment       /payments                        POST ${api.url.payment}/payments
  rental        /carRentals         view         /carInformations

Every entry is a `Service` in SERVICES; `kubelab.dev/calls` replaces its calls.
Answers are Spring Data REST's: HAL documents with links built from the
request's Host, 201 with Location, 204 on delete, 404 with an empty body.
"""

import asyncio
import json
import time
from dataclasses import dataclass

from console.embedded.apps.base import Response
from console.embedded.apps.calls import BadSpec, CallFailed, call, parse_calls
from console.embedded.apps.spring import SpringApp, jackson_pretty

KEEP = 10_000
ROLLBACK = ("Could not commit JPA transaction; nested exception is "
            "javax.persistence.RollbackException: Error while committing the transaction")


@dataclass(frozen=True)
class Repository:
    collection: str                          # the path: "customers"
    fields: tuple[tuple[str, type], ...]     # the entity's, in declaration order

    @property
    def singular(self) -> str:
        return self.collection[:-1] if self.collection.endswith("s") else self.collection


@dataclass(frozen=True)
class Service:
    main_class: str
    repo: Repository
    calls: str = ""              # kubelab.dev/calls syntax; made while saving
    client: str = ""             # the Feign method, as its errors name it
    topic: str = ""
    publishes: tuple[tuple[str, str], ...] = ()    # (method, eventType) on its items
    consumes: tuple[tuple[str, str], ...] = ()     # (eventType, log label or "")


CUSTOMER = (("customerName", str), ("customerAddress", str), ("customerAge", int))
SERVICES = {
    "customer": Service("cleaningServiceydp.CustomerApplication", Repository("customers", CUSTOMER),
                        "POST /customers -> POST ${api.url.kakao:http://kakao:8080}/kakaos",
                        "KakaoService#kakaoAlert(Kakao)", "ssak8",
                        publishes=(("DELETE", "CustomerRegisterCanceled"),)),
    "kakao": Service("cleaningServiceydp.KakaoApplication", Repository("kakaos", CUSTOMER),
                     topic="ssak8", consumes=(("CustomerRegisterCanceled", "KakaoAlertCancel"),)),
    "customerview": Service("cleaningServiceydp.CustomerviewApplication",
                            Repository("customerViews", CUSTOMER), topic="ssak8",
                            consumes=(("CustomerRegisterCanceled", ""),)),
    "management": Service("carrental.ManagementApplication", Repository("carManagements", (
        ("carNo", str), ("rentalAmt", int), ("procStatus", str), ("carRegDt", str)))),
    "reservation": Service("carrental.ReservationApplication", Repository("carReservations", (
        ("carNo", str), ("custNo", str), ("paymtNo", str), ("procStatus", str), ("rentalAmt", int),
        ("resrvNo", str), ("resrvDt", str), ("rentalDt", str), ("returnDt", str))),
        "POST /carReservations -> POST ${api.url.payment:http://payment:8080}/payments",
        "PaymentService#pay(Payment)"),
    "payment": Service("carrental.PaymentApplication", Repository("payments", (
        ("paymtNo", str), ("resrvNo", str), ("rentalAmt", int), ("procStatus", str)))),
    "rental": Service("carrental.RentalApplication", Repository("carRentals", (
        ("carNo", str), ("custNo", str), ("rentalDt", str), ("returnDt", str),
        ("procStatus", str)))),
    "view": Service("carrental.ViewApplication", Repository("carInformations", (
        ("carNo", str), ("rentalAmt", int), ("procStatus", str), ("carRegDt", str)))),
}


class _BadBody(ValueError):
    pass


class RestApp(SpringApp):
    kind = "rest"
    boot_version = "2.1.9.RELEASE"
    memory_mb = 350.0
    # An H2 database in the JVM: no wait on a database server, a save is CPU. Document
    # 004 measures it: kakao, limits.cpu 500m, tops out at ~142 saves/s under siege -c100
    # (141.89 trans/s; scaled to 3 pods the same load makes 251.61/s), so ~3.5 ms a save.
    cpu_per_request = 3.5
    latency_ms = 0.5
    service: Service = SERVICES["customer"]

    def __init__(self, ctx):
        super().__init__(ctx)
        self.main_class = self.service.main_class
        self.items: dict[int, dict] = {}
        self.next_id = 1
        self._consumers: list[asyncio.Task] = []
        text = ctx.annotations.get("kubelab.dev/calls", self.service.calls)
        try:
            self.calls = parse_calls(text)
        except BadSpec as exc:
            ctx.log(f"kubelab: ignoring annotation kubelab.dev/calls: {exc}")
            self.calls = parse_calls(self.service.calls)

    # -- life: consumers run while the process runs -------------------------------------
    async def main(self) -> int:
        try:
            return await super().main()
        finally:
            for t in self._consumers:
                t.cancel()

    def started(self) -> None:
        super().started()
        broker = self.ctx.broker
        if self.service.consumes and broker is not None:
            self._consumers.append(asyncio.ensure_future(self._consume(broker)))

    async def _consume(self, broker) -> None:
        wanted = dict(self.service.consumes)
        group = self.service.repo.singular.lower()
        async for msg in broker.consume(self.ctx.namespace, self.service.topic, group):
            kind = msg.get("eventType")
            if kind not in wanted:
                continue
            self._save({k: msg.get(k) for k, _ in self.service.repo.fields})
            if wanted[kind]:
                print_ = json.dumps(msg, separators=(",", ":"))
                self.ctx.log(f"##### listener {wanted[kind]} : {print_}")

    # -- the repository ---------------------------------------------------------------------
    def _entity(self, data: dict, base: dict | None = None) -> dict:
        out = dict(base or {k: None for k, _ in self.service.repo.fields})
        for name, kind in self.service.repo.fields:
            if name not in data:
                continue
            value = data[name]
            if kind is int and value is not None and not isinstance(value, bool):
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    raise _BadBody(
                        f"JSON parse error: Cannot deserialize value of type `java.lang.Integer` "
                        f"from String \"{value}\": not a valid Integer value") from None
            elif kind is str and value is not None and not isinstance(value, str):
                value = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
            out[name] = value
        return out

    def _save(self, entity: dict, oid: int | None = None) -> int:
        if oid is None:
            oid, self.next_id = self.next_id, self.next_id + 1
        self.items[oid] = entity
        if len(self.items) > KEEP:
            for old in list(self.items)[: len(self.items) - KEEP]:
                del self.items[old]
        return oid

    def _hal(self, req, oid: int, entity: dict) -> dict:
        link = f"{self.link_base(req, 'localhost:8080').lower()}/{self.service.repo.collection}/{oid}"
        return {**entity, "_links": {"self": {"href": link},
                                     self.service.repo.singular: {"href": link}}}

    def _json(self, req, status: int, doc: dict, headers: dict | None = None) -> Response:
        hal = req.method == "GET" or "application/json" not in req.headers.get("accept", "")
        kind = "application/hal+json;charset=UTF-8" if hal else "application/json;charset=UTF-8"
        return Response(status, jackson_pretty(doc).encode(), kind, headers or {})

    def route(self, req):
        found = self.actuator(req)
        if found is not None:
            return found
        repo = self.service.repo
        parts = [p for p in req.path.split("/") if p]
        extra = [c for c in self.calls if c.matches(req)]
        if not parts or parts[0] != repo.collection or len(parts) > 2:
            return self._with_calls(req, extra, lambda: self.error(404, "Not Found", req.path)) \
                if extra else self.error(404, "Not Found", req.path)
        try:
            data = json.loads(req.body or b"{}") if req.method in ("POST", "PUT", "PATCH") else {}
            if not isinstance(data, dict):
                raise _BadBody("JSON parse error: Cannot deserialize instance of entity out of "
                               "START_ARRAY token")
        except ValueError as exc:
            message = str(exc) if isinstance(exc, _BadBody) else f"JSON parse error: {exc}"
            return self.error(400, "Bad Request", req.path, message)
        if len(parts) == 1:
            if req.method == "POST":
                try:
                    entity = self._entity(data)
                except _BadBody as exc:
                    return self.error(400, "Bad Request", req.path, str(exc))
                return self._create(req, entity, extra) if extra else self._created(req, entity)
            if req.method in ("GET", "HEAD"):
                return self._with_calls(req, extra, lambda: self._list(req)) if extra \
                    else self._list(req)
            return self.error(405, "Method Not Allowed", req.path,
                              f"Request method '{req.method}' not supported")
        if not parts[1].isdigit():
            return Response(404, b"", "")
        answer = lambda: self._item(req, int(parts[1]), data)   # noqa: E731
        return self._with_calls(req, extra, answer) if extra else answer()

    def _list(self, req) -> Response:
        repo = self.service.repo
        base = self.link_base(req, "localhost:8080").lower()
        recent = list(self.items.items())[-20:]
        return self._json(req, 200, {
            "_embedded": {repo.collection: [self._hal(req, oid, e) for oid, e in recent]},
            "_links": {"self": {"href": f"{base}/{repo.collection}"},
                       "profile": {"href": f"{base}/profile/{repo.collection}"}}})

    def _created(self, req, entity: dict, oid: int | None = None) -> Response:
        oid = self._save(entity, oid)
        doc = self._hal(req, oid, entity)
        return self._json(req, 201, doc, {"Location": doc["_links"]["self"]["href"]})

    def _item(self, req, oid: int, data: dict) -> Response:
        entity = self.items.get(oid)
        if req.method in ("GET", "HEAD"):
            return Response(404, b"", "") if entity is None else \
                self._json(req, 200, self._hal(req, oid, entity))
        if req.method in ("PUT", "PATCH"):
            try:
                new = self._entity(data, entity if req.method == "PATCH" else None)
            except _BadBody as exc:
                return self.error(400, "Bad Request", req.path, str(exc))
            if entity is None:
                return self._created(req, new, oid)
            self.items[oid] = new
            return self._json(req, 200, self._hal(req, oid, new))
        if req.method == "DELETE":
            if entity is None:
                return Response(404, b"", "")
            del self.items[oid]
            self._publish("DELETE", oid, entity)
            return Response(204, b"", "")
        return self.error(405, "Method Not Allowed", req.path,
                          f"Request method '{req.method}' not supported")

    def _publish(self, method: str, oid: int, entity: dict) -> None:
        broker = self.ctx.broker
        for on, kind in self.service.publishes:
            if on == method and broker is not None:
                broker.publish(self.ctx.namespace, self.service.topic,
                               {"eventType": kind, "timestamp": time.strftime("%Y%m%d%H%M%S"),
                                "id": oid, **entity})

    # -- calls ------------------------------------------------------------------------------
    def _timeout(self) -> float:
        raw = self.prop("feign.client.config.default.readTimeout", "60000")
        try:
            return max(0.001, float(raw) / 1000)
        except ValueError:
            return 60.0

    async def _call_all(self, req, calls, body: bytes) -> None:
        for c in calls:
            await call(self, req, c.out_method, self.resolve(c.url), body, self._timeout(),
                       self.service.client)

    def _failed(self, req, exc: CallFailed, message: str) -> Response:
        self.log("ERROR", "nio-8080-exec-1", "o.a.c.c.C.[.[.[/].[dispatcherServlet]",
                 f"Servlet.service() for servlet [dispatcherServlet] in context with path [] threw "
                 f"exception [Request processing failed; nested exception is {message}] with root "
                 "cause")
        self.ctx.log(str(exc))
        return self.error(500, "Internal Server Error", req.path, message)

    async def _create(self, req, entity: dict, calls) -> Response:
        """@PostPersist: the id is taken, the call made, and a failure rolls it back."""
        oid, self.next_id = self.next_id, self.next_id + 1
        body = json.dumps({k: v for k, v in entity.items()}).encode()
        try:
            await self._call_all(req, calls, body)
        except CallFailed as exc:
            return self._failed(req, exc, ROLLBACK)
        return self._created(req, entity, oid)

    async def _with_calls(self, req, calls, answer) -> Response:
        try:
            await self._call_all(req, calls, req.body)
        except CallFailed as exc:
            return self._failed(req, exc, str(exc).split(": ", 1)[-1])
        return answer()

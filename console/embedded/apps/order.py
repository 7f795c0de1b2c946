"""The labs' order service: a Spring-Boot-like app with a boot time of tens of
seconds, GET/POST /orders, /actuator/health that PUT /actuator/down and
/actuator/up flip, CPU per request and a latency that grows with load."""

import json

from console.embedded.apps.base import Response
from console.embedded.apps.spring import SpringApp


# Boot times by image. jinyoung/order (lab L2): 25 s, which gives the document's 70 %
# availability during a rollout without readiness. acmexii/order-liveness boots sooner:
# its published manifest probes liveness from 15 s, three failures 5 s apart, and the
# lab works, so it is up before 25 s (document 000's `kubectl get po -w` shows such pods
# going 1/1 17-21 s after Running).
BOOT_BY_IMAGE = {"acmexii/order-liveness": 18.0}


class OrderApp(SpringApp):
    kind = "order"
    main_class = "order.OrderApplication"

    def __init__(self, ctx):
        from console.embedded.apps import repository
        self.boot_seconds = BOOT_BY_IMAGE.get(repository(ctx.image), OrderApp.boot_seconds)
        super().__init__(ctx)
        self.orders: list[dict] = []

    def version(self) -> str:
        last = self.ctx.image.rsplit("/", 1)[-1]
        return last.split(":", 1)[1] if ":" in last else "latest"

    def route(self, req):
        found = self.actuator(req)
        if found is not None:
            return found
        path, method = req.path.rstrip("/") or "/", req.method
        if path == "/orders":
            if method == "POST":
                return self._create(req)
            if method in ("GET", "HEAD"):
                return Response(200, self._list())
            return self.error(405, "Method Not Allowed", path)
        if path.startswith("/orders/") and method == "GET":
            oid = path.rsplit("/", 1)[1]
            for o in self.orders:
                if str(o["id"]) == oid:
                    return Response(200, json.dumps(self._hal(o)).encode(), "application/hal+json")
            return Response(404, b"")
        return self.error(404, "Not Found", path)

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
            return self.error(400, "Bad Request", "/orders")
        order = {"id": len(self.orders) + 1, "productId": data.get("productId"),
                 "qty": data.get("qty", 1), "customerId": data.get("customerId"),
                 "status": "OrderPlaced"}
        self.orders.append(order)
        if len(self.orders) > 10_000:     # bounded: a long load test must not grow memory
            del self.orders[:5_000]
        return Response(201, json.dumps(self._hal(order)).encode(), "application/hal+json",
                        {"Location": f"http://order:8080/orders/{order['id']}"})

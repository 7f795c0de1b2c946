"""The API server: an aiohttp app on the cluster's loop, a door onto its registry.

Every request needs a bearer token the cluster knows (health probes excepted):
the run's own (the administrator) or a restricted user's (authz.py), and passes
RBAC before its handler runs (403 Forbidden otherwise); every error
leaves as a meta/v1 Status; an unexpected exception is logged and answered with
a short 500 Status, and the server keeps serving. Each handler is handed the
cluster (and its catalogue of kinds) it serves: nothing here is process-wide,
so two clusters in one process each have their own app.
"""

import logging

from aiohttp import web

from console.embedded import authz
from console.embedded.api import (admin, discovery, handlers, metrics, openapi, patching, tables,
                                  watch)
from console.embedded.api.status import REASONS, USER, ApiError, Unavailable, respond, status_obj

log = logging.getLogger("kubelab.api")
OPEN_PATHS = {"/healthz", "/readyz", "/livez"}
METHODS = {"GET": handlers.get, "POST": handlers.create, "PUT": handlers.update,
           "PATCH": patching.patch, "DELETE": handlers.delete}


def _status_response(code: int, message: str, reason: str) -> web.Response:
    return respond(status_obj(code, message, reason), code)


def make_app(cluster, token: str, users: list[authz.User] | None = None) -> web.Application:
    """`token`: the administrator's; `users`: restricted users beside it."""
    known = authz.Users()
    known.add(authz.admin(token))
    for user in users or ():
        known.add(user)

    @web.middleware
    async def errors(request, handler):
        try:
            return await handler(request)
        except ApiError as exc:
            return respond(exc.status(), exc.code)
        except Unavailable:
            return web.Response(status=503, text="service unavailable\n",
                                headers={"X-Content-Type-Options": "nosniff"})
        except web.HTTPNotFound:
            return _status_response(404, "the server could not find the requested resource",
                                    "NotFound")
        except web.HTTPMethodNotAllowed:
            return _status_response(405, "the server does not allow this method on the "
                                    "requested resource", "MethodNotAllowed")
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            if exc.status == 413:
                return _status_response(413, "Request entity too large: limit is 16777216",
                                        "RequestEntityTooLarge")
            return _status_response(exc.status, exc.reason, REASONS.get(exc.status, "Unknown"))
        except Exception as exc:  # never a traceback on the wire
            log.exception("%s %s failed", request.method, request.path_qs)
            return _status_response(500, f"Internal error occurred: {type(exc).__name__}: "
                                    f"{str(exc)[:200]}", "InternalError")

    @web.middleware
    async def auth(request, handler):
        if request.path not in OPEN_PATHS:
            header = request.headers.get("Authorization", "")
            given = header[7:].strip() if header[:7].lower() == "bearer " else ""
            user = known.find(given) if given else None
            if user is None:
                return _status_response(401, "Unauthorized", "Unauthorized")
            request[USER] = user
            if not request.path.startswith(admin.PREFIX):
                attrs = authz.attributes(request.method, request.path, request.query)
                if not authz.decide(user, attrs)[0]:
                    details = {"kind": attrs.resource} if attrs.resource_request else {}
                    if attrs.group:
                        details["group"] = attrs.group
                    if attrs.name:
                        details["name"] = attrs.name
                    raise ApiError(403, authz.forbidden_message(user, attrs), "Forbidden", details)
        return await handler(request)

    app = web.Application(middlewares=[errors, auth], client_max_size=16 * 1024 * 1024)
    app[metrics.GAUGES] = metrics.Gauges()
    app[watch.ENCODED] = watch.Encoded()
    app[tables.PARTS] = tables.Parts()
    cat = cluster.kinds

    async def health(request):
        return web.Response(text="ok")

    async def version(request):
        return respond(version_info(cluster.version))

    async def resources(request):
        group = request.match_info.get("group", "")
        ver = request.match_info["version"]
        tail = request.match_info.get("tail", "")
        if not tail.strip("/"):
            if request.method != "GET":
                raise ApiError(405, "the server does not allow this method on the requested "
                               "resource", "MethodNotAllowed")
            return discovery.resource_list(cat, group, ver)
        t = handlers.resolve(cat, group, ver, [s for s in tail.split("/") if s != ""])
        fn = METHODS.get(request.method)
        if fn is None or (t.sub is None and _verb(request.method, t) not in t.kind.verbs):
            raise ApiError(405, "the server does not allow this method on the requested "
                           "resource", "MethodNotAllowed")
        return await fn(request, cluster, t)

    async def api_group(request):
        return discovery.group(cat, request.match_info["group"])

    r = app.router
    for path in ("/healthz", "/readyz", "/livez"):
        r.add_get(path, health)
    r.add_get("/version", version)
    admin.routes(r, cluster)
    r.add_get("/metrics", _bound(metrics.serve, cluster))
    r.add_get("/api", _bound(discovery.api_root, cat))
    r.add_get("/apis", _bound(discovery.apis_root, cat))
    r.add_get("/openapi/v3", _bound(openapi.index, cat))
    r.add_get("/openapi/v3/{path:.+}", _bound(openapi.document, cat))
    r.add_get("/openapi/v2", _bound(openapi.v2, cluster.version))
    r.add_route("*", "/api/{version}", resources)
    r.add_route("*", "/api/{version}/{tail:.*}", resources)
    r.add_get("/apis/{group}", api_group)
    r.add_route("*", "/apis/{group}/{version}", resources)
    r.add_route("*", "/apis/{group}/{version}/{tail:.*}", resources)
    return app


def _bound(handler, *args):
    """An aiohttp handler that calls handler(request, *args)."""
    async def handle(request):
        return await handler(request, *args)
    return handle


def _verb(method: str, t) -> str:
    if method == "GET":
        return "get" if t.name else "list"
    if method == "DELETE":
        return "delete" if t.name else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, "")


def version_info(v: str) -> dict:
    parts = v.lstrip("v").split(".")
    major, minor = parts[0], parts[1] if len(parts) > 1 else "0"
    return {"major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
            "minCompatibilityMajor": major, "minCompatibilityMinor": str(max(0, int(minor) - 1)),
            "gitVersion": v, "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z",
            "goVersion": "go1.24.0", "compiler": "gc", "platform": "linux/amd64"}

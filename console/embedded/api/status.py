"""Errors as the real API server sends them: a meta/v1 Status object; and USER,
where the authenticated user (authz.User) of a request is kept."""

import json

import orjson
from aiohttp import web

from console.embedded.authz import User

USER = web.RequestKey("user", User)

REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
    405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
    415: "UnsupportedMediaType", 422: "Invalid", 500: "InternalError", 504: "Timeout",
}


class ApiError(Exception):
    """Raised anywhere in a handler; the middleware turns it into a Status."""

    def __init__(self, code: int, message: str, reason: str | None = None,
                 details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = REASONS.get(code, "Unknown") if reason is None else reason
        self.details = details

    def status(self) -> dict:
        return status_obj(self.code, self.message, self.reason, self.details)


class Unavailable(Exception):
    """An aggregated API whose backend is down: kube-aggregator answers a plain
    text "service unavailable" 503, no Status (so clients say "the server is
    currently unable to handle the request")."""


def status_obj(code: int, message: str, reason: str, details: dict | None = None) -> dict:
    out = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code}
    if details:
        out["details"] = details
    return out


def success(details: dict | None = None) -> dict:
    out = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details:
        out["details"] = details
    return out


def dumps(obj) -> bytes:
    """JSON as the server sends it: compact and UTF-8, as Go's encoder writes it
    (orjson: a tenth of json.dumps' time on a Table of 500 pods). What orjson
    refuses (integers beyond 64 bits, keys that are not strings) goes through json."""
    try:
        return orjson.dumps(obj)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(obj, separators=(",", ":")).encode()


def respond(obj, code: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(body=dumps(obj), status=code, content_type="application/json",
                        headers=headers)


STREAM_AT = 1000     # items: a longer list is written in pieces
PIECE = 250          # items encoded at a time


def respond_list(obj: dict, key: str) -> web.Response:
    """A list (or a Table) whose last key `key` holds its items. A long one is
    encoded and written a piece at a time, as kube-apiserver 1.33 streams JSON
    lists (KEP-5116): the same bytes as respond(obj), but ten informers listing
    5,000 pods at once do not each hold a whole 20 MB body (and its TLS copy).
    The items are stored objects, never changed in place: the list stays the
    snapshot it was while it is written."""
    items = obj[key]
    if len(items) <= STREAM_AT or next(reversed(obj)) != key or len(obj) < 2:
        return respond(obj)
    head = dumps({k: v for k, v in obj.items() if k != key})   # kind, apiVersion, metadata...
    opening = head[:-1] + b',"%s":[' % key.encode()

    async def pieces():
        yield opening
        for i in range(0, len(items), PIECE):
            yield (b"," if i else b"") + dumps(items[i:i + PIECE])[1:-1]
        yield b"]}"
    return web.Response(body=pieces(), content_type="application/json")


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    what = f"{resource}.{group}" if group else resource
    return ApiError(404, f'{what} "{name}" not found', "NotFound",
                    {"name": name, "group": group, "kind": resource} if group
                    else {"name": name, "kind": resource})


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    what = f"{resource}.{group}" if group else resource
    d = {"name": name, "kind": resource}
    if group:
        d["group"] = group
    return ApiError(409, f'{what} "{name}" already exists', "AlreadyExists", d)


def conflict(resource: str, name: str, group: str = "") -> ApiError:
    what = f"{resource}.{group}" if group else resource
    d = {"name": name, "kind": resource}
    if group:
        d["group"] = group
    return ApiError(409, f'Operation cannot be fulfilled on {what} "{name}": the object has '
                    "been modified; please apply your changes to the latest version and try again",
                    "Conflict", d)


def invalid(kind: str, name: str, causes: list[tuple[str, str]], group: str = "",
            reason_type: str = "FieldValueInvalid") -> ApiError:
    detail = ", ".join(f"{p}: {m}" for p, m in causes)
    k = f"{kind}.{group}" if group else kind
    d = {"name": name, "kind": kind,
         "causes": [{"reason": reason_type, "message": m, "field": p} for p, m in causes]}
    if group:
        d["group"] = group
    return ApiError(422, f'{k} "{name}" is invalid: {detail}', "Invalid", d)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "BadRequest")

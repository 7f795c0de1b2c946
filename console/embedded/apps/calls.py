"""Calls an app makes to other Services while it serves a request, and how a
manifest declares them.

Annotations (one entry per line or `;`-separated):
  kubelab.dev/calls:  "POST /customers -> POST ${api.url.kakao:http://kakao:8080}/kakaos"
      a request matching METHOD and path prefix first calls METHOD URL (`*`
      matches any method); `${prop:default}` is a Spring property from the
      container's environment (`api.url.kakao`, or relaxed `API_URL_KAKAO`)
  kubelab.dev/routes: "/carManagements/** -> http://management:8080"
      a gateway's routes: a path pattern (Spring's `/x/**` also matches `/x`)
      and where it goes

A call that does not answer 2xx raises CallFailed with the words the caller's
HTTP client would use (Feign on java.net: UnknownHostException, Connection
refused, Read timed out, `[500 Internal Server Error] during [POST] to [...]`).
"""

import asyncio
import re
from dataclasses import dataclass

from console.embedded.apps.base import REASONS, Response

ARROW = re.compile(r"\s*->\s*")


@dataclass(frozen=True)
class Call:
    method: str          # of the incoming request, or "*"
    prefix: str          # of its path
    out_method: str
    url: str             # may hold ${prop:default}

    def matches(self, req) -> bool:
        path = req.path
        return (self.method in ("*", req.method)
                and (path == self.prefix or path.startswith(self.prefix.rstrip("/") + "/")))


class BadSpec(ValueError):
    pass


def _entries(text: str) -> list[str]:
    return [e.strip() for e in re.split(r"[;\n]", text or "") if e.strip()]


def parse_calls(text: str) -> list[Call]:
    out = []
    for entry in _entries(text):
        sides = ARROW.split(entry)
        if len(sides) != 2:
            raise BadSpec(f"{entry!r}: expected 'METHOD /path -> METHOD URL'")
        left, right = (s.split() for s in sides)
        if len(left) == 1:
            left = ["*"] + left
        if len(right) == 1:
            right = ["POST"] + right
        if len(left) != 2 or len(right) != 2 or not left[1].startswith("/") \
                or not ("://" in right[1] or right[1].startswith("${")):
            raise BadSpec(f"{entry!r}: expected 'METHOD /path -> METHOD URL'")
        out.append(Call(left[0].upper(), left[1], right[0].upper(), right[1]))
    return out


def parse_routes(text: str) -> list[tuple[str, str]]:
    out = []
    for entry in _entries(text):
        sides = ARROW.split(entry)
        if len(sides) != 2 or not sides[0].startswith("/") or "://" not in sides[1]:
            raise BadSpec(f"{entry!r}: expected '/path/** -> http://service:port'")
        out.append((sides[0], sides[1].rstrip("/")))
    return out


def path_matches(pattern: str, path: str) -> bool:
    """Spring's PathPattern for what gateways use: `/a/**` (also `/a`), `/a/*`, `/a`."""
    if pattern.endswith("/**"):
        base = pattern[:-3]
        return path == base or path.startswith(base + "/") or base == ""
    if pattern.endswith("/*"):
        base = pattern[:-2]
        return path.startswith(base + "/") and "/" not in path[len(base) + 1:]
    return path.rstrip("/") == pattern.rstrip("/")


class CallFailed(Exception):
    """.kind: unknown-host | refused | reset | timeout | status; .status for status."""

    def __init__(self, kind: str, message: str, status: int | None = None):
        super().__init__(message)
        self.kind, self.status = kind, status


def _feign_status(resp: Response, method: str, url: str, client: str) -> str:
    words = REASONS.get(resp.status, "")
    name = "".join(w.capitalize() for w in re.split(r"[ -]", words)) if words else str(resp.status)
    body = resp.body.decode(errors="replace")[:400]
    return (f"feign.FeignException${name}: [{resp.status} {words}] during [{method}] to [{url}] "
            f"[{client}]: [{body}]")


async def call(app, within, method: str, url: str, body: bytes, timeout: float | None,
               client: str = "") -> Response:
    """app.fetch with failures as Feign reports them; a 2xx Response otherwise."""
    try:
        resp = await app.fetch(within, method, url, body, timeout=timeout)
    except LookupError as exc:
        host = str(exc.args[0]) if exc.args else url
        raise CallFailed("unknown-host", f"feign.RetryableException: {host}: Name or service not "
                         f"known executing {method} {url}") from None
    except ConnectionRefusedError:
        raise CallFailed("refused", "feign.RetryableException: Connection refused (Connection "
                         f"refused) executing {method} {url}") from None
    except ConnectionResetError:
        raise CallFailed("reset", "feign.RetryableException: Unexpected end of file from server "
                         f"executing {method} {url}") from None
    except asyncio.TimeoutError:
        raise CallFailed("timeout", f"feign.RetryableException: Read timed out executing {method} "
                         f"{url}") from None
    if not 200 <= resp.status < 300:
        raise CallFailed("status", _feign_status(resp, method, url, client), resp.status)
    return resp

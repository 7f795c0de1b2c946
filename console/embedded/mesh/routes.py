"""VirtualService http routes: which route a request takes, as Envoy's route table
that istiod builds from it matches (the first route whose match holds; a route
without match takes everything; none matching -> 404, no fallback).

HTTPMatchRequest: uri/scheme/method/authority as StringMatch {exact|prefix|regex}
(regex is RE2's full match; uri is matched on the path without the query, as Envoy
does), headers and withoutHeaders (an empty StringMatch: the header is present),
queryParams (exact|regex), port (the Service port), sourceLabels,
sourceNamespace, ignoreUriCase. Conditions in one match all hold; any match of the
list will do. Destinations are picked by weight (a lone one takes 100).
"""

import random
import re
from functools import lru_cache


@lru_cache(maxsize=512)
def _regex(pattern: str):
    try:
        return re.compile(pattern)
    except re.error:
        return None


def string_match(sm, value: str | None, ignore_case: bool = False) -> bool:
    if not isinstance(sm, dict):
        return False
    if value is None:
        return False
    if ignore_case:
        value = value.lower()
    if "exact" in sm:
        want = str(sm["exact"])
        return value == (want.lower() if ignore_case else want)
    if "prefix" in sm:
        want = str(sm["prefix"])
        return value.startswith(want.lower() if ignore_case else want)
    if "regex" in sm:
        rx = _regex(str(sm["regex"]))
        return rx is not None and rx.fullmatch(value) is not None
    return True         # {}: present


def _query(target: str) -> dict[str, str]:
    out = {}
    if "?" in target:
        for part in target.split("?", 1)[1].split("&"):
            k, _, v = part.partition("=")
            out.setdefault(k, v)
    return out


def matches(m: dict, req, port: int, client_ns: str, client_labels: dict | None) -> bool:
    if not isinstance(m, dict):
        return False
    ignore = bool(m.get("ignoreUriCase"))
    if "uri" in m:
        uri = m["uri"]
        value = req.target if isinstance(uri, dict) and "prefix" in uri else req.path
        if not string_match(uri, value, ignore):
            return False
    if "method" in m and not string_match(m["method"], req.method):
        return False
    if "authority" in m and not string_match(m["authority"], req.headers.get("host", "")):
        return False
    if "scheme" in m and not string_match(m["scheme"], "http"):
        return False
    for name, sm in (m.get("headers") or {}).items():
        if not string_match(sm, req.headers.get(str(name).lower())):
            return False
    for name, sm in (m.get("withoutHeaders") or {}).items():
        if string_match(sm, req.headers.get(str(name).lower())):
            return False
    if m.get("queryParams"):
        query = _query(req.target)
        for name, sm in m["queryParams"].items():
            if not string_match(sm, query.get(name)):
                return False
    if "port" in m and m["port"] != port:
        return False
    if "sourceNamespace" in m and m["sourceNamespace"] != client_ns:
        return False
    if "sourceLabels" in m:
        labels = client_labels or {}
        if any(labels.get(k) != v for k, v in (m["sourceLabels"] or {}).items()):
            return False
    return True


def route_for(spec: dict, req, port: int, client_ns: str, client_labels: dict | None) -> dict | None:
    """The first HTTPRoute of the VirtualService that takes req, or None."""
    for route in spec.get("http") or []:
        if not isinstance(route, dict):
            continue
        conds = route.get("match")
        if not conds or any(matches(m, req, port, client_ns, client_labels) for m in conds):
            return route
    return None


def pick_destination(route: dict) -> dict | None:
    dests = [d for d in route.get("route") or [] if isinstance(d, dict)
             and isinstance(d.get("destination"), dict)]
    if not dests:
        return None
    if len(dests) == 1:
        return dests[0]
    weights = [max(0, d.get("weight") or 0) if isinstance(d.get("weight"), int) else 0
               for d in dests]
    total = sum(weights)
    if total <= 0:
        return dests[0]
    x = random.uniform(0, total)
    for d, w in zip(dests, weights):
        if x < w:
            return d
        x -= w
    return next(d for d, w in zip(reversed(dests), reversed(weights)) if w > 0)


def rewrite(route: dict, req) -> None:
    """HTTPRewrite: a uri prefix matched by the route's uri prefix is replaced."""
    rw = route.get("rewrite")
    if not isinstance(rw, dict):
        return
    if isinstance(rw.get("uri"), str):
        prefix = next((((m or {}).get("uri") or {}).get("prefix") for m in route.get("match") or []
                       if isinstance(((m or {}).get("uri") or {}).get("prefix"), str)
                       and req.target.startswith(m["uri"]["prefix"])), None)
        if prefix is not None:
            req.target = rw["uri"] + req.target[len(prefix):]
        else:
            query = req.target.split("?", 1)
            req.target = rw["uri"] + ("?" + query[1] if len(query) > 1 else "")
    if isinstance(rw.get("authority"), str):
        req.headers["host"] = rw["authority"]


def header_ops(ops, headers: dict) -> None:
    """Headers.request / Headers.response: set, add, remove."""
    if not isinstance(ops, dict):
        return
    for k, v in (ops.get("set") or {}).items():
        headers[str(k).lower()] = str(v)
    for k, v in (ops.get("add") or {}).items():
        k = str(k).lower()
        headers[k] = f"{headers[k]},{v}" if k in headers else str(v)
    for k in ops.get("remove") or []:
        headers.pop(str(k).lower(), None)

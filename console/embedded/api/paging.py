"""limit/continue: the continue token carries the list's resourceVersion and
the last key returned, base64 JSON like the real server's."""

import base64
import itertools
import json

from console.embedded.api.status import ApiError


def _key(obj: dict) -> str:
    m = obj["metadata"]
    return f"{m.get('namespace') or ''}/{m['name']}"


def page(items_after, limit: str | None, token: str | None, rv: str):
    """-> (chosen items, continue token or "", remaining count).

    items_after(start): the list's items in key order, past `start` ("ns/name" of
    the last one a previous page gave) or all when start is None."""
    start = None
    if token:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode() + b"=="))
            start = data["start"]
        except (ValueError, KeyError, TypeError):
            raise ApiError(400, "continue key is not valid: incorrect encoded start "
                           "resourceVersion (version meta.k8s.io/v1)", "BadRequest")
    items = items_after(start)
    n = 0
    if limit:
        n = int(limit)  # checked as int64 by params.check_list
    if n <= 0:
        return list(items), "", 0
    if isinstance(items, list):     # the store's own run of keys: counted, not walked
        chosen, remaining = items[:n], max(0, len(items) - n)
    else:
        items = iter(items)
        chosen = list(itertools.islice(items, n))
        remaining = sum(1 for _ in items)
    if not remaining:
        return chosen, "", 0
    cont = base64.urlsafe_b64encode(json.dumps(
        {"v": "meta.k8s.io/v1", "rv": int(rv), "start": _key(chosen[-1])}).encode()).decode()
    return chosen, cont.rstrip("="), remaining


def after(items, start: str | None):
    """items past `start` ("ns/name"), for lists that are not a store's own run of keys."""
    return items if start is None else (o for o in items if _key(o) > start)

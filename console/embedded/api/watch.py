"""Watch: a chunked stream of {"type","object"} lines, as the real server sends.

rv "" / "0": synthetic ADDED for every current object first; an rv older than
the kept history: one ERROR event carrying a 410 Expired Status, then the end.
A selector turns MODIFIED into ADDED/DELETED as objects enter/leave it.
"""

import asyncio
import logging

from aiohttp import web

from console.embedded.api import params
from console.embedded.api import conversion, metrics, tables
from console.embedded.api.selectors import parse_fields, parse_labels
from console.embedded.api.status import bad_request, dumps, status_obj
from console.embedded.store import Expired

log = logging.getLogger("kubelab.api.watch")
BOOKMARK_EVERY = 15.0  # seconds, real time
LIVENESS_EVERY = 2.0   # how often a quiet stream checks that its client is still there
BATCH = 512            # events sent in one write at most


def _since(rv: str | None) -> int | None:
    if rv in (None, "", "0"):
        return None
    try:
        return int(rv)
    except ValueError:
        raise bad_request(f'resourceVersion: Invalid value: "{rv}": must be a number')


async def serve(request, cluster, t) -> web.StreamResponse:
    q = request.query
    label = parse_labels(q.get("labelSelector"))
    field = parse_fields(q.get("fieldSelector"), t.kind.key, t.kind.kind, t.version)
    since = _since(q.get("resourceVersion"))
    # WatchList (client-go's streaming list): the current state as ADDED events,
    # then a bookmark marked initial-events-end.
    initial = params.flag(q, "sendInitialEvents")
    if initial:
        since = None
    bookmarks = params.flag(q, "allowWatchBookmarks")
    params.check_list(q, watching=True)
    timeout = params.int64(q, "timeoutSeconds")
    if timeout is not None:
        timeout = max(0, timeout)
    as_table = "as=Table" in request.headers.get("Accept", "")
    resp = web.StreamResponse(status=200, headers={
        "Content-Type": "application/json", "Cache-Control": "no-cache, private"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    store = cluster.store
    try:
        scope = t.namespace if t.kind.namespaced else None
        pending = sum(1 for _ in store.scan(t.kind.key, scope)) if initial else -1
        watcher = store.watch(t.kind.key, scope, since)
        start_rv = str(store.resource_version)
    except Expired as exc:
        await _send(resp, {"type": "ERROR", "object": status_obj(410, str(exc), "Expired")})
        return resp
    except Exception as exc:
        log.exception("watch %s failed", t.kind.key)
        await _send(resp, {"type": "ERROR", "object": status_obj(
            500, f"Internal error occurred: {type(exc).__name__}", "InternalError")})
        return resp

    def matches(obj):
        if obj is None:
            return False
        return ((label is None or label(obj["metadata"].get("labels")))
                and (field is None or field(obj)))

    loop = asyncio.get_running_loop()
    first = [True]
    encoded = request.app[ENCODED]
    include = request.query.get("includeObject", "Metadata")

    def render(ev) -> bytes:
        """The event's object on the wire, encoded once for every watcher that
        wants it the same way (kube-apiserver's watch cache does as much)."""
        rv = ev.obj["metadata"].get("resourceVersion")
        if not as_table:
            key = (ev.res, rv, t.version)
        else:   # ages are whole seconds of the clock's: one Table per second is exact
            key = (ev.res, rv, t.version, include, first[0],
                   int(cluster.clock.now().timestamp()))
        raw = encoded.get(key)
        if raw is None:
            obj = conversion.to_wire(t.kind, ev.obj, t.version)
            if as_table:
                obj = tables.table(t.kind, [obj], request, cluster, header=first[0])
            raw = encoded.put(key, dumps(obj))
        first[0] = False
        return raw

    def line(ev):
        """What one store event sends this client: bytes, or None."""
        now, before = matches(ev.obj), matches(ev.old)
        kind = ev.type
        if kind == "MODIFIED" and now and not before and (label or field):
            kind = "ADDED"
        elif kind == "MODIFIED" and before and not now:
            kind = "DELETED"
        elif not now and not (kind == "DELETED" and before):
            return None
        return b'{"type":"%s","object":%s}\n' % (kind.encode(), render(ev))

    async def initial_events_end():
        await _send(resp, {"type": "BOOKMARK", "object": {
            "kind": t.kind.kind, "apiVersion": t.kind.api_version(t.version),
            "metadata": {"resourceVersion": start_rv,
                         "annotations": {"k8s.io/initial-events-end": "true"}}}})
    deadline = loop.time() + timeout if timeout is not None else None
    gauges = request.app[metrics.GAUGES]
    gauges.opened(t.kind.key)
    queue = watcher.queue
    try:
        if pending == 0:
            await initial_events_end()
        next_bookmark = loop.time() + BOOKMARK_EVERY
        ended = False
        while not ended:
            wait = LIVENESS_EVERY
            if deadline is not None:
                wait = min(wait, deadline - loop.time())
                if wait <= 0:
                    break
            if queue.empty():
                try:
                    ev = await asyncio.wait_for(queue.get(), wait)
                except asyncio.TimeoutError:
                    # aiohttp does not cancel us when the client goes: look, so the
                    # watcher does not outlive a quiet stream
                    if request.transport is None or request.transport.is_closing():
                        return resp
                    if bookmarks and loop.time() >= next_bookmark:
                        next_bookmark = loop.time() + BOOKMARK_EVERY
                        await _send(resp, {"type": "BOOKMARK", "object": {
                            "kind": t.kind.kind, "apiVersion": t.kind.api_version(t.version),
                            "metadata": {"resourceVersion": str(store.resource_version)}}})
                    continue
            else:
                ev = queue.get_nowait()
            # what has queued up meanwhile goes out in one write
            out = []
            while True:
                if ev is None:  # the store closed us (too far behind, or dropped)
                    ended = True
                    break
                pending -= 1
                chunk = line(ev)
                if chunk is not None:
                    out.append(chunk)
                if pending == 0:
                    break
                if queue.empty() or len(out) >= BATCH:
                    break
                ev = queue.get_nowait()
            if out:
                await resp.write(b"".join(out))
            if pending == 0:
                await initial_events_end()
        if ended and watcher.reset and request.transport is not None:
            request.transport.abort()   # the client resumes from its last resourceVersion
            return resp
    except ConnectionResetError:
        return resp  # the client went away
    except Exception as exc:  # the stream has started: end it with an ERROR event
        log.exception("watch %s failed", t.kind.key)
        try:
            await _send(resp, {"type": "ERROR", "object": status_obj(
                500, f"Internal error occurred: {type(exc).__name__}", "InternalError")})
        except ConnectionResetError:
            return resp
    finally:
        store.stop_watch(watcher)
        gauges.closed(t.kind.key)
    try:
        await resp.write_eof()
    except (ConnectionResetError, RuntimeError):
        pass
    return resp


class Encoded:
    """The last few thousand objects as encoded for watchers, by (resource,
    resourceVersion, how): N watchers of one resource cost one encoding per
    change, not N. Bounded, oldest first out; one per API server (app)."""

    SIZE = 4096

    def __init__(self):
        self._items: dict[tuple, bytes] = {}

    def get(self, key: tuple) -> bytes | None:
        return self._items.get(key)

    def put(self, key: tuple, raw: bytes) -> bytes:
        items = self._items
        items[key] = raw
        if len(items) > self.SIZE:
            del items[next(iter(items))]
        return raw


ENCODED = web.AppKey("watch-encoded", Encoded)   # make_app keeps one per app


async def _send(resp, event: dict) -> None:
    await resp.write(dumps(event) + b"\n")

"""List + watch the namespace's objects and publish them on the bus.

One thread per kind (the official client is blocking). Each informer lists,
publishes every object and a `Synced` with the full set of uids, then watches
from the list's resourceVersion; a watch that ends is resumed from the last
resourceVersion seen, a 410 Gone relists, and a lost connection is retried
with back-off. Its link state (live / reconnecting / stale / refused) goes on the bus.

Given the Connection, a failing informer first asks it to re-read the kubeconfig
(Connection.refresh): a restarted embedded cluster or a rotated credential is then
picked up and everything is listed afresh, so rows of objects that no longer exist
go (Synced). Credentials refused (401) or a certificate that does not verify, with
the file unchanged, is "refused" with what to do — not an endless "reconnecting".
Objects stay raw API JSON (dicts): cheap, and serialisable for tapes.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

from kubernetes import client
from kubernetes.watch.watch import iter_resp_lines
from kubernetes.client.exceptions import ApiException

from console import bus
from console.cluster.errors import message_of

log = logging.getLogger("kubelab.informers")

# kind -> (API class, list function name)
KINDS = {
    "pods": (client.CoreV1Api, "list_namespaced_pod"),
    "deployments": (client.AppsV1Api, "list_namespaced_deployment"),
    "replicasets": (client.AppsV1Api, "list_namespaced_replica_set"),
    "hpas": (client.AutoscalingV2Api, "list_namespaced_horizontal_pod_autoscaler"),
    "events": (client.CoreV1Api, "list_namespaced_event"),
    "services": (client.CoreV1Api, "list_namespaced_service"),
    "endpointslices": (client.DiscoveryV1Api, "list_namespaced_endpoint_slice"),
}

STALE_AFTER = 30.0      # seconds of failed reconnects before the data is called stale
WATCH_SECONDS = 240     # server-side watch timeout; the watch is then resumed
BACKOFF_MAX = 15.0


class Gone(Exception):
    """The resourceVersion is too old (410): relist."""


class Informer:
    def __init__(self, api: client.ApiClient, namespace: str, kind: str, sink: bus.Bus,
                 resource_version: str | None = None, stale_after: float = STALE_AFTER,
                 conn=None):
        """resource_version: resume from there (no first list); a 410 relists.

        conn: the console.cluster.connect.Connection `api` belongs to (refresh, problem)."""
        self.conn = conn
        self.generation = conn.generation if conn is not None else 0
        cls, fn = KINDS[kind]
        self.list = getattr(cls(api), fn)
        self.namespace = namespace
        self.kind = kind
        self.bus = sink
        self.rv: str | None = resource_version
        self.stale_after = stale_after
        self.state = "connecting"
        self.relists = 0
        self._stop = threading.Event()
        self._resp = None
        self.thread = threading.Thread(target=self.run, name=f"informer-{kind}", daemon=True)

    def start(self) -> Informer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        resp = self._resp
        conn = getattr(resp, "connection", None) or getattr(resp, "_connection", None)
        sock = getattr(conn, "sock", None)
        if sock is not None:
            try:  # unblock the reader now; closing from here could deadlock on TLS
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _set_state(self, state: str, detail: str = "") -> None:
        if state != self.state or detail:
            self.state = state
            self.bus.publish(bus.WatchState(kind=self.kind, state=state, detail=detail))

    def relist(self) -> None:
        resp = self.list(self.namespace, _preload_content=False, _request_timeout=60)
        body = json.loads(resp.data)
        self.relists += 1
        uids = []
        for obj in body.get("items") or []:
            uids.append(obj.get("metadata", {}).get("uid", ""))
            self.bus.publish(bus.ObjectChanged(kind=self.kind, type="ADDED", obj=obj))
        self.bus.publish(bus.Synced(kind=self.kind, uids=uids))
        self.rv = body.get("metadata", {}).get("resourceVersion")

    def watch_once(self) -> None:
        """One watch request, read line by line until the server ends it."""
        resp = self.list(self.namespace, watch=True, resource_version=self.rv,
                         allow_watch_bookmarks=True, timeout_seconds=WATCH_SECONDS,
                         _preload_content=False, _request_timeout=(10, WATCH_SECONDS + 30))
        self._resp = resp
        self.connected()
        try:
            for line in iter_resp_lines(resp):
                if self.stopped:
                    return
                if not line or line.isspace():
                    continue
                ev = json.loads(line)
                obj = ev.get("object") or {}
                if ev.get("type") == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone()
                    raise ApiException(status=obj.get("code") or 500,
                                       reason=obj.get("message") or obj.get("reason"))
                rv = obj.get("metadata", {}).get("resourceVersion")
                if rv:
                    self.rv = rv
                if ev.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                    self.bus.publish(bus.ObjectChanged(kind=self.kind, type=ev["type"], obj=obj))
        finally:
            self._resp = None
            resp.release_conn()

    def connected(self) -> None:
        self._set_state("live")
        self._delay, self._failing_since = 0.5, None

    def run(self) -> None:
        need_list = self.rv is None
        self._delay, self._failing_since = 0.5, None
        while not self.stopped:
            if self.conn is not None and self.conn.generation != self.generation:
                self.generation, need_list = self.conn.generation, True  # reloaded meanwhile
            try:
                if need_list:
                    self.relist()
                    need_list = False
                self.watch_once()
            except Gone:
                need_list = True
                continue
            except Exception as exc:  # connection lost, 5xx, 403 ...: say so and retry
                if self.stopped:
                    return
                if isinstance(exc, ApiException) and exc.status == 410:
                    need_list = True
                    continue
                if self.conn is not None and (self.conn.refresh(exc)
                                              or self.conn.generation != self.generation):
                    # another server or new credentials (reloaded here or by another
                    # informer): its resourceVersions mean nothing here, list afresh
                    self.generation = self.conn.generation
                    need_list = True
                    self._delay = 0.5
                    continue
                problem = self.conn.problem(exc) if self.conn is not None else None
                now = time.monotonic()
                self._failing_since = self._failing_since or now
                stale = now - self._failing_since > self.stale_after
                if problem:
                    self._set_state("refused", problem)
                else:
                    self._set_state("stale" if stale else "reconnecting", message_of(exc))
                if self._stop.wait(self._delay):
                    return
                self._delay = min(self._delay * 2, BACKOFF_MAX)


class Informers:
    """All the kinds of one namespace, started and stopped together."""

    def __init__(self, api: client.ApiClient, namespace: str, sink: bus.Bus,
                 kinds: list[str] | None = None, **kw):
        self.items = [Informer(api, namespace, k, sink, **kw) for k in (kinds or list(KINDS))]

    def start(self) -> Informers:
        for inf in self.items:
            inf.start()
        return self

    def stop(self) -> None:
        for inf in self.items:
            inf.stop()

    def join(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        for inf in self.items:
            inf.thread.join(max(0.0, deadline - time.monotonic()))

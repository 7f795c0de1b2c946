"""A session: one cluster connection and what hangs off it.

    session = Session(conn)          # conn: console.cluster.connect.Connection (or None)
    session.watch()                  # informers + metrics poller -> session.bus
    session.act("scale", deployment="order", by=1)   # a catalogue action; ActionDone on the bus
    session.load.start("-c2 -t5S http://order:8080/orders")
    session.close()                  # watches, load runs, the connection (and an embedded cluster)

The console, the scenario runner and the tests share this object instead of
each owning watches. `state` is the ClusterState folded from the bus by the
session's one reader on its own thread (the console's drain); the scenario
runner reads the API itself and needs no state. Several sessions live in one process side by
side (class mode): nothing here is global.
"""

from __future__ import annotations

import threading

from console import bus as busmod
from console.cluster import catalogue
from console.cluster.actions import Result
from console.cluster.load import LoadRuns
from console.cluster.state import ClusterState
from console.paths import manifests_dir


class Session:
    def __init__(self, conn=None, bus: busmod.Bus | None = None, speed: float | None = None):
        self.conn = conn
        self.bus = bus or busmod.Bus()
        self.state = ClusterState()
        self.load = LoadRuns(self)
        self.informers = None
        self.metrics = None
        self.load_path = "auto"          # how load reaches Services (route.PATHS; --load-path)
        self.metrics_manifest = ""       # metrics-server's manifest for M (--metrics-manifest)
        self._forwarder = None           # portforward.Hub, made on the first port-forward
        self._access: dict = {}          # (context, namespace) -> access.Access
        self._speed = speed
        self._stop = threading.Event()

    # --- what a catalogue action's context needs -----------------------------------------
    @property
    def speed(self) -> float:
        """Cluster seconds per wall second: the embedded cluster's --speed, 1 on a real one."""
        if self._speed is not None:
            return self._speed
        return float(getattr(self.conn, "speed", 1.0) or 1.0)

    timescale = 1.0          # keys act in wall time; a scenario context uses `speed`

    def sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    @staticmethod
    def resolve_file(path: str) -> str:
        from pathlib import Path
        p = Path(path)
        return str(p if p.is_absolute() or p.exists() else manifests_dir() / p)

    @property
    def real(self) -> bool:
        return self.conn is not None and self.conn.real

    # --- what the user may do, and the port-forwards ------------------------------------------
    def access_for(self, conn=None):
        """access.Access for a connection (default: the session's), one per context and namespace."""
        from console.cluster.access import Access
        conn = conn or self.conn
        key = (conn.context, conn.namespace)
        if key not in self._access:
            self._access[key] = Access(conn)
        return self._access[key]

    @property
    def access(self):
        return self.access_for()

    def check_access(self) -> dict[str, str]:
        """Ask the API what this user may do here; the catalogue actions it may not use go
        on the bus (Permissions) for the console to grey out. Returns {action: why}."""
        if self.conn is None:
            return {}
        access = self.access_for()
        refused = access.refused(catalogue.ACTIONS)
        self.bus.publish(busmod.Permissions(user=access.whoami(), namespace=self.conn.namespace,
                                            refused=refused, detail=access.error))
        return refused

    def reach(self, host: str, port: int, conn=None) -> tuple[str, int] | None:
        """A local address for an in-cluster name (route.reach): loopback, else a port-forward."""
        from console.cluster import route
        return route.reach(conn or self.conn, host, port, self.forwarder, self.load_path)

    def forwarder(self):
        """The session's port-forward hub (portforward.Hub), on the current connection."""
        from console.cluster.portforward import Hub
        if self._forwarder is not None and self._forwarder.conn.api is not self.conn.api:
            self._forwarder.close()
            self._forwarder = None
        if self._forwarder is None:
            self._forwarder = Hub(self.conn)
        return self._forwarder

    # --- watches ---------------------------------------------------------------------------
    @property
    def watching(self) -> bool:
        return self.informers is not None

    def watch(self) -> None:
        """Start the informers and the metrics poller for the connection's namespace."""
        if self.conn is None or self.informers is not None:
            return
        from console.cluster.informers import Informers
        from console.cluster.metrics import MetricsPoller
        self.informers = Informers(self.conn.api, self.conn.namespace, self.bus,
                                   conn=self.conn).start()
        self.metrics = MetricsPoller(self.conn.api, self.conn.namespace, self.bus).start()
        threading.Thread(target=self.check_access, name="access", daemon=True).start()

    def unwatch(self) -> None:
        for part in (self.informers, self.metrics):
            if part is not None:
                part.stop()
        self.informers = self.metrics = None

    def switch(self, namespace: str | None = None, context: str | None = None) -> None:
        """Another namespace or context: new watches, a fresh state (raises on a bad context)."""
        new = self.conn.switch(namespace=namespace, context=context)
        new.take_ownership_from(self.conn)
        watching = self.watching
        self.unwatch()
        self.conn = new
        self.state = ClusterState()
        self._access.clear()
        if watching:
            self.watch()

    # --- actions -----------------------------------------------------------------------------
    def act(self, name: str, /, **params) -> Result:
        """Run a catalogue action here; its outcome goes on the bus as ActionDone."""
        if self.conn is None:
            result = Result(False, "not connected to a cluster")
        else:
            result = catalogue.call(self, name, params)
        self.bus.publish(busmod.ActionDone(action=name, ok=result.ok, message=result.message))
        return result

    def close(self, wait_load: float = 30.0, disconnect: bool = True) -> None:
        """Stop the watches and the load runs (keeping their summaries), then disconnect
        (which stops an embedded cluster the connection started)."""
        self._stop.set()
        self.unwatch()
        self.load.stop_all(wait=wait_load)
        if self._forwarder is not None:
            self._forwarder.close()
            self._forwarder = None
        if disconnect and self.conn is not None:
            self.conn.close()

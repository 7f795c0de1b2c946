"""One upstream cluster of one Envoy: its hosts, HTTP/1.1 connection pools and
circuit breakers, as Envoy's ConnPoolImplBase (source/common/conn_pool/
conn_pool_base.cc) runs them with the thresholds istiod sets.

Thresholds (istiod's getDefaultCircuitBreakerThresholds: all 2^32-1 unless set):
  tcp.maxConnections            max_connections    connections to all hosts
  http.http1MaxPendingRequests  max_pending_requests   requests waiting for a connection
  http.http2MaxRequests         max_requests       requests in flight (HTTP/1.1 too)
  http.maxRetries               max_retries        retries in flight
  http.maxRequestsPerConnection a connection closes after that many (0: keep-alive)

Pools are per worker thread and per host (the sidecar runs 2 workers, istio's
default concurrency); the thresholds are shared by the whole cluster. A request:
  - a ready (idle) connection in its worker's pool for the chosen host: it takes
    it, unless max_requests are already in flight -> overflow;
  - else it waits as *pending* -- unless max_pending_requests already wait ->
    overflow -- and the pool opens a connection if fewer are connecting than
    requests wait and max_connections allows (a pool with no connection at all
    always opens one: Envoy's leeway, so pending requests never starve);
  - a connection that served maxRequestsPerConnection requests drains and closes;
    a pending request then needs a new one.
Overflow is answered by the router (503, x-envoy-overloaded). A connect failure
fails every request pending on that pool.
"""

import asyncio
import random
from collections import deque

from console.embedded.mesh.values import MAX_UINT32, count, seconds

WORKERS = 2              # istio-proxy's default concurrency
# How long a new upstream connection takes to be ready, which is how long a request
# waits as pending for it (with maxRequestsPerConnection 1, every request does):
CONNECT_SECONDS = 0.0005     # outbound: a TCP connect and the mTLS handshake on the node's network
LOOPBACK_SECONDS = 0.00005   # inbound: plain TCP to the app on 127.0.0.1 (mTLS ends at the sidecar)


class Overflow(Exception):
    """A circuit breaker said no (reset reason: overflow)."""


class ConnectFailure(Exception):
    """The connection could not be made (reset reason: remote connection failure)."""


class Limits:
    def __init__(self, policy: dict):
        pool = (policy or {}).get("connectionPool") or {}
        tcp = pool.get("tcp") or {} if isinstance(pool, dict) else {}
        http = pool.get("http") or {} if isinstance(pool, dict) else {}
        self.connections = count(tcp.get("maxConnections"), MAX_UINT32)
        self.pending = count(http.get("http1MaxPendingRequests"), MAX_UINT32)
        self.requests = count(http.get("http2MaxRequests"), MAX_UINT32)
        self.retries = count(http.get("maxRetries"), MAX_UINT32)
        self.per_connection = count(http.get("maxRequestsPerConnection"), 0)
        self.connect_timeout = seconds(tcp.get("connectTimeout"), 10.0)


class Host:
    """One endpoint (pod IP, port) and what the load balancer counts on it."""

    __slots__ = ("key", "ip", "port", "labels", "active")

    def __init__(self, ip: str, port: int, labels: dict):
        self.key = (ip, port)
        self.ip, self.port, self.labels = ip, port, labels
        self.active = 0


class UpConn:
    """One upstream connection; it stands in its peer's `connections` (the app, or
    the pod's istio-proxy) so the peer's death closes or resets it."""

    __slots__ = ("pool", "peer", "send", "remaining", "busy", "reset", "closing", "closed")

    def __init__(self, pool, peer, send, per_connection: int):
        self.pool, self.peer, self.send = pool, peer, send
        self.remaining = per_connection or -1
        self.busy = self.reset = self.closing = self.closed = False

    def drop(self, graceful: bool) -> None:
        if self.busy:
            if graceful:
                self.closing = True
            else:
                self.reset = True
        else:
            self.pool.close(self)


class HostPool:
    """Connections from one worker to one host."""

    def __init__(self, cluster, host: Host):
        self.cluster, self.host = cluster, host
        self.ready: deque[UpConn] = deque()
        self.busy: set[UpConn] = set()
        self.connecting = 0
        self.pending: deque[asyncio.Future] = deque()

    # -- streams -----------------------------------------------------------------
    async def stream(self, realtime: bool) -> UpConn:
        """A connection carrying this request; Overflow / ConnectFailure."""
        c = self.cluster
        if self.ready:
            conn = self.ready.popleft()
            self._attach(conn)
            return conn
        if c.pending >= c.limits.pending:
            raise Overflow
        fut = asyncio.get_running_loop().create_future()
        self.pending.append(fut)
        c.pending += 1
        self._grow(realtime)
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self.done(fut.result(), reusable=True)     # handed over as we were cancelled
            raise
        finally:
            if fut in self.pending:
                self.pending.remove(fut)
                c.pending -= 1

    def _attach(self, conn: UpConn) -> None:
        c = self.cluster
        if c.active >= c.limits.requests:
            self.ready.appendleft(conn)
            raise Overflow
        c.active += 1
        self.host.active += 1
        conn.busy = True
        if conn.remaining > 0:
            conn.remaining -= 1
        self.busy.add(conn)

    def done(self, conn: UpConn, reusable: bool) -> None:
        """The request on conn ended: the connection goes back, or closes."""
        c = self.cluster
        c.active -= 1
        self.host.active -= 1
        conn.busy = False
        self.busy.discard(conn)
        if not reusable or conn.reset or conn.closing or conn.remaining == 0 or c.retired:
            self.close(conn)
            return
        self.ready.appendleft(conn)
        self._serve_pending()

    def close(self, conn: UpConn) -> None:
        if conn.closed:
            return
        conn.closed = True
        if conn in self.ready:
            self.ready.remove(conn)
        self.busy.discard(conn)
        conn.peer.connections.discard(conn)
        self.cluster.connections -= 1
        if self.pending:
            self._grow(realtime=True)

    # -- connections ---------------------------------------------------------------
    def _grow(self, realtime: bool) -> None:
        c = self.cluster
        for _ in range(3):
            if len(self.pending) <= self.connecting:
                return
            can = c.connections < c.limits.connections
            if can or not (self.ready or self.busy or self.connecting):
                c.connections += 1
                self.connecting += 1
                asyncio.ensure_future(self._connect(realtime))
            if not can:
                return

    async def _connect(self, realtime: bool) -> None:
        c = self.cluster
        try:
            if realtime:
                await asyncio.sleep(c.connect_seconds)
            else:
                await c.clock.sleep(c.connect_seconds)
            peer, send = c.connector(self.host)
        except ConnectFailure as exc:
            self.connecting -= 1
            c.connections -= 1
            while self.pending:     # each request's router counts it against the host
                fut = self.pending.popleft()
                c.pending -= 1
                if not fut.done():
                    fut.set_exception(ConnectFailure(str(exc)))
            return
        except BaseException:
            self.connecting -= 1
            c.connections -= 1
            raise
        self.connecting -= 1
        conn = UpConn(self, peer, send, c.limits.per_connection)
        peer.connections.add(conn)
        self.ready.appendleft(conn)
        self._serve_pending()

    def _serve_pending(self) -> None:
        while self.pending and self.ready:
            fut = self.pending.popleft()
            self.cluster.pending -= 1
            if fut.done():
                continue
            conn = self.ready.popleft()
            try:
                self._attach(conn)
            except Overflow as exc:
                fut.set_exception(exc)
                continue
            fut.set_result(conn)


class UpstreamCluster:
    """outbound|<port>|<subset>|<host> in one Envoy: hosts, pools, breakers, LB."""

    def __init__(self, name: str, clock, policy: dict, connector, detector=None,
                 connect_seconds: float = CONNECT_SECONDS):
        self.name = name
        self.clock = clock
        self.connect_seconds = connect_seconds
        self.limits = Limits(policy)
        lb = ((policy or {}).get("loadBalancer") or {})
        self.lb = lb.get("simple") if isinstance(lb, dict) else None
        self.connector = connector          # host -> (peer, send) | ConnectFailure
        self.detector = detector
        self.hosts: dict[tuple, Host] = {}
        self.hosts_list: list[Host] = []
        self.hosts_at: tuple | None = None     # (endpoints generation, hosts): Mesh.hosts' cache
        self.pools: dict[tuple, HostPool] = {}
        self.connections = self.pending = self.active = self.retrying = 0
        self.retired = False
        self.subset: dict | None = None     # the subset's labels (None: every endpoint)
        self._rr = [0] * WORKERS

    def set_hosts(self, endpoints: list[tuple[str, int, dict]]) -> list[Host]:
        keys = set()
        for ip, port, labels in endpoints:
            h = self.hosts.get((ip, port))
            if h is None:
                h = self.hosts[(ip, port)] = Host(ip, port, labels)
            h.labels = labels
            keys.add((ip, port))
        for k in [k for k in self.hosts if k not in keys]:
            del self.hosts[k]
        if self.detector is not None:
            self.detector.track(keys)
        self.hosts_list = [self.hosts[k] for k in sorted(keys)]
        return self.hosts_list

    def pick(self, hosts: list[Host], worker: int, avoid: set) -> Host | None:
        """Envoy's load balancer over the healthy hosts (None: no healthy upstream);
        up to 5 picks avoid hosts already tried (istio's previous_hosts predicate)."""
        if self.detector is not None:
            ok = set(self.detector.healthy([h.key for h in hosts]))
            hosts = [h for h in hosts if h.key in ok]
        if not hosts:
            return None
        choice = None
        for _ in range(5):
            choice = self._choose(hosts, worker)
            if choice.key not in avoid:
                break
        return choice

    def _choose(self, hosts: list[Host], worker: int) -> Host:
        if len(hosts) == 1:
            return hosts[0]
        if self.lb == "ROUND_ROBIN":
            i = self._rr[worker] = (self._rr[worker] + 1) % len(hosts)
            return hosts[i]
        if self.lb == "RANDOM":
            return random.choice(hosts)
        # LEAST_REQUEST (istio's default): the less busy of two random picks (with
        # replacement); a host that fails fast looks idle and draws traffic, as in Envoy
        a, b = random.choice(hosts), random.choice(hosts)
        return b if b.active < a.active else a

    def pool(self, worker: int, host: Host) -> HostPool:
        key = (worker, host.key)
        p = self.pools.get(key)
        if p is None or p.host is not host:
            p = self.pools[key] = HostPool(self, host)
        return p

    def retire(self) -> None:
        """A newer config replaced this cluster: idle connections close, busy ones drain."""
        self.retired = True
        for p in self.pools.values():
            for conn in list(p.ready):
                p.close(conn)

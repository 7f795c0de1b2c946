"""The mesh's Envoy pieces on their own: connection pools and circuit breakers
(Envoy's ConnPoolImplBase), outlier detection (DetectorImpl), retry policy,
values as istiod reads them. No sockets: the exact counts Envoy would give."""

import asyncio

import pytest

from console.embedded.mesh.outlier import Detector
from console.embedded.mesh.pool import ConnectFailure, Overflow, UpstreamCluster
from console.embedded.mesh.router import RetryPolicy
from console.embedded.mesh.values import duration, percentage


class FakeClock:
    speed = 1.0

    def __init__(self):
        self.t = 0.0

    def elapsed(self):
        return self.t

    def real(self, s):
        return max(0.0, s) / 1000     # sleeps pass quickly

    async def sleep(self, s):
        await asyncio.sleep(self.real(s))


class Peer:
    listening = True

    def __init__(self):
        self.connections = set()


def cluster(policy, fail=False):
    peer = Peer()

    def connect(host):
        if fail:
            raise ConnectFailure(host.ip)
        return peer, None
    c = UpstreamCluster("outbound|80||web.default.svc.cluster.local", FakeClock(), policy, connect)
    hosts = c.set_hosts([("10.244.1.5", 80, {})])
    return c, hosts[0], peer


LAB = {"connectionPool": {"tcp": {"maxConnections": 1},
                          "http": {"http1MaxPendingRequests": 1, "maxRequestsPerConnection": 1}}}


async def settle():
    for _ in range(20):
        await asyncio.sleep(0.001)


async def test_one_pending_request_then_overflow():
    c, host, _ = cluster(LAB)
    pool = c.pool(0, host)
    first = asyncio.ensure_future(pool.stream(realtime=True))
    await asyncio.sleep(0)
    with pytest.raises(Overflow):          # the one pending slot is taken
        await pool.stream(realtime=True)
    conn = await first
    assert (c.connections, c.pending, c.active) == (1, 0, 1)
    second = asyncio.ensure_future(pool.stream(realtime=True))
    await asyncio.sleep(0)
    assert c.pending == 1                 # no ready connection: it waits ...
    with pytest.raises(Overflow):
        await pool.stream(realtime=True)  # ... and the next overflows
    pool.done(conn, reusable=True)        # maxRequestsPerConnection 1: that one closes
    assert c.connections in (0, 1)        # ... and a new one opens for the pending request
    conn2 = await second
    assert conn2 is not conn and conn.closed and (c.connections, c.active) == (1, 1)
    pool.done(conn2, reusable=True)
    await settle()
    assert (c.connections, c.pending, c.active) == (0, 0, 0)


async def test_keep_alive_reuses_the_connection_without_a_limit():
    c, host, peer = cluster({"connectionPool": {"tcp": {"maxConnections": 1}}})
    pool = c.pool(0, host)
    conn = await pool.stream(realtime=True)
    pool.done(conn, reusable=True)
    again = await pool.stream(realtime=True)
    assert again is conn and c.connections == 1 and conn in peer.connections


async def test_max_requests_overflows_even_with_a_ready_connection():
    c, host, _ = cluster({"connectionPool": {"http": {"http2MaxRequests": 1}}})
    p0, p1 = c.pool(0, host), c.pool(1, host)
    idle = await p0.stream(realtime=True)
    p0.done(idle, reusable=True)          # worker 0 has an idle connection now
    held = await p1.stream(realtime=True)
    with pytest.raises(Overflow):
        await p0.stream(realtime=True)    # but one request is already in flight
    p1.done(held, reusable=True)
    assert await p0.stream(realtime=True) is idle


async def test_every_worker_pool_may_open_one_connection_past_the_limit():
    c, host, _ = cluster({"connectionPool": {"tcp": {"maxConnections": 1}}})
    a = await c.pool(0, host).stream(realtime=True)
    b = await c.pool(1, host).stream(realtime=True)   # Envoy's leeway: this pool had none
    assert a is not b and c.connections == 2
    waiting = asyncio.ensure_future(c.pool(1, host).stream(realtime=True))
    await settle()
    assert not waiting.done() and c.connections == 2  # but no third: it waits for one
    c.pool(1, host).done(b, reusable=True)
    assert await waiting is b


async def test_connect_failure_fails_the_pending_requests():
    c, host, _ = cluster({}, fail=True)
    with pytest.raises(ConnectFailure):
        await c.pool(0, host).stream(realtime=True)
    assert (c.connections, c.pending) == (0, 0)


async def test_a_cancelled_wait_gives_its_place_back():
    c, host, _ = cluster(LAB)
    pool = c.pool(0, host)
    conn = await pool.stream(realtime=True)
    waiter = asyncio.ensure_future(pool.stream(realtime=True))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert c.pending == 0
    pool.done(conn, reusable=True)
    await settle()
    assert (c.connections, c.active) == (0, 0)


def test_outlier_ejects_after_consecutive_5xx_and_returns_later_each_time_longer():
    clock = FakeClock()
    d = Detector(clock, {"consecutive5xxErrors": 3, "interval": "1s", "baseEjectionTime": "10s",
                         "maxEjectionPercent": 100})
    d.track([("a", 80), ("b", 80)])
    for status in (500, 503, 200, 500, 500):      # a success in between resets the count
        d.result(("a", 80), status)
    assert not d.ejected(("a", 80))
    clock.t = 0.3
    d.result(("a", 80), 502)
    assert d.ejected(("a", 80)) and d.healthy([("a", 80), ("b", 80)]) == [("b", 80)]
    clock.t = 10.9
    assert d.ejected(("a", 80))                    # back at the first sweep 10 s after
    clock.t = 11.0
    assert not d.ejected(("a", 80))
    for _ in range(3):
        d.result(("a", 80), 500)
    assert d.ejected(("a", 80))                    # second time: 2 x 10 s
    clock.t = 11.0 + 19.5
    assert d.ejected(("a", 80))
    clock.t = 11.0 + 20.0
    assert not d.ejected(("a", 80))
    clock.t = 31.0 + 10 * 3.0                      # healthy for a while: the multiplier decays
    for _ in range(3):
        d.result(("a", 80), 500)
    clock.t += 10.0
    assert not d.ejected(("a", 80))


def test_max_ejection_percent_and_the_deprecated_consecutive_errors():
    clock = FakeClock()
    d = Detector(clock, {"consecutiveErrors": 1})   # ignored by istiod: Envoy's 5 consecutive 5xx
    d.track([("a", 80), ("b", 80)])
    for _ in range(4):
        d.result(("a", 80), 500)
    assert not d.ejected(("a", 80))
    d.result(("a", 80), 500)
    assert not d.ejected(("a", 80))                # 1 of 2 hosts is 50 % > the default 10 %
    d = Detector(clock, {"consecutive5xxErrors": 1, "maxEjectionPercent": 50})
    d.track([("a", 80), ("b", 80)])
    d.result(("a", 80), 500)
    d.result(("b", 80), 500)
    assert d.ejected(("a", 80)) and not d.ejected(("b", 80))


def test_gateway_errors_only_count_when_asked():
    clock = FakeClock()
    d = Detector(clock, {"consecutiveGatewayErrors": 2, "consecutive5xxErrors": 0,
                         "maxEjectionPercent": 100})
    d.track([("a", 80)])
    d.result(("a", 80), 500)
    d.result(("a", 80), 500)
    assert not d.ejected(("a", 80))
    d.result(("a", 80), 503)
    d.result(("a", 80), 504)
    assert d.ejected(("a", 80))


def test_retry_policy_as_istiod_gives_it():
    default = RetryPolicy(None)
    assert default.num == 2 and default.on_reset("connect") and not default.on_reset("reset")
    assert not default.on_status(503, {})
    p = RetryPolicy({"attempts": 3, "perTryTimeout": "2s", "retryOn": "gateway-error,409"})
    assert (p.num, p.per_try) == (3, 2.0)
    assert p.on_status(503, {}) and p.on_status(409, {}) and not p.on_status(500, {})
    assert not p.on_status(503, {"x-envoy-overloaded": "true"}) and not p.on_reset("overflow")
    assert RetryPolicy({"attempts": 0}).num == 0
    assert all(0 <= p.backoff(n) <= 0.25 for n in range(1, 8))


def test_values():
    assert duration("1.5s") == 1.5 and duration("1m30s") == 90 and duration("500ms") == 0.5
    assert duration("10x") is None and duration("") is None and duration(5) is None
    assert percentage({"percentage": {"value": 12.5}}) == 12.5
    assert percentage({"percent": 30}) == 30 and percentage({}) == 0.0


def test_hosts_resolve_as_istiod_resolves_short_names():
    from console.embedded.mesh.config import host_matches, resolve
    assert resolve("reviews", "prod") == "reviews.prod.svc.cluster.local"
    assert resolve("reviews.prod", "default") == "reviews.prod"     # a dot: taken as written
    assert resolve("*", "prod") == "*"
    fqdn = "reviews.prod.svc.cluster.local"
    assert host_matches(fqdn, fqdn) > host_matches("*.prod.svc.cluster.local", fqdn) \
        > host_matches("*", fqdn) > 0
    assert host_matches("reviews.prod", fqdn) == 0


def test_policies_merge_by_port_and_subset_as_istiod_merges_them():
    from console.embedded.mesh.config import traffic_policy
    rule = {"host": "order", "trafficPolicy": {
        "connectionPool": {"tcp": {"maxConnections": 10}},
        "outlierDetection": {"consecutive5xxErrors": 3},
        "portLevelSettings": [{"port": {"number": 9090},
                               "connectionPool": {"tcp": {"maxConnections": 2}}}]},
        "subsets": [{"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": {
            "connectionPool": {"http": {"http1MaxPendingRequests": 1}}}}]}
    assert traffic_policy(rule, None, 8080)["connectionPool"] == {"tcp": {"maxConnections": 10}}
    # a port's settings replace the top level for that port: no outlier detection there
    assert traffic_policy(rule, None, 9090) == {"connectionPool": {"tcp": {"maxConnections": 2}}}
    v2 = traffic_policy(rule, "v2", 8080)
    assert v2["connectionPool"] == {"http": {"http1MaxPendingRequests": 1}}
    assert v2["outlierDetection"] == {"consecutive5xxErrors": 3}
    assert traffic_policy(None, None, 8080) == {}


def test_rules_in_the_clients_namespace_win_and_several_merge():
    from console.embedded.mesh.config import DR, MeshConfig
    from console.embedded.store import Store
    store = Store()

    def dr(ns, name, spec, stamp):
        store.create(DR, {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                          "metadata": {"name": name, "namespace": ns, "creationTimestamp": stamp},
                          "spec": spec})
    dr("shop", "a", {"host": "order", "subsets": [{"name": "v1", "labels": {"v": "1"}}]}, "2025-01-01T00:00:00Z")
    dr("shop", "b", {"host": "order.shop.svc.cluster.local",
                     "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 1}}},
                     "subsets": [{"name": "v1", "labels": {"v": "x"}}, {"name": "v2", "labels": {"v": "2"}}]},
       "2025-01-02T00:00:00Z")
    dr("client", "c", {"host": "order.shop.svc.cluster.local",
                       "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 7}}}},
       "2025-01-03T00:00:00Z")
    cfg = MeshConfig(store)
    merged = cfg.destination_rule("shop", {}, "order.shop.svc.cluster.local")
    assert [s["name"] for s in merged["subsets"]] == ["v1", "v2"]
    assert merged["subsets"][0]["labels"] == {"v": "1"}                  # the oldest keeps its name
    assert merged["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] == 1
    mine = cfg.destination_rule("client", {}, "order.shop.svc.cluster.local")
    assert mine["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] == 7

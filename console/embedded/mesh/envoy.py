"""The Envoys of the mesh: a pod's istio-proxy, both ways.

Outbound (the client side, `Envoy`): what a sidecar does with a request its pod
sends to a Service -- the VirtualService route (match, fault delay/abort,
rewrite, headers, weighted destinations and subsets), then the router
(router.py) over the destination's upstream cluster, whose connection pools,
circuit breakers, load balancer and outlier detection come from the
DestinationRule (pool.py, outlier.py). DestinationRule connection pools and
outlier detection are enforced here, by the client's sidecar, as in Istio.
`server: envoy` on what it answers (istiod's outbound listeners keep Envoy's name).

Inbound (the server side, `Inbound`): a request reaching a pod with a sidecar
passes its inbound cluster to the app on 127.0.0.1 (plain loopback connections, ready
far sooner than an outbound mTLS one); istiod applies the DestinationRule's connection pool (top level or the Service port's settings,
never a subset's) there too, so a circuit breaker holds even for callers outside
the mesh. The app sees the connection come from 127.0.0.6 (istio's inbound
passthrough address); replies say `server: istio-envoy`; a connect failure is
retried twice (istio's inbound reset-before-request policy).

Clusters are rebuilt when the rules change (a new cluster: fresh pools,
breakers and outlier state, as a CDS update gives); hosts follow the Service's
READY endpoints, a subset's by its labels.
"""

import json
import random

from console.embedded.apps.base import Request
from console.embedded.mesh import routes
from console.embedded.mesh.config import resolve, subset_of, traffic_policy
from console.embedded.mesh.outlier import Detector
from console.embedded.mesh.pool import CONNECT_SECONDS, LOOPBACK_SECONDS, WORKERS, ConnectFailure, \
    UpstreamCluster
from console.embedded.mesh.router import RetryPolicy, Router, local_reply
from console.embedded.mesh.values import percentage, seconds
from console.embedded.network.upstream import exchange

PASSTHROUGH = "127.0.0.6"
EMPTY: dict = {}


class _Proxy:
    server = "envoy"
    listening = True        # a downstream connection's peer (network/proxy.py) while it runs

    def __init__(self, mesh):
        self.mesh = mesh
        self.clock = mesh.clock
        self.connections: set = set()
        self._clusters: dict[str, tuple[int, str, UpstreamCluster]] = {}
        self._turn = 0

    def worker(self) -> int:
        """The worker thread a new downstream connection lands on."""
        self._turn = (self._turn + 1) % WORKERS
        return self._turn

    def _cluster(self, name: str, policy_fn, connector, detect: bool,
                 connect_seconds: float = CONNECT_SECONDS) -> UpstreamCluster | None:
        version = self.mesh.config.version
        got = self._clusters.get(name)
        if got is not None and got[0] == version:
            return got[2]
        policy = policy_fn()
        if policy is None:
            return None
        sig = json.dumps(policy, sort_keys=True, default=str)
        if got is not None and got[1] == sig:
            self._clusters[name] = (version, sig, got[2])
            return got[2]
        od = policy.get("outlierDetection") if detect else None
        cluster = UpstreamCluster(name, self.clock, policy, connector,
                                  Detector(self.clock, od) if isinstance(od, dict) else None,
                                  connect_seconds)
        if got is not None:
            got[2].retire()
        self._clusters[name] = (version, sig, cluster)
        return cluster

    def close(self) -> None:
        for _, _, cluster in self._clusters.values():
            cluster.retire()
        self._clusters.clear()
        for conn in list(self.connections):
            conn.drop(graceful=True)


class Envoy(_Proxy):
    """The outbound side of one proxy: a pod's sidecar, or a namespace's stand-in."""

    def __init__(self, mesh, namespace: str, labels: dict | None):
        super().__init__(mesh)
        self.namespace = namespace
        self.labels = labels
        self.router = Router(self.clock, self.server)
        self._seen = -1                   # the rules' version the caches below hold
        self._vs: dict[str, dict | None] = {}
        self._retry: dict[int, RetryPolicy] = {}

    def _rules(self, fqdn: str):
        """The VirtualService for fqdn (cached until a rule changes)."""
        version = self.mesh.config.version
        if version != self._seen:
            self._seen, self._vs, self._retry = version, {}, {}
        if fqdn not in self._vs:
            self._vs[fqdn] = self.mesh.config.virtual_service(self.namespace, fqdn)
        return self._vs[fqdn]

    def _retry_policy(self, retries) -> RetryPolicy:
        got = self._retry.get(id(retries))
        if got is None:
            got = self._retry[id(retries)] = RetryPolicy(retries)
        return got

    async def forward(self, key: tuple[str, str], port: int, req: Request, realtime: bool,
                      worker: int):
        fqdn = f"{key[1]}.{key[0]}.svc.cluster.local"
        vs = self._rules(fqdn)
        route, rule_ns = EMPTY, key[0]
        if vs is not None:
            rule_ns = vs["metadata"].get("namespace") or "default"
            route = routes.route_for(vs.get("spec") or {}, req, port, self.namespace, self.labels)
            if route is None:
                return local_reply(404, "", self.server)          # NR: no route matched
        direct = route.get("directResponse")
        if isinstance(direct, dict):
            body = ((direct.get("body") or {}).get("string") or "")
            return local_reply(int(direct.get("status") or 200), body, self.server)
        fault = route.get("fault") if isinstance(route.get("fault"), dict) else {}
        delay = fault.get("delay")
        if isinstance(delay, dict) and random.random() * 100 < percentage(delay):
            await self.clock.sleep(seconds(delay.get("fixedDelay"), 0.0))
        abort = fault.get("abort")
        if isinstance(abort, dict) and isinstance(abort.get("httpStatus"), int) \
                and random.random() * 100 < percentage(abort):
            return local_reply(abort["httpStatus"], "fault filter abort", self.server)
        if route.get("route"):
            dest = routes.pick_destination(route)
            if dest is None:
                return local_reply(404, "", self.server)
            d = dest["destination"]
            dfqdn = resolve(d.get("host") or fqdn, rule_ns)
            dport = ((d.get("port") or {}).get("number")) or port
            subset = d.get("subset") or None
        else:
            dest, dfqdn, dport, subset = EMPTY, fqdn, port, None
        dkey = self.mesh.service_key(dfqdn)
        cluster = None if dkey is None else self.outbound(dkey, dfqdn, dport, subset)
        if cluster is None:
            return local_reply(503, "", self.server)              # NC: no such cluster
        hosts = self.mesh.hosts(cluster, dkey, dport)
        if route.get("rewrite") or route.get("headers") or dest.get("headers"):
            req = Request(req.method, req.target, dict(req.headers), req.body, req.client)
            routes.rewrite(route, req)
            for ops in ((route.get("headers") or {}).get("request"),
                        (dest.get("headers") or {}).get("request")):
                routes.header_ops(ops, req.headers)
        timeout = seconds(route["timeout"]) if "timeout" in route else None
        resp = await self.router.forward(cluster, hosts, req, self._retry_policy(route.get("retries")),
                                         timeout, realtime, worker)
        for ops in ((route.get("headers") or {}).get("response"), (dest.get("headers") or {}).get("response")):
            routes.header_ops(ops, resp.headers)
        return resp

    def outbound(self, key, fqdn: str, port: int, subset: str | None) -> UpstreamCluster | None:
        labels = {}

        def policy():
            rule = self.mesh.config.destination_rule(self.namespace, self.labels, fqdn)
            sub = subset_of(rule, subset)
            if subset and sub is None:
                return None
            labels["subset"] = (sub or {}).get("labels") or {} if subset else None
            return traffic_policy(rule, subset, port)
        name = f"outbound|{port}|{subset or ''}|{fqdn}"
        cluster = self._cluster(name, policy, lambda host: self.mesh.connect(host, fqdn, port),
                                detect=True)
        if cluster is not None and "subset" in labels:
            cluster.subset = labels["subset"]
        return cluster


class Inbound(_Proxy):
    """The inbound side of one pod's sidecar."""

    server = "istio-envoy"

    def __init__(self, mesh, worker):
        super().__init__(mesh)
        self.pod = worker
        self.router = Router(self.clock, self.server, detect=False)
        self.retry = RetryPolicy(None, default_on="reset-before-request", per_try_allowed=False)

    async def handle(self, fqdn: str, svc_port: int, port: int, req: Request, realtime: bool,
                     worker: int):
        pod = self.pod

        def policy():
            ns = pod.key[0]
            labels = (pod.pod["metadata"].get("labels") or {})
            rule = self.mesh.config.destination_rule(ns, labels, fqdn)
            pool = traffic_policy(rule, None, svc_port).get("connectionPool")
            return {"connectionPool": pool} if pool else {}

        def connect(host):
            app = pod.listener(port)
            if app is None:
                raise ConnectFailure(f"127.0.0.1:{port}")
            return app, lambda r, rt: exchange(app, r, rt)

        cluster = self._cluster(f"inbound|{port}||{fqdn}", policy, connect, detect=False,
                                connect_seconds=LOOPBACK_SECONDS)
        hosts = cluster.hosts_list or cluster.set_hosts([(pod.ip or "", port, {})])
        req = Request(req.method, req.target, req.headers, req.body, PASSTHROUGH)
        return await self.router.forward(cluster, hosts, req, self.retry, None, realtime, worker)

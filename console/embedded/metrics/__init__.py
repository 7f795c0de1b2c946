"""Resource metrics, served the way a cluster with metrics-server serves them.

metrics-server is a Deployment in kube-system (manifests.py, created at
bootstrap unless `--no-metrics`); the API server reaches it through the
APIService v1beta1.metrics.k8s.io. This component is kube-aggregator's side of
that plus metrics-server's own work:

- every APIService gets kube-aggregator's Available condition, worded as its
  AvailableConditionController words it (ServiceNotFound, ServicePortError,
  EndpointsNotFound, MissingEndpoints, FailedDiscoveryCheck, Passed);
- while the APIService v1beta1.metrics.k8s.io exists, the cluster's catalogue
  serves PodMetrics and NodeMetrics from `server.MetricsServer`; while it is not
  Available, discovery marks the version Stale and requests get the
  aggregator's 503 (kubectl top: "error: Metrics API not available");
- the metrics-server pod's process holds the points: scrapes run while it runs
  and start over when it is replaced or restarted.

`cluster.metrics` is the MetricsServer (the HPA controller reads usage from it,
as the real one reads the same API).
"""

import asyncio
import logging

from console.embedded.metrics import manifests
from console.embedded.metrics.server import (NODE_METRICS, POD_METRICS, RESOLUTION,
                                             MetricsServer, NodeMetricsAPI, PodMetricsAPI)

log = logging.getLogger("kubelab.metrics")
SCRAPE_REST = 9.0   # real seconds of rest per second a scrape took, at least
APISERVICES = "apiservices.apiregistration.k8s.io"
SLICES = "endpointslices.discovery.k8s.io"
AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"
BACKENDS = {("metrics.k8s.io", "v1beta1"): (POD_METRICS, NODE_METRICS)}
WATCHED = {APISERVICES, "services", SLICES}

__all__ = ["MetricsServer", "Aggregator", "run", "manifests"]


class Aggregator:
    def __init__(self, cluster, server: MetricsServer):
        self.cluster = cluster
        self.server = server
        self._queued = False
        self.backends: set[tuple[str, str]] = set()   # (namespace, name) of Services behind

    # -- local APIServices: one per built-in group version ------------------------
    def register_local(self) -> None:
        groups = [(g, vs) for g, vs in self.cluster.kinds.groups().items()
                  if (g, vs[0]) not in BACKENDS]
        reg = self.cluster.registry
        for gi, (group, versions) in enumerate(groups):
            for vi, version in enumerate(versions):
                name = f"{version}.{group}"
                if reg.get(APISERVICES, "", name) is not None:
                    continue
                obj = reg.create(APISERVICES, {
                    "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                    "metadata": {"name": name, "labels": {AUTOMANAGED: "onstart"}},
                    "spec": {"group": group, "version": version,
                             "groupPriorityMinimum": 18000 - 100 * gi,
                             "versionPriority": 15 - vi}})
                self._set_available(obj, "True", "Local", "Local APIServices are always available")

    # -- availability ------------------------------------------------------------
    def on_change(self, ev) -> None:
        """Only changes that can move an APIService: itself, or the Service and
        EndpointSlices behind one (not every slice of a 1,000-pod cluster)."""
        if ev.res not in WATCHED or self._queued:
            return
        if ev.res != APISERVICES:
            meta = ev.obj["metadata"]
            name = meta["name"] if ev.res == "services" else \
                (meta.get("labels") or {}).get("kubernetes.io/service-name")
            if (meta.get("namespace"), name) not in self.backends:
                return
        self._queued = True
        asyncio.get_running_loop().call_soon(self.sync)

    def sync(self) -> None:
        self._queued = False
        present = set()
        self.backends = set()
        for api in list(self.cluster.store.scan(APISERVICES)):
            spec = api.get("spec") or {}
            if not spec.get("service"):
                continue
            self.backends.add((spec["service"].get("namespace"), spec["service"].get("name")))
            status, reason, message, backend = self._check(spec)
            self._set_available(api, status, reason, message)
            kinds = BACKENDS.get((spec.get("group"), spec.get("version")))
            if kinds:
                present.add(kinds)
                self._serve(kinds, None if status == "True" else "service unavailable")
        for kinds in BACKENDS.values():
            if kinds not in present:
                for k in kinds:
                    self.cluster.kinds.unregister(k.key)
                self.server.unavailable_reason = "service unavailable"

    def _serve(self, kinds, unavailable: str | None) -> None:
        cat = self.cluster.kinds
        if cat.provider(kinds[0].key) is None:
            cat.register(kinds[0], PodMetricsAPI(self.server))
            cat.register(kinds[1], NodeMetricsAPI(self.server))
        self.server.unavailable_reason = unavailable

    def _check(self, spec: dict):
        """(status, reason, message, serving pod) as AvailableConditionController decides."""
        ref = spec["service"]
        name, ns, port = ref.get("name", ""), ref.get("namespace", ""), ref.get("port", 443)
        store = self.cluster.store
        svc = store.get("services", ns, name)
        if svc is None:
            return "False", "ServiceNotFound", f'service/{name} in "{ns}" is not present', None
        ports = (svc.get("spec") or {}).get("ports") or []
        match = next((p for p in ports if p.get("port") == port), None)
        if match is None:
            return ("False", "ServicePortError",
                    f'service/{name} in "{ns}" is not listening on port {port}', None)
        port_name = match.get("name") or ""
        slices = [s for s in store.scan(SLICES, ns)
                  if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name]
        if not slices:
            return ("False", "EndpointsNotFound",
                    f'cannot find endpointslices for service/{name} in "{ns}"', None)
        ready = [(e, s) for s in slices if any(p.get("name", "") == port_name and p.get("port")
                                                for p in s.get("ports") or [])
                 for e in s.get("endpoints") or []
                 if (e.get("conditions") or {}).get("ready") in (None, True)]
        if not ready:
            return ("False", "MissingEndpoints", f'endpointslices for service/{name} in "{ns}" '
                    f'have no addresses with port name "{port_name}"', None)
        for endpoint, s in ready:
            if self._runs_metrics_server(ns, endpoint):
                return "True", "Passed", "all checks passed", endpoint
        endpoint, s = ready[0]
        target_port = next((p.get("port") for p in s.get("ports") or []
                            if p.get("name", "") == port_name), port)
        url = (f"https://{(endpoint.get('addresses') or ['?'])[0]}:{target_port}"
               f"/apis/{spec.get('group')}/{spec.get('version')}")
        return ("False", "FailedDiscoveryCheck",
                f"failing or missing response from {url}: bad status from {url}: 404", None)

    def _runs_metrics_server(self, ns: str, endpoint: dict) -> bool:
        ref = endpoint.get("targetRef") or {}
        pod = self.cluster.store.get("pods", ref.get("namespace") or ns, ref.get("name", ""))
        return pod is not None and any(
            (c.get("image") or "").split("@")[0].rsplit(":", 1)[0].endswith("metrics-server")
            for c in (pod.get("spec") or {}).get("containers") or [])

    def _set_available(self, api: dict, status: str, reason: str, message: str) -> None:
        conds = (api.get("status") or {}).get("conditions") or []
        old = next((c for c in conds if c.get("type") == "Available"), None)
        if old and (old.get("status"), old.get("reason"), old.get("message")) == (
                status, reason, message):
            return
        now = self.cluster.clock.stamp()

        def write(obj):
            st = obj.setdefault("status", {})
            cs = [c for c in st.get("conditions") or [] if c.get("type") != "Available"]
            prev = next((c for c in st.get("conditions") or [] if c.get("type") == "Available"),
                        None)
            moved = prev is None or prev.get("status") != status
            cs.append({"type": "Available", "status": status,
                       "lastTransitionTime": now if moved else prev.get("lastTransitionTime"),
                       "reason": reason, "message": message})
            st["conditions"] = cs
        self.cluster.registry.mutate(APISERVICES, "", api["metadata"]["name"], write,
                                     subresource="status")

    # -- the metrics-server process ------------------------------------------------
    def backend(self):
        """The running metrics-server process behind the APIService (its app
        object: a restart makes a new one), or None."""
        api = self.cluster.store.get(APISERVICES, "", manifests.APISERVICE)
        ref = ((api or {}).get("spec") or {}).get("service")
        kubelet = getattr(self.cluster, "kubelet", None)
        if not ref or kubelet is None:
            return None
        ns, name = ref.get("namespace", ""), ref.get("name", "")
        for s in self.cluster.store.scan(SLICES, ns):
            if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") != name:
                continue
            for e in s.get("endpoints") or []:
                target = e.get("targetRef") or {}
                c = kubelet.container(ns, target.get("name", ""))
                if c is not None and c.app is not None and c.state == "running" \
                        and self._runs_metrics_server(ns, e):
                    return c.app
        return None


async def run(cluster) -> None:
    server = MetricsServer(cluster)
    cluster.metrics = server
    agg = Aggregator(cluster, server)
    cluster.aggregator = agg
    agg.register_local()
    cluster.store.subscribe(agg.on_change)
    agg.sync()
    loop = asyncio.get_running_loop()
    while True:
        server.serve_from(agg.backend())
        started = loop.time()
        server.scrape()
        # every RESOLUTION of the cluster's time, unless a scrape (thousands of pods at
        # --speed 50) would then take more than a tenth of the loop: the window grows
        await asyncio.sleep(max(cluster.clock.real(RESOLUTION), SCRAPE_REST * (loop.time() - started)))

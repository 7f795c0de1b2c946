"""Faults a lab injects: liveness down, readiness broken, a dependency scaled
to zero, and the Istio kinds (circuit breaker, retries, delay, abort).

Each is undone by its pair (liveness_up, readiness_fix, dependency_up,
mesh_clear), and returns an actions.Result like every action.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from console.cluster import rest, targets
from console.cluster.actions import Ref, Result, action, scale

BROKEN_PATH = "/kubelab-readiness-broken"
SAVED_PROBE = "kubelab.dev/readiness-probe"
SAVED_REPLICAS = "kubelab.dev/replicas-before-down"
MESH_LABEL = {"app.kubernetes.io/managed-by": "kubelab"}


def service_address(conn, service: str, port: int | None = None) -> tuple[str, int]:
    """The loopback host:port the cluster publishes for a Service port.

    Read through the console's own connection (its context and namespace);
    the annotation is parsed by console.cluster.targets, the load generator's reader.
    """
    svc = rest.get(conn.api, "Service", conn.namespace, service)
    raw = (svc["metadata"].get("annotations") or {}).get(targets.ANNOTATION)
    if not raw:
        raise LookupError(f"service {service} is not reachable from here "
                          f"(no {targets.ANNOTATION} annotation)")
    ports = targets.parse_host_ports(raw, service)
    key = str(port) if port is not None else next(iter(ports))
    if key not in ports:
        raise LookupError(f"service {service} has no port {port} (have {', '.join(ports)})")
    host, p = ports[key]
    if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
        raise LookupError(f"service {service} is published on {host}, not loopback")
    return host, p


def _http(method: str, host: str, port: int, path: str) -> int:
    req = urllib.request.Request(f"http://{host}:{port}{path}", method=method, data=b"")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConnectionError(f"{method} {path} via {host}:{port}: {getattr(reason, 'strerror', None) or reason}"
                              " (is the app still booting?)") from None


@action
def liveness_down(conn, service: str, port: int | None = 8080, address=None) -> str:
    """`http put <svc>:8080/actuator/down`: one pod behind the Service turns unhealthy.
    address: where the Service is reached from here (default: its loopback address)."""
    host, p = address or service_address(conn, service, port)
    code = _http("PUT", host, p, "/actuator/down")
    if code >= 300:
        return Result(False, f"PUT {service}:{port}/actuator/down answered {code}")
    return f"PUT {service}:{port}/actuator/down -> {code}; liveness will fail on that pod"


@action
def liveness_up(conn, service: str, port: int | None = 8080, address=None) -> str:
    host, p = address or service_address(conn, service, port)
    code = _http("PUT", host, p, "/actuator/up")
    return Result(code < 300, f"PUT {service}:{port}/actuator/up -> {code}")


@action
def readiness_break(conn, deployment: str) -> str:
    """Point the readiness probe at a path that fails (adding one if there is none)."""
    dep = rest.get(conn.api, "Deployment", conn.namespace, deployment)
    c = dep["spec"]["template"]["spec"]["containers"][0]
    old = c.get("readinessProbe")
    port = ((old or {}).get("httpGet") or {}).get("port") or \
        next((p.get("containerPort") for p in c.get("ports") or []), 8080)
    probe = {"httpGet": {"path": BROKEN_PATH, "port": port},
             "periodSeconds": (old or {}).get("periodSeconds", 5), "failureThreshold": 1}
    saved = (dep["metadata"].get("annotations") or {}).get(SAVED_PROBE)
    rest.patch(conn.api, "Deployment", conn.namespace, deployment, {
        "metadata": {"annotations": {SAVED_PROBE: saved or json.dumps(old)}},
        "spec": {"template": {"spec": {"containers": [{"name": c["name"], "readinessProbe": probe}]}}},
    })
    return f"deployment.apps/{deployment}: readiness probe now GET {BROKEN_PATH} (fails)"


@action
def readiness_fix(conn, deployment: str) -> str:
    dep = rest.get(conn.api, "Deployment", conn.namespace, deployment)
    saved = (dep["metadata"].get("annotations") or {}).get(SAVED_PROBE)
    if saved is None:
        return Result(False, f"deployment {deployment}: readiness was not broken by kubelab")
    old = json.loads(saved)
    c = dep["spec"]["template"]["spec"]["containers"][0]
    ops = [{"op": "remove", "path": f"/metadata/annotations/{SAVED_PROBE.replace('/', '~1')}"}]
    path = "/spec/template/spec/containers/0/readinessProbe"
    ops.append({"op": "replace", "path": path, "value": old} if old else {"op": "remove", "path": path})
    rest.patch(conn.api, "Deployment", conn.namespace, deployment, ops, rest.JSON_PATCH)
    return f"deployment.apps/{deployment}: readiness probe restored ({c['name']})"


@action
def dependency_down(conn, deployment: str) -> str:
    dep = rest.get(conn.api, "Deployment", conn.namespace, deployment)
    replicas = int(dep["spec"].get("replicas", 1))
    if replicas == 0:
        return Result(False, f"deployment {deployment} is already at 0 replicas")
    rest.patch(conn.api, "Deployment", conn.namespace, deployment,
               {"metadata": {"annotations": {SAVED_REPLICAS: str(replicas)}}}, rest.MERGE)
    res = scale(conn, deployment, 0)
    return Result(res.ok, f"{deployment} down (was {replicas} replicas)" if res.ok else res.message)


@action
def dependency_up(conn, deployment: str) -> str:
    dep = rest.get(conn.api, "Deployment", conn.namespace, deployment)
    replicas = int((dep["metadata"].get("annotations") or {}).get(SAVED_REPLICAS, "1"))
    res = scale(conn, deployment, replicas)
    if res.ok:
        rest.patch(conn.api, "Deployment", conn.namespace, deployment,
                   {"metadata": {"annotations": {SAVED_REPLICAS: None}}}, rest.MERGE)
    return res


def _upsert(conn, kind: str, name: str, spec: dict) -> Result:
    obj = {"apiVersion": "networking.istio.io/v1beta1", "kind": kind,
           "metadata": {"name": name, "labels": MESH_LABEL}, "spec": spec}
    line = rest.create_or_update(conn.api, obj, conn.namespace)
    return Result(True, line + _outside_the_mesh(conn),
                  (Ref(kind, conn.namespace, name),) if line.endswith(" created") else ())


def _outside_the_mesh(conn) -> str:
    """A word when the namespace is not injected: Envoys apply the rules, so traffic
    from pods without a sidecar (and, in the embedded cluster, the console's load)
    is not touched by them."""
    try:
        ns = rest.get(conn.api, "Namespace", None, conn.namespace)
    except Exception:       # no right to read namespaces: say nothing
        return ""
    labels = (ns.get("metadata") or {}).get("labels") or {}
    injection = labels.get("istio-injection")
    if injection == "enabled" or (injection != "disabled" and "istio.io/rev" in labels):
        return ""
    return (f"; namespace {conn.namespace} is not labelled istio-injection=enabled, so only "
            "traffic from pods with an istio-proxy sidecar obeys it")


@action
def circuit_breaker(conn, host: str, max_connections: int = 1, pending: int = 1,
                    consecutive_errors: int = 5) -> Result:
    """The lab L4 DestinationRule: tiny connection pool plus outlier detection."""
    return _upsert(conn, "DestinationRule", f"{host}-kubelab", {
        "host": host,
        "trafficPolicy": {
            "connectionPool": {"tcp": {"maxConnections": max_connections},
                               "http": {"http1MaxPendingRequests": pending,
                                        "maxRequestsPerConnection": 1}},
            "outlierDetection": {"consecutive5xxErrors": consecutive_errors, "interval": "10s",
                                 "baseEjectionTime": "30s", "maxEjectionPercent": 100},
        },
    })


def _route(conn, host: str, **features) -> Result:
    name = f"{host}-kubelab"
    route: dict = {"route": [{"destination": {"host": host}}]}
    try:
        route = rest.get(conn.api, "VirtualService", conn.namespace, name)["spec"]["http"][0]
    except Exception:
        pass
    for key, value in features.items():
        if key == "retries":
            route["retries"] = value
        else:
            route.setdefault("fault", {})[key] = value
    return _upsert(conn, "VirtualService", name, {"hosts": [host], "http": [route]})


@action
def retries(conn, host: str, attempts: int = 3, per_try_timeout: str = "2s") -> Result:
    return _route(conn, host, retries={"attempts": attempts, "perTryTimeout": per_try_timeout,
                                       "retryOn": "5xx,connect-failure,reset"})


@action
def delay(conn, host: str, seconds: float = 3.0, percent: float = 100.0) -> Result:
    return _route(conn, host, delay={"fixedDelay": f"{seconds:g}s",
                                     "percentage": {"value": percent}})


@action
def abort(conn, host: str, status: int = 503, percent: float = 50.0) -> Result:
    return _route(conn, host, abort={"httpStatus": status, "percentage": {"value": percent}})


@action
def mesh_clear(conn, host: str) -> str:
    gone = []
    for kind in ("DestinationRule", "VirtualService"):
        if rest.exists(conn.api, kind, conn.namespace, f"{host}-kubelab"):
            rest.delete(conn.api, kind, conn.namespace, f"{host}-kubelab")
            gone.append(f"{kind.lower()}/{host}-kubelab")
    return f"deleted {', '.join(gone)}" if gone else f"no kubelab mesh rules for {host}"

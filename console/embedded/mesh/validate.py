"""Bad Istio rules, refused where a cluster with Istio refuses them.

1. The CRD's schema (schema.py), by the API server: wrong types, durations that
   are not durations or below 1ms, values outside an enum -> 422 Invalid.
2. istiod's validation webhook (validation.istio.io; pkg/config/validation):
   -> 400 `admission webhook "validation.istio.io" denied the request:
   configuration is invalid: <error>` (several: istio's "N errors occurred:"
   list). The checks, with istio's words: hosts (`empty domain name not
   allowed`, `domain name "x" invalid (label "y" invalid)`, `wildcard host * is
   not allowed for virtual services bound to the mesh gateway`), an empty
   trafficPolicy or connectionPool or port policy, negative pool limits,
   percentages outside 0..100, duplicate subset names, subset names, http status
   outside 200-599, retries (negative attempts, unknown retryOn, a policy set
   with attempts 0), route destinations (host required, negative or all-zero
   weights), fault injection without abort or delay, durations below 1ms.
Everything else (a host that names no Service, subsets that select nothing) is
accepted and simply has no effect, as in Istio.
"""

import re

from console.embedded.admission import Denied
from console.embedded.mesh import schema as crd
from console.embedded.mesh.config import DR
from console.embedded.mesh.values import duration

WEBHOOK = "validation.istio.io"
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBSET = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
RETRY_ON = {"5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
            "retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers",
            "envoy-ratelimited", "http3-post-connect-failure", "cancelled", "deadline-exceeded",
            "internal", "resource-exhausted", "unavailable"}


def schema(obj: dict, old: dict | None) -> list[tuple[str, str]]:
    key = DR if obj.get("kind") == "DestinationRule" else "virtualservices.networking.istio.io"
    spec = obj.get("spec")
    if spec is None:
        return []
    return crd.problems(spec, crd.SPECS[key], "spec")


DEPRECATED = ("outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors "
              "or consecutive5xxErrors instead")


def webhook(registry, obj: dict, old: dict | None) -> list[str]:
    """Refuses (Denied) or admits with istiod's warnings."""
    spec = obj.get("spec") or {}
    errors = dest_rule(spec) if obj.get("kind") == "DestinationRule" else virtual_service(spec)
    if not errors:
        return warnings(spec) if obj.get("kind") == "DestinationRule" else []
    if len(errors) == 1:
        text = errors[0]
    else:
        text = f"{len(errors)} errors occurred:\n\t" + "\n\t".join(f"* {e}" for e in errors) + "\n\n"
    raise Denied(WEBHOOK, f"configuration is invalid: {text}")


def warnings(spec: dict) -> list[str]:
    """The deprecated consecutiveErrors, wherever an outlierDetection holds it."""
    policies = [spec.get("trafficPolicy")] + [s.get("trafficPolicy") for s in spec.get("subsets") or []
                                             if isinstance(s, dict)]
    for policy in [p for p in policies if isinstance(p, dict)]:
        blocks = [policy] + [e for e in policy.get("portLevelSettings") or [] if isinstance(e, dict)]
        if any((b.get("outlierDetection") or {}).get("consecutiveErrors") for b in blocks):
            return [DEPRECATED]
    return []


# -- DestinationRule ---------------------------------------------------------------
def dest_rule(spec: dict) -> list[str]:
    out = wildcard_domain(spec.get("host") or "")
    out += traffic_policy(spec.get("trafficPolicy"))
    names = set()
    for sub in spec.get("subsets") or []:
        if not isinstance(sub, dict):
            out.append("subset may not be null")
            continue
        if sub.get("name") in names:
            out.append(f"duplicate subset names: {sub.get('name')}")
        names.add(sub.get("name"))
        out += subset_name(sub.get("name") or "")
        out += traffic_policy(sub.get("trafficPolicy"))
    return out


def traffic_policy(policy) -> list[str]:
    if policy is None:
        return []
    if not isinstance(policy, dict) or not any(policy.get(k) is not None for k in (
            "outlierDetection", "connectionPool", "loadBalancer", "tls", "portLevelSettings",
            "tunnel", "proxyProtocol", "retryBudget")):
        return ["traffic policy must have at least one field"]
    out = outlier(policy.get("outlierDetection")) + pool(policy.get("connectionPool"))
    for entry in policy.get("portLevelSettings") or []:
        if not isinstance(entry, dict):
            out.append("traffic policy may not be null")
            continue
        if not isinstance(entry.get("port"), dict):
            out.append("portTrafficPolicy must have valid port")
        if not any(entry.get(k) is not None for k in ("outlierDetection", "connectionPool",
                                                      "loadBalancer", "tls")):
            out.append("port traffic policy must have at least one field")
        else:
            out += outlier(entry.get("outlierDetection")) + pool(entry.get("connectionPool"))
    return out


def pool(settings) -> list[str]:
    if settings is None:
        return []
    if not isinstance(settings, dict) or (settings.get("http") is None and settings.get("tcp") is None):
        return ["connection pool must have at least one field"]
    out = []
    http = settings.get("http") or {}
    for key, what in (("http1MaxPendingRequests", "http1 max pending requests"),
                      ("http2MaxRequests", "http2 max requests"),
                      ("maxRequestsPerConnection", "max requests per connection"),
                      ("maxRetries", "max retries"),
                      ("maxConcurrentStreams", "max concurrent streams")):
        if _negative(http.get(key)):
            out.append(f"{what} must be non-negative")
    out += _durations(http, "idleTimeout")
    tcp = settings.get("tcp") or {}
    if _negative(tcp.get("maxConnections")):
        out.append("max connections must be non-negative")
    out += _durations(tcp, "connectTimeout", "maxConnectionDuration")
    return out


def outlier(od) -> list[str]:
    if not isinstance(od, dict):
        return []
    out = _durations(od, "baseEjectionTime", "interval")
    if not od.get("splitExternalLocalOriginErrors") and (od.get("consecutiveLocalOriginFailures") or 0) > 0:
        out.append("outlier detection consecutive local origin failures is specified, but split "
                   "external local origin errors is set to false")
    for key in ("maxEjectionPercent", "minHealthPercent"):
        v = od.get(key)
        if isinstance(v, int) and not 0 <= v <= 100:
            out.append(f"percentage {v} is not in range 0..100")
    return out


# -- VirtualService ----------------------------------------------------------------
def virtual_service(spec: dict) -> list[str]:
    out = []
    gateways = spec.get("gateways") or []
    mesh = not gateways or "mesh" in gateways
    hosts = spec.get("hosts") or []
    for host in hosts:
        errs = wildcard_domain(host) if isinstance(host, str) else ["empty domain name not allowed"]
        if errs and not _is_ip(host):
            out += errs
        elif mesh and host == "*":
            out.append("wildcard host * is not allowed for virtual services bound to the mesh gateway")
    if not (spec.get("http") or spec.get("tcp") or spec.get("tls")):
        out.append("http, tcp or tls must be provided in virtual service")
    for route in spec.get("http") or []:
        if not isinstance(route, dict):
            out.append("http route may not be null")
            continue
        out += http_route(route, delegate=not hosts)
    return out


def http_route(route: dict, delegate: bool) -> list[str]:
    out = []
    if route.get("delegate") is None or delegate:
        if route.get("redirect") is not None:
            if route.get("route"):
                out.append("HTTP route cannot contain both route and redirect")
            if route.get("fault") is not None:
                out.append("HTTP route cannot contain both fault and redirect")
        elif route.get("directResponse") is not None:
            if route.get("route"):
                out.append("HTTP route cannot contain both route and direct_response")
            if route.get("fault") is not None:
                out.append("HTTP route cannot contain both fault and direct_response")
        elif not route.get("route"):
            out.append("HTTP route, redirect or direct_response is required")
    fault = route.get("fault")
    if isinstance(fault, dict):
        if fault.get("abort") is None and fault.get("delay") is None:
            out.append("HTTP fault injection must have an abort and/or a delay")
        abort = fault.get("abort")
        if isinstance(abort, dict):
            out += _percentage(abort.get("percentage"))
            status = abort.get("httpStatus")
            if isinstance(status, int) and not 200 <= status <= 600:
                out.append(f"HTTP status {status} is not in range 200-599")
        delay = fault.get("delay")
        if isinstance(delay, dict):
            out += _percentage(delay.get("percentage")) + _durations(delay, "fixedDelay")
            if "exponentialDelay" in delay:
                out.append("exponentialDelay not supported yet")
    retries = route.get("retries")
    if isinstance(retries, dict):
        attempts = retries.get("attempts") or 0
        if isinstance(attempts, int) and attempts < 0:
            out.append("attempts cannot be negative")
        if attempts == 0 and any(retries.get(k) is not None for k in
                                 ("perTryTimeout", "retryOn", "retryRemoteLocalities")):
            out.append("http retry policy configured when attempts are set to 0 (disabled)")
        out += _durations(retries, "perTryTimeout", "backoff")
        for policy in str(retries.get("retryOn") or "").split(",") if retries.get("retryOn") else []:
            if not (policy.isdigit() and 100 <= int(policy) <= 599) and policy not in RETRY_ON:
                out.append(f'"{policy}" is not a valid retryOn policy')
    total = 0
    dests = route.get("route") or []
    for dest in dests:
        if not isinstance(dest, dict):
            out.append("weight may not be nil")
            continue
        d = dest.get("destination")
        if not isinstance(d, dict):
            out.append("destination is required")
        else:
            host = d.get("host") or ""
            out += [f"invalid destination host {host}"] if host == "*" else wildcard_domain(host)
            if d.get("subset") is not None:
                out += subset_name(d.get("subset") or "")
        weight = dest.get("weight") or 0
        if isinstance(weight, int) and weight < 0:
            out.append(f"weight {weight} < 0")
        total += weight if isinstance(weight, int) else 0
    if len(dests) > 1 and total == 0:
        out.append("total destination weight = 0")
    out += _durations(route, "timeout")
    return out


# -- istio's small validators ------------------------------------------------------
def wildcard_domain(domain: str) -> list[str]:
    if len(domain) > 255:
        return [f'domain name "{domain}" too long (max 255)']
    if not domain:
        return ["empty domain name not allowed"]
    first, _, rest = domain.partition(".")
    if not (first == "*" or (first.startswith("*") and _LABEL.match(first[1:] or "a"))
            or (_LABEL.match(first) and len(first) <= 63)):
        return [f'domain name "{domain}" invalid (label "{first}" invalid)']
    if not rest:
        return []
    parts = rest.split(".")
    if parts[-1].isdigit():
        return [f'domain name "{rest}" invalid (top level domain "{parts[-1]}" cannot be all-numeric)']
    for i, label in enumerate(parts):
        if i == len(parts) - 1 and label == "":
            break
        if not (_LABEL.match(label) and len(label) <= 63):
            return [f'domain name "{rest}" invalid (label "{label}" invalid)']
    return []


def subset_name(name: str) -> list[str]:
    if not name:
        return ["subset name cannot be empty"]
    if not _SUBSET.match(name):
        return [f"subset name is invalid: {name}"]
    return []


def _negative(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value < 0


def _durations(obj: dict, *keys) -> list[str]:
    out = []
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str):
            d = duration(value)
            if d is not None and d < 0.001:
                out.append("duration must be greater than 1ms")
            elif d is not None and abs(round(d * 1000) - d * 1000) > 1e-6:
                out.append("only durations to ms precision are supported")
    return out


def _percentage(pct) -> list[str]:
    if not isinstance(pct, dict):
        return []
    v = pct.get("value", 0)
    if isinstance(v, (int, float)) and (v < 0 or v > 100 or 0 < v < 0.0001):
        return [f"percentage {v:g} is neither 0.0, nor in range [0.0001, 100.0]"]
    return []


def _is_ip(host) -> bool:
    import ipaddress
    try:
        ipaddress.ip_address(str(host))
        return True
    except ValueError:
        return False

"""The structural schema of DestinationRule and VirtualService specs, as Istio's CRDs
give the API server (manifests/charts/base/files/crd-all.gen.yaml), for the fields
the embedded mesh knows; the rest of Istio's fields are accepted as they come.

The API server checks it before any webhook: a value of the wrong JSON type ->
422 `spec.x: Invalid value: "string": spec.x in body must be of type integer:
"string"`; a duration that is not one -> the CRD's CEL rule, `must be a valid
duration greater than 1ms`; a value outside an enum -> `Unsupported value`; an
unknown field -> what the request's fieldValidation says (kubectl: Strict).
`openapi()` gives the same schema to the CRDs and /openapi/v3 (kubectl explain).
"""

from console.embedded.mesh.values import duration

STR, INT, NUM, BOOL, DUR, ANY = "string", "integer", "number", "boolean", "duration", "any"


def enum(*values):
    return ("enum", values)


def lst(item):
    return ("list", item)


def dmap(item):
    return ("map", item)


SM = {"exact": STR, "prefix": STR, "regex": STR}
PERCENT = {"value": NUM}
HEADER_OPS = {"add": dmap(STR), "remove": lst(STR), "set": dmap(STR)}
HEADERS = {"request": HEADER_OPS, "response": HEADER_OPS}
POOL = {
    "tcp": {"maxConnections": INT, "connectTimeout": DUR, "idleTimeout": DUR,
            "maxConnectionDuration": DUR, "tcpKeepalive": {"interval": DUR, "probes": INT,
                                                           "time": DUR}},
    "http": {"http1MaxPendingRequests": INT, "http2MaxRequests": INT,
             "maxRequestsPerConnection": INT, "maxRetries": INT, "idleTimeout": DUR,
             "h2UpgradePolicy": enum("DEFAULT", "DO_NOT_UPGRADE", "UPGRADE"),
             "useClientProtocol": BOOL, "maxConcurrentStreams": INT,
             "http2KeepAlive": {"interval": DUR, "timeout": DUR}},
}
OUTLIER = {"consecutive5xxErrors": INT, "consecutiveGatewayErrors": INT, "consecutiveErrors": INT,
           "consecutiveLocalOriginFailures": INT, "interval": DUR, "baseEjectionTime": DUR,
           "maxEjectionPercent": INT, "minHealthPercent": INT,
           "splitExternalLocalOriginErrors": BOOL, "outlierDetectionHttpErrorCodes": lst(INT)}
LB = {"simple": enum("UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN",
                     "LEAST_REQUEST"),
      "consistentHash": ANY, "localityLbSetting": ANY, "warmupDurationSecs": DUR, "warmup": ANY}
TLS = {"mode": enum("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"), "*": ANY}
POLICY = {"connectionPool": POOL, "outlierDetection": OUTLIER, "loadBalancer": LB, "tls": TLS,
          "portLevelSettings": lst({"port": {"number": INT}, "connectionPool": POOL,
                                    "outlierDetection": OUTLIER, "loadBalancer": LB, "tls": TLS}),
          "proxyProtocol": ANY, "tunnel": ANY, "retryBudget": ANY}
DESTINATION_RULE = {
    "host": STR, "exportTo": lst(STR), "trafficPolicy": POLICY,
    "subsets": lst({"name": STR, "labels": dmap(STR), "trafficPolicy": POLICY}),
    "workloadSelector": {"matchLabels": dmap(STR)},
}
MATCH = {"uri": SM, "scheme": SM, "method": SM, "authority": SM, "headers": dmap(SM),
         "withoutHeaders": dmap(SM), "queryParams": dmap(SM), "port": INT, "ignoreUriCase": BOOL,
         "sourceLabels": dmap(STR), "sourceNamespace": STR, "gateways": lst(STR), "name": STR,
         "statPrefix": STR}
DESTINATION = {"host": STR, "subset": STR, "port": {"number": INT}}
HTTP_ROUTE = {
    "name": STR, "match": lst(MATCH), "timeout": DUR, "headers": HEADERS,
    "route": lst({"destination": DESTINATION, "weight": INT, "headers": HEADERS}),
    "retries": {"attempts": INT, "perTryTimeout": DUR, "retryOn": STR, "backoff": DUR,
                "retryRemoteLocalities": BOOL, "retryIgnorePreviousHosts": BOOL},
    "fault": {"delay": {"fixedDelay": DUR, "exponentialDelay": DUR, "percent": INT,
                        "percentage": PERCENT},
              "abort": {"httpStatus": INT, "grpcStatus": STR, "http2Error": STR,
                        "percentage": PERCENT}},
    "rewrite": {"uri": STR, "authority": STR, "uriRegexRewrite": ANY},
    "directResponse": {"status": INT, "body": {"string": STR, "bytes": STR}},
    "redirect": ANY, "delegate": {"name": STR, "namespace": STR}, "mirror": ANY,
    "mirrors": ANY, "mirrorPercent": INT, "mirrorPercentage": PERCENT, "corsPolicy": ANY,
}
VIRTUAL_SERVICE = {"hosts": lst(STR), "gateways": lst(STR), "exportTo": lst(STR),
                   "http": lst(HTTP_ROUTE), "tcp": ANY, "tls": ANY}
SPECS = {"destinationrules.networking.istio.io": DESTINATION_RULE,
         "virtualservices.networking.istio.io": VIRTUAL_SERVICE}
_JSON = {str: STR, bool: BOOL, int: INT, float: NUM, list: "array", dict: "object"}


def _quote(v) -> str:
    return '"' + str(v).replace('"', '\\"') + '"'


def problems(value, schema, path: str) -> list[tuple[str, str]]:
    """(path, message) for each value the API server's schema validation refuses."""
    out: list[tuple[str, str]] = []
    if value is None or schema == ANY:
        return out
    got = _JSON.get(type(value), "object")
    want = {STR: STR, DUR: STR, INT: INT, NUM: NUM, BOOL: BOOL}.get(schema) if isinstance(schema, str) \
        else ("array" if isinstance(schema, tuple) and schema[0] == "list"
              else STR if isinstance(schema, tuple) and schema[0] == "enum" else "object")
    if want == NUM and got == INT:
        got = NUM
    if got != want:
        out.append((path, f"Invalid value: {_quote(got)}: {path} in body must be of type "
                          f"{want}: {_quote(got)}"))
        return out
    if schema == DUR:
        d = duration(value)
        if d is None or d < 0.001:
            out.append((path, 'Invalid value: "string": must be a valid duration greater than 1ms'))
    elif isinstance(schema, tuple) and schema[0] == "enum":
        if value not in schema[1]:
            allowed = ", ".join(_quote(v) for v in schema[1])
            out.append((path, f"Unsupported value: {_quote(value)}: supported values: {allowed}"))
    elif isinstance(schema, tuple) and schema[0] == "list":
        for i, item in enumerate(value):
            out += problems(item, schema[1], f"{path}[{i}]")
    elif isinstance(schema, tuple) and schema[0] == "map":
        for k, item in value.items():
            out += problems(item, schema[1], f"{path}[{k}]")
    elif isinstance(schema, dict):
        for k, item in value.items():
            sub = schema.get(k, schema.get("*"))
            if sub is not None:
                out += problems(item, sub, f"{path}.{k}")
    return out


def unknown(value, schema, path: str, prune: bool) -> list[str]:
    """Fields the schema does not have (dropped from value when prune)."""
    out: list[str] = []
    if schema == ANY or value is None:
        return out
    if isinstance(schema, tuple) and schema[0] in ("list", "map") and isinstance(value, (list, dict)):
        items = enumerate(value) if isinstance(value, list) else value.items()
        for k, item in items:
            out += unknown(item, schema[1], f"{path}[{k}]" if isinstance(value, list) else
                           f"{path}.{k}", prune)
    elif isinstance(schema, dict) and isinstance(value, dict):
        for k in list(value):
            if k in schema:
                out += unknown(value[k], schema[k], f"{path}.{k}", prune)
            elif "*" not in schema:
                out.append(f"{path}.{k}")
                if prune:
                    del value[k]
    return out


def openapi(schema) -> dict:
    """The OpenAPI v3 (structural) form, as a CRD's openAPIV3Schema holds it."""
    if schema == ANY:
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    if schema == DUR:
        return {"type": STR, "x-kubernetes-validations": [
            {"message": "must be a valid duration greater than 1ms",
             "rule": "duration(self) >= duration('1ms')"}]}
    if schema == INT:
        return {"type": INT, "format": "int32"}
    if isinstance(schema, str):
        return {"type": schema}
    kind, item = schema if isinstance(schema, tuple) else (None, None)
    if kind == "enum":
        return {"type": STR, "enum": list(item)}
    if kind == "list":
        return {"type": "array", "items": openapi(item)}
    if kind == "map":
        return {"type": "object", "additionalProperties": openapi(item)}
    out = {"type": "object", "properties": {k: openapi(v) for k, v in schema.items() if k != "*"}}
    if "*" in schema:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def crd_schema(key: str) -> dict:
    """openAPIV3Schema for one of the mesh kinds."""
    spec = SPECS[key]
    return {"type": "object", "properties": {
        "spec": openapi(spec),
        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}

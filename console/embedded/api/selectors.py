"""Label and field selectors, parsed like apimachinery's `labels.Parse` and
`fields.ParseSelector`. A bad selector is a 400, as on the real server."""

import re

from console.embedded.api.status import bad_request

_SET = re.compile(r"^\s*(!?)([A-Za-z0-9_./-]+)\s*(?:(notin|in)\s*\(([^)]*)\)|(==|=|!=)\s*([A-Za-z0-9_.-]*))?\s*$")


def _split(expr: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in expr:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def parse_labels(expr: str | None):
    """-> predicate(labels: dict) -> bool."""
    if not expr or not expr.strip():
        return None
    reqs = []
    for part in _split(expr):
        m = _SET.match(part)
        if not m:
            raise bad_request(f"unable to parse requirement: found '{part.strip()}', "
                              "expected: in, notin, =, ==, !=, gt, lt")
        neg, key, setop, values, op, value = m.groups()
        if neg and (setop or op):
            raise bad_request(f"unable to parse requirement: '{part.strip()}'")
        if neg:
            reqs.append(lambda lb, k=key: k not in lb)
        elif setop:
            vals = {v.strip() for v in values.split(",") if v.strip()}
            if setop == "in":
                reqs.append(lambda lb, k=key, vs=vals: lb.get(k) in vs)
            else:
                reqs.append(lambda lb, k=key, vs=vals: lb.get(k) not in vs)
        elif op in ("=", "=="):
            reqs.append(lambda lb, k=key, v=value: lb.get(k) == v)
        elif op == "!=":
            reqs.append(lambda lb, k=key, v=value: lb.get(k) != v)
        else:
            reqs.append(lambda lb, k=key: k in lb)
    return lambda labels: all(r(labels or {}) for r in reqs)


def _field(obj: dict, path: str):
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
        if cur is None:
            return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


# Fields each kind accepts beyond metadata.name/metadata.namespace
# (from the real registries' GetAttrs / field label conversion funcs).
FIELDS = {
    "pods": {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
             "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
             "status.podIP", "status.nominatedNodeName"},
    "events": {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
               "involvedObject.uid", "involvedObject.apiVersion",
               "involvedObject.resourceVersion", "involvedObject.fieldPath",
               "reason", "reportingComponent", "source", "type"},
    "namespaces": {"status.phase"},
    "nodes": {"spec.unschedulable"},
    "secrets": {"type"},
    "replicasets.apps": {"status.replicas"},
}


def parse_fields(expr: str | None, res: str, kind_name: str, version: str):
    if not expr or not expr.strip():
        return None
    allowed = {"metadata.name", "metadata.namespace"} | FIELDS.get(res, set())
    reqs = []
    for part in expr.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([A-Za-z0-9_.]+)\s*(!=|==|=)\s*(.*)$", part)
        if not m:
            raise bad_request(f'invalid selector: \'{expr}\'; can\'t understand \'{part}\'')
        key, op, value = m.groups()
        if key not in allowed:
            raise bad_request(f'field label not supported: {key}')
        path = "source.component" if (res == "events" and key == "source") else key
        if op == "!=":
            reqs.append(lambda o, p=path, v=value: _field(o, p) != v)
        else:
            reqs.append(lambda o, p=path, v=value: _field(o, p) == v)
    return lambda obj: all(r(obj) for r in reqs)


def selector_string(sel: dict | None) -> str:
    """metav1.LabelSelectorAsSelector(sel).String(): requirements sorted by key,
    "k=v", "k in (a,b)", "k notin (a,b)", "k", "!k"; "" for an empty selector."""
    reqs = [(k, f"{k}={v}") for k, v in ((sel or {}).get("matchLabels") or {}).items()]
    for e in (sel or {}).get("matchExpressions") or []:
        key, op = e.get("key", ""), e.get("operator")
        values = ",".join(sorted(e.get("values") or []))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(op, key)
        reqs.append((key, text))
    return ",".join(text for _, text in sorted(reqs))

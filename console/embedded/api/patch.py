"""The patch types: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and
strategic merge patch with the built-in kinds' merge keys.

The official client's models carry no patch metadata, so the merge keys the
built-in kinds declare are listed here, keyed by (model, field); they are the
`patchStrategy:"merge" patchMergeKey:"..."` struct tags of k8s.io/api
(core/v1/types.go, apps/v1/types.go, meta/v1/types.go, autoscaling/v2/types.go),
the same data the OpenAPI v2 spec exposes as x-kubernetes-patch-merge-key.
Lists not named here are atomic (replaced), like the real server does.
"""

import copy

from console.embedded.api.fields import _DICT, _LIST, fields_of
from console.embedded.api.status import ApiError, bad_request

PRIMITIVE = object()  # a list of scalars merged as a set
_CONTAINER = {"ports": "containerPort", "env": "name", "volumeMounts": "mountPath",
              "volumeDevices": "devicePath"}
MERGE_KEYS = {
    ("V1PodSpec", "containers"): "name", ("V1PodSpec", "initContainers"): "name",
    ("V1PodSpec", "ephemeralContainers"): "name", ("V1PodSpec", "volumes"): "name",
    ("V1PodSpec", "imagePullSecrets"): "name", ("V1PodSpec", "hostAliases"): "ip",
    ("V1PodSpec", "topologySpreadConstraints"): "topologyKey",
    ("V1PodSpec", "resourceClaims"): "name", ("V1PodSpec", "schedulingGates"): "name",
    **{("V1Container", f): k for f, k in _CONTAINER.items()},
    **{("V1EphemeralContainer", f): k for f, k in _CONTAINER.items()},
    ("V1ServiceSpec", "ports"): "port",
    ("V1ObjectMeta", "ownerReferences"): "uid", ("V1ObjectMeta", "finalizers"): PRIMITIVE,
    ("V1PodStatus", "conditions"): "type", ("V1PodStatus", "podIPs"): "ip",
    ("V1NodeStatus", "conditions"): "type", ("V1NodeStatus", "addresses"): "type",
    ("V1DeploymentStatus", "conditions"): "type", ("V1ReplicaSetStatus", "conditions"): "type",
    ("V1NamespaceStatus", "conditions"): "type",
    ("V2HorizontalPodAutoscalerStatus", "conditions"): "type",
}


# -- JSON patch ----------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f'the JSON patch path "{path}" must start with "/"')
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(p: str) -> int | None:
    """A JSON pointer's array index ("0", "12"), or None for anything else."""
    return int(p) if p.isascii() and p.isdigit() and len(p) <= 18 else None


def _walk(doc, parts: list[str], path: str):
    cur = doc
    for p in parts:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and _index(p) is not None and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise ApiError(422, f'the server rejected our request due to an error in our '
                           f'request: doc is missing path: "{path}"', "Invalid")
    return cur


def _missing(path):
    return ApiError(422, f'the server rejected our request due to an error in our request: '
                    f'doc is missing path: "{path}"', "Invalid")


def _json_op(doc, op: dict):
    if not isinstance(op, dict) or "op" not in op or "path" not in op:
        raise bad_request("a JSON patch operation must be an object with \"op\" and \"path\"")
    kind, path = op["op"], op["path"]
    if not isinstance(kind, str) or not isinstance(path, str):
        raise bad_request('a JSON patch operation\'s "op" and "path" must be strings')
    parts = _pointer(path)
    if kind in ("move", "copy"):
        if not isinstance(op.get("from"), str):
            raise ApiError(422, "the server rejected our request due to an error in our request: "
                           f'{kind} operation does not apply: doc is missing from path: "{path}"',
                           "Invalid")
        value = copy.deepcopy(_walk(doc, _pointer(op["from"]), op["from"]))
        if kind == "move":
            doc = _json_op(doc, {"op": "remove", "path": op["from"]})
        return _json_op(doc, {"op": "add", "path": path, "value": value})
    if kind == "test":
        if _walk(doc, parts, path) != op.get("value"):
            raise ApiError(422, f'the server rejected our request due to an error in our '
                           f'request: testing value {path} failed', "Invalid")
        return doc
    if kind not in ("add", "remove", "replace"):
        raise bad_request(f'unexpected JSON patch operation "{kind}"')
    if not parts:
        return copy.deepcopy(op.get("value")) if kind != "remove" else None
    parent = _walk(doc, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if kind != "add" and last not in parent:
            raise _missing(path)
        if kind == "remove":
            del parent[last]
        else:
            parent[last] = copy.deepcopy(op.get("value"))
    elif isinstance(parent, list):
        if last == "-" and kind == "add":
            parent.append(copy.deepcopy(op.get("value")))
            return doc
        if _index(last) is None or int(last) > len(parent) or (kind != "add" and int(last) >= len(parent)):
            raise _missing(path)
        i = int(last)
        if kind == "add":
            parent.insert(i, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            parent.pop(i)
        else:
            parent[i] = copy.deepcopy(op.get("value"))
    else:
        raise _missing(path)
    return doc


def json_patch(doc: dict, ops) -> dict:
    if not isinstance(ops, list):
        raise bad_request("a JSON patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        doc = _json_op(doc, op)
    return doc


# -- JSON merge patch ----------------------------------------------------------
def merge_patch(doc, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# -- strategic merge patch -----------------------------------------------------
def _child_type(type_name: str | None, key: str) -> str | None:
    if not type_name:
        return None
    known = fields_of(type_name)
    return known.get(key) if known else None


def _elem_type(type_name: str | None) -> str | None:
    if not type_name:
        return None
    m = _LIST.match(type_name) or _DICT.match(type_name)
    return m.group(1) if m else None


def strategic(doc, patch, type_name: str | None):
    """Apply a strategic merge patch to doc whose model is type_name."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    out = copy.deepcopy(doc) if isinstance(doc, dict) else {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            if isinstance(out.get(field), list) and isinstance(v, list):
                out[field] = [x for x in out[field] if x not in v]
            continue
        child = _child_type(type_name, k)
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list):
            key = MERGE_KEYS.get((type_name, k)) if type_name else None
            out[k] = _merge_list(out.get(k), v, key, _elem_type(child))
        elif isinstance(v, dict) and (child is None or not _DICT.match(child or "")):
            out[k] = strategic(out.get(k), v, child)
        elif isinstance(v, dict):
            out[k] = merge_patch(out.get(k), v)
        else:
            out[k] = copy.deepcopy(v)
        if out.get(k, 0) is None:
            out.pop(k)
    for k, order in patch.items():
        if k.startswith("$setElementOrder/"):
            _set_order(out, k.split("/", 1)[1], order, MERGE_KEYS.get((type_name, k.split("/", 1)[1])))
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(current, patch: list, key, elem_type):
    if key is None:
        return [x for x in copy.deepcopy(patch)
                if not (isinstance(x, dict) and x.get("$patch") == "delete")]
    current = copy.deepcopy(current) if isinstance(current, list) else []
    if key is PRIMITIVE:
        return current + [x for x in patch if x not in current]
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [x for x in copy.deepcopy(patch) if not (isinstance(x, dict) and "$patch" in x)]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise bad_request(f"map: {item} does not contain declared merge key: {key}")
        idx = next((i for i, c in enumerate(current)
                    if isinstance(c, dict) and c.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                current.pop(idx)
        elif idx is None:
            current.append(strategic({}, item, elem_type))
        else:
            current[idx] = strategic(current[idx], item, elem_type)
    return current


def _set_order(out: dict, field: str, order, key) -> None:
    items = out.get(field)
    if not isinstance(items, list) or not isinstance(order, list) or key in (None, PRIMITIVE):
        return
    rank = {o.get(key): i for i, o in enumerate(order) if isinstance(o, dict)}
    items.sort(key=lambda x: rank.get(x.get(key) if isinstance(x, dict) else None, len(rank)))

"""metadata.managedFields: who set which field (FieldsV1 sets), as the real server
records it for writes through the API — creates, updates and patches as
operation Update, server-side applies as operation Apply. Apply uses them to
find conflicts and to remove what a manager stopped applying.

Status is left out (the real server tracks it per subresource); writes the
control plane makes in-process are not recorded.
"""

import json

from console.embedded.api.fields import _LIST, fields_of
from console.embedded.api.patch import MERGE_KEYS, PRIMITIVE

SKIP = {("metadata", "name"), ("metadata", "namespace"), ("metadata", "resourceVersion"),
        ("metadata", "uid"), ("metadata", "creationTimestamp"), ("metadata", "generation"),
        ("metadata", "managedFields"), ("apiVersion",), ("kind",), ("status",)}


def _elem(type_name):
    m = _LIST.match(type_name or "")
    return m.group(1) if m else None


def _is_map_type(type_name) -> bool:
    return bool(type_name) and type_name.lower().startswith("dict")


def _key(item: dict, key: str) -> str:
    return "k:" + json.dumps({key: item[key]}, separators=(",", ":"))


def fieldset(value, type_name: str | None, path: tuple = ()) -> dict:
    """Every field a value sets, as a FieldsV1 set."""
    return diff(None, value, type_name, path)


def diff(old, new, type_name: str | None, path: tuple = ()) -> dict:
    """The FieldsV1 set of what `new` sets differently from `old` (None: all of it)."""
    out: dict = {}
    if not isinstance(new, dict):
        return out
    known = fields_of(type_name) if type_name else None
    old = old if isinstance(old, dict) else None
    for k, v in new.items():
        if (*path, k) in SKIP or v is None:
            continue
        before = old.get(k) if old is not None else None
        if old is not None and before == v:
            continue
        child = known.get(k) if known else None
        key = MERGE_KEYS.get((type_name, k)) if type_name else None
        if isinstance(v, dict) and v and not _is_map_type(child):
            sub = diff(before, v, child, (*path, k))
            if sub:  # nothing of its own (only skipped fields, or unchanged): no entry
                out[f"f:{k}"] = sub
        elif isinstance(v, dict) and v:  # a map (labels, data ...): one field per key
            prev = before if isinstance(before, dict) else {}
            sub = {f"f:{kk}": {} for kk, vv in v.items() if old is None or prev.get(kk) != vv}
            if sub:
                out[f"f:{k}"] = sub
        elif isinstance(v, list) and key and key is not PRIMITIVE:
            prev = {_key(x, key): x for x in before or [] if isinstance(x, dict) and key in x} \
                if isinstance(before, list) else {}
            items = {}
            for item in v:
                if isinstance(item, dict) and key in item:
                    k2 = _key(item, key)
                    if old is not None and prev.get(k2) == item:
                        continue
                    sub = diff(prev.get(k2) if old is not None else None, item, _elem(child))
                    if k2 not in prev or old is None:
                        sub["."] = {}
                    items[k2] = sub
            if items:
                out[f"f:{k}"] = items
        elif isinstance(v, list) and key is PRIMITIVE:
            prev = before if isinstance(before, list) else []
            sub = {"v:" + json.dumps(x): {} for x in v if old is None or x not in prev}
            if sub:
                out[f"f:{k}"] = sub
        else:
            out[f"f:{k}"] = {}
    return out


# -- set algebra (a leaf is {}; an inner node that empties is dropped) --------------
def union(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = union(out[k], v) if k in out and out[k] and v else (v if v else out.get(k, {}))
    return out


def subtract(a: dict, b: dict) -> dict:
    out = {}
    for k, v in a.items():
        if k not in b:
            out[k] = v
        elif v and b[k]:
            rest = subtract(v, b[k])
            if rest:
                out[k] = rest
    return out


def intersect(a: dict, b: dict) -> dict:
    out = {}
    for k, v in a.items():
        if k in b:
            out[k] = intersect(v, b[k]) if v and b[k] else v
            if v and not out[k]:
                del out[k]
    return out


def leaves(s: dict, path: tuple = ()):
    for k, v in s.items():
        if k == "." or not v:
            yield (*path, k)
        if v:
            yield from leaves(v, (*path, k))


def value_at(obj, path: tuple):
    cur = obj
    for p in path:
        if p == ".":
            continue
        if p.startswith("f:") and isinstance(cur, dict):
            cur = cur.get(p[2:])
        elif p.startswith("k:") and isinstance(cur, list):
            want = json.loads(p[2:])
            cur = next((x for x in cur if isinstance(x, dict)
                        and all(x.get(kk) == vv for kk, vv in want.items())), None)
        elif p.startswith("v:") and isinstance(cur, list):
            v = json.loads(p[2:])
            cur = v if v in cur else None
        else:
            return None
        if cur is None:
            return None
    return cur


def contains(s: dict, path: tuple) -> bool:
    cur = s
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return False
        cur = cur[p]
        if cur == {}:
            return True  # owning a leaf on the way owns everything below it
    return True


# -- bookkeeping --------------------------------------------------------------------
def record_update(old: dict | None, new: dict, model: str | None, manager: str,
                  api_version: str, stamp: str) -> None:
    """An Update by `manager` took `old` to `new` (both in the wire version):
    it now owns what it changed; nobody owns what is gone."""
    meta = new.setdefault("metadata", {})
    entries = [e for e in (meta.get("managedFields")
                           or ((old or {}).get("metadata") or {}).get("managedFields") or [])]
    changed = diff(old, new, model)
    present = fieldset(new, model)
    out = []
    mine = None
    for e in entries:
        s = e.get("fieldsV1") or {}
        if e.get("manager") == manager and e.get("operation") == "Update":
            mine = e
            continue
        s = intersect(subtract(s, changed), present)
        if s:
            out.append({**e, "fieldsV1": s})
    owned = intersect(union((mine or {}).get("fieldsV1") or {}, changed), present)
    if owned:
        out.append({"manager": manager, "operation": "Update", "apiVersion": api_version,
                    "time": stamp if changed or mine is None else mine.get("time", stamp),
                    "fieldsType": "FieldsV1", "fieldsV1": owned})
    if out:
        meta["managedFields"] = out
    else:
        meta.pop("managedFields", None)


def manager_of(request, default: str = "unknown") -> str:
    """?fieldManager, else the user agent's program name, as the real server does."""
    m = request.query.get("fieldManager")
    if m:
        return m
    ua = request.headers.get("User-Agent", "")
    return ua.split("/", 1)[0] or default

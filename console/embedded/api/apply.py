"""Server-side apply, simplified: each Apply manager's field set is kept in
metadata.managedFields (FieldsV1, as the real server writes it); applying again
removes the fields the manager applied before and no longer does (unless another
Apply manager owns them), then merges the configuration by the merge keys.

Not modelled: conflicts with other managers' fields (applies always win, as
with --force-conflicts), and ownership of fields written by plain updates.
"""

import copy
import json

from console.embedded.api.fields import _LIST, fields_of
from console.embedded.api.patch import MERGE_KEYS, PRIMITIVE, strategic

SKIP = {("metadata", "name"), ("metadata", "namespace"), ("apiVersion",), ("kind",)}


def _elem(type_name):
    m = _LIST.match(type_name or "")
    return m.group(1) if m else None


def fieldset(value, type_name: str | None, path: tuple = ()) -> dict:
    """The FieldsV1 set of a configuration."""
    out: dict = {}
    if not isinstance(value, dict):
        return out
    known = fields_of(type_name) if type_name else None
    for k, v in value.items():
        if (*path, k) in SKIP:
            continue
        child = known.get(k) if known else None
        key = MERGE_KEYS.get((type_name, k)) if type_name else None
        if isinstance(v, dict) and v and (child is None or not child.startswith(("Dict", "dict"))):
            out[f"f:{k}"] = fieldset(v, child, (*path, k))
        elif isinstance(v, dict) and v:  # a map of scalars/objects: one field per key
            out[f"f:{k}"] = {f"f:{kk}": {} for kk in v}
        elif isinstance(v, list) and key and key is not PRIMITIVE:
            items = {}
            for item in v:
                if isinstance(item, dict) and key in item:
                    sub = fieldset(item, _elem(child), ())
                    sub["."] = {}
                    items["k:" + json.dumps({key: item[key]}, separators=(",", ":"))] = sub
            out[f"f:{k}"] = items
        elif isinstance(v, list) and key is PRIMITIVE:
            out[f"f:{k}"] = {"v:" + json.dumps(x): {} for x in v}
        else:
            out[f"f:{k}"] = {}
    return out


def _owned_elsewhere(others: list[dict], path: list[str]) -> bool:
    for s in others:
        cur = s
        for p in path:
            if not isinstance(cur, dict) or p not in cur:
                cur = None
                break
            cur = cur[p]
        if cur is not None:
            return True
    return False


def prune(obj, old: dict, new: dict, others: list[dict], path: list[str] | None = None) -> None:
    """Remove from obj what `old` applied and `new` no longer does."""
    path = path or []
    if not isinstance(obj, (dict, list)):
        return
    for key, sub in old.items():
        if key == ".":
            continue
        here = [*path, key]
        if key not in new:
            if _owned_elsewhere(others, here):
                continue
            _remove(obj, key)
        elif sub:
            target = _child(obj, key)
            if target is not None:
                prune(target, sub, new[key], others, here)


def _child(obj, key: str):
    if key.startswith("f:") and isinstance(obj, dict):
        return obj.get(key[2:])
    if key.startswith("k:") and isinstance(obj, list):
        want = json.loads(key[2:])
        return next((x for x in obj if isinstance(x, dict)
                     and all(x.get(k) == v for k, v in want.items())), None)
    return None


def _remove(obj, key: str) -> None:
    if key.startswith("f:") and isinstance(obj, dict):
        obj.pop(key[2:], None)
    elif key.startswith("k:") and isinstance(obj, list):
        item = _child(obj, key)
        if item is not None:
            obj.remove(item)
    elif key.startswith("v:") and isinstance(obj, list):
        value = json.loads(key[2:])
        if value in obj:
            obj.remove(value)


def apply(current: dict | None, config: dict, model: str | None, manager: str,
          api_version: str, stamp: str) -> dict:
    """The object after `manager` applies `config` (current None: a create)."""
    new_set = fieldset(config, model)
    entries = list(((current or {}).get("metadata") or {}).get("managedFields") or [])
    mine = next((e for e in entries if e.get("manager") == manager
                 and e.get("operation") == "Apply"), None)
    others = [e.get("fieldsV1") or {} for e in entries
              if e is not mine and e.get("operation") == "Apply"]
    base = copy.deepcopy(current) if current is not None else {}
    if mine is not None:
        prune(base, mine.get("fieldsV1") or {}, new_set, others)
    out = strategic(base, config, model)
    entry = {"manager": manager, "operation": "Apply", "apiVersion": api_version,
             "time": stamp, "fieldsType": "FieldsV1", "fieldsV1": new_set}
    entries = [e for e in entries if e is not mine] + [entry]
    out.setdefault("metadata", {})["managedFields"] = entries
    return out

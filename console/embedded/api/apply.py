"""Server-side apply (PATCH application/apply-patch+yaml) after the real server:
the manager's previous Apply set (metadata.managedFields) minus its new one is
removed unless another manager owns it; a field the configuration sets to a new
value while another manager owns it is a 409 conflict unless ?force=true, which
takes the field over; then the configuration is merged by the merge keys.
"""

import copy
import json

from console.embedded.api import managed
from console.embedded.api.patch import strategic
from console.embedded.api.status import ApiError


def _field_text(path: tuple) -> str:
    out = ""
    for p in path:
        if p == ".":
            continue
        if p.startswith("f:"):
            out += "." + p[2:]
        elif p.startswith("k:"):
            out += "[" + ",".join(f'{k}={json.dumps(v)}' for k, v in json.loads(p[2:]).items()) + "]"
        elif p.startswith("v:"):
            out += f"[={p[2:]}]"
    return out


def conflict_error(conflicts: list[tuple[str, str, tuple]]) -> ApiError:
    """conflicts: (manager, apiVersion, path) -> a 409 worded like structured-merge-diff."""
    if len(conflicts) == 1:
        m, v, p = conflicts[0]
        msg = f'Apply failed with 1 conflict: conflict with "{m}" using {v}: {_field_text(p)}'
    else:
        msg = f"Apply failed with {len(conflicts)} conflicts: "
        by: dict[tuple[str, str], list[tuple]] = {}
        for m, v, p in conflicts:
            by.setdefault((m, v), []).append(p)
        for (m, v), paths in by.items():
            msg += f'conflicts with "{m}" using {v}:\n' + "".join(
                f"- {_field_text(p)}\n" for p in paths)
    causes = [{"reason": "FieldManagerConflict", "message": f'conflict with "{m}" using {v}',
               "field": _field_text(p)} for m, v, p in conflicts]
    return ApiError(409, msg, "Conflict", {"causes": causes})


def apply(current: dict | None, config: dict, model: str | None, manager: str,
          api_version: str, stamp: str, force: bool = False) -> dict:
    """The object after `manager` applies `config` (current None: a create)."""
    new_set = managed.fieldset(config, model)
    entries = list(((current or {}).get("metadata") or {}).get("managedFields") or [])
    mine = next((e for e in entries if e.get("manager") == manager
                 and e.get("operation") == "Apply"), None)
    others = [e for e in entries if e is not mine]
    if current is not None:
        found = []
        for path in managed.leaves(new_set):
            if path[-1] == ".":
                continue
            if managed.value_at(config, path) == managed.value_at(current, path):
                continue
            for e in others:
                if managed.contains(e.get("fieldsV1") or {}, path):
                    found.append((e.get("manager", ""), e.get("apiVersion", api_version), path))
        if found and not force:
            raise conflict_error(found)
        if found:  # forced: the fields change hands
            taken = {}
            for _, _, path in found:
                node = taken
                for p in path[:-1]:
                    node = node.setdefault(p, {})
                node[path[-1]] = {}
            others = [{**e, "fieldsV1": managed.subtract(e.get("fieldsV1") or {}, taken)}
                      for e in others]
            others = [e for e in others if e["fieldsV1"]]
    base = copy.deepcopy(current) if current is not None else {}
    if mine is not None:
        gone = managed.subtract(mine.get("fieldsV1") or {}, new_set)
        for e in others:
            gone = managed.subtract(gone, e.get("fieldsV1") or {})
        _remove_all(base, gone)
    out = strategic(base, config, model)
    entry = {"manager": manager, "operation": "Apply", "apiVersion": api_version,
             "time": stamp, "fieldsType": "FieldsV1", "fieldsV1": new_set}
    out.setdefault("metadata", {})["managedFields"] = others + [entry]
    return out


def _remove_all(obj, gone: dict, path: tuple = ()) -> None:
    """Remove from obj the leaves of `gone` (whole elements for k: with ".")."""
    for key, sub in gone.items():
        if key == ".":
            continue
        here = (*path, key)
        if not sub or "." in sub:
            parent = managed.value_at(obj, path) if path else obj
            _remove(parent, key)
        else:
            _remove_all(obj, sub, here)


def _remove(parent, key: str) -> None:
    if key.startswith("f:") and isinstance(parent, dict):
        parent.pop(key[2:], None)
    elif key.startswith("k:") and isinstance(parent, list):
        want = json.loads(key[2:])
        for x in list(parent):
            if isinstance(x, dict) and all(x.get(k) == v for k, v in want.items()):
                parent.remove(x)
    elif key.startswith("v:") and isinstance(parent, list):
        v = json.loads(key[2:])
        if v in parent:
            parent.remove(v)

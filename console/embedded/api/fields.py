"""Field knowledge from the official client's models (kubernetes.client.models:
openapi_types + attribute_map), used for fieldValidation and for pruning unknown
fields the way the real server's decoder drops them.

fieldValidation: Strict -> 400 naming every unknown field; Warn (kubectl's
default for old servers) -> a Warning header per field; Ignore -> drop silently.
"""

import functools
import re

import kubernetes.client.models as models

from console.embedded.api.status import bad_request
from console.embedded.kinds import Kind

_LIST = re.compile(r"^[Ll]ist\[(.+)\]$")
_DICT = re.compile(r"^[Dd]ict\(?\[?str, (.+?)[\])]$")
SCALARS = {"str", "int", "bool", "float", "datetime", "date", "bytes", "object"}


def model_for(kind: Kind, version: str):
    """The client model class of a kind in a version, or None (custom kinds)."""
    name = f"{version[0].upper()}{version[1:]}{kind.kind}"
    if kind.kind == "Event" and kind.group == "":
        name = "CoreV1Event"
    return getattr(models, name, None)


@functools.lru_cache(maxsize=None)
def fields_of(type_name: str) -> dict[str, str] | None:
    """JSON field name -> type string for a model class name."""
    cls = getattr(models, type_name, None)
    if cls is None or not hasattr(cls, "openapi_types"):
        return None
    return {cls.attribute_map[a]: t for a, t in cls.openapi_types.items()}


def unknown_fields(value, type_name: str, path: str, out: list[str], prune: bool) -> None:
    m = _LIST.match(type_name)
    if m:
        if isinstance(value, list):
            for i, v in enumerate(value):
                unknown_fields(v, m.group(1), f"{path}[{i}]", out, prune)
        return
    m = _DICT.match(type_name)
    if m:
        if isinstance(value, dict):
            for k, v in value.items():
                unknown_fields(v, m.group(1), f"{path}.{k}" if path else k, out, prune)
        return
    if type_name in SCALARS or not isinstance(value, dict):
        return
    known = fields_of(type_name)
    if known is None:
        return
    for key in list(value):
        child = f"{path}.{key}" if path else key
        if key not in known:
            out.append(child)
            if prune:
                del value[key]
        else:
            unknown_fields(value[key], known[key], child, out, prune)


def validate(request, kind: Kind, version: str, obj: dict, headers: dict) -> None:
    """Apply the request's fieldValidation to obj (pruned in place)."""
    model = model_for(kind, version)
    if model is None:
        return
    mode = request.query.get("fieldValidation", "Warn") if request is not None else "Ignore"
    if mode not in ("Strict", "Warn", "Ignore"):
        raise bad_request(f"fieldValidation: Unsupported value: \"{mode}\": supported values: "
                          "\"Ignore\", \"Strict\", \"Warn\"")
    unknown: list[str] = []
    unknown_fields(obj, model.__name__, "", unknown, prune=True)
    if not unknown:
        return
    msgs = [f'unknown field "{f}"' for f in unknown]
    if mode == "Strict":
        raise bad_request(f'{kind.kind} in version "{version}" cannot be handled as a '
                          f"{kind.kind}: strict decoding error: {', '.join(msgs)}")
    if mode == "Warn":
        headers["Warning"] = ", ".join('299 - "' + m.replace('"', '\\"') + '"' for m in msgs)

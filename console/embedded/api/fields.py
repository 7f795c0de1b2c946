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
from console.embedded.mesh.schema import SPECS as _CRD_SPECS
from console.embedded.mesh.schema import unknown as crd_unknown

_LIST = re.compile(r"^[Ll]ist\[(.+)\]$")
_DICT = re.compile(r"^[Dd]ict\(?\[?str, (.+?)[\])]$")
SCALARS = {"str", "int", "bool", "float", "datetime", "date", "bytes", "object"}


def crd_spec(key: str):
    """The structural schema of a custom kind's spec (the Istio kinds), or None."""
    return _CRD_SPECS.get(key)


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


# Quantities are strings in the client models but accept JSON numbers too.
QUANTITY = {("V1ResourceRequirements", "limits"), ("V1ResourceRequirements", "requests"),
            ("V1NodeStatus", "capacity"), ("V1NodeStatus", "allocatable"),
            ("V1EmptyDirVolumeSource", "sizeLimit"), ("V2MetricTarget", "averageValue"),
            ("V2MetricTarget", "value"), ("V2MetricValueStatus", "averageValue"),
            ("V2MetricValueStatus", "value")}
_GO = {"str": "string", "int": "int32", "bool": "bool", "float": "float64",
       "datetime": "Time", "date": "Time", "bytes": "[]uint8"}
_JSON_TYPE = {str: "string", bool: "bool", int: "number", float: "number", list: "array",
              dict: "object"}


def _go_type(type_name: str) -> str:
    m = _LIST.match(type_name)
    if m:
        return "[]" + _go_type(m.group(1))
    m = _DICT.match(type_name)
    if m:
        return "map[string]" + _go_type(m.group(1))
    return _GO.get(type_name) or re.sub(r"^(CoreV1|V\d+(alpha\d+|beta\d+)?)", "", type_name)


def _fits(value, type_name: str, quantity: bool) -> bool:
    if value is None or type_name == "object":
        return True
    if type_name == "str" or type_name in ("datetime", "date", "bytes"):
        return isinstance(value, str) or (quantity and isinstance(value, (int, float))
                                          and not isinstance(value, bool))
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name == "bool":
        return isinstance(value, bool)
    if _LIST.match(type_name):
        return isinstance(value, list)
    return isinstance(value, dict)  # maps and models


def type_error(value, type_name: str, path: str, owner: str = "", quantity: bool = False):
    """The first value of the wrong JSON type, as Go's decoder words it; or None."""
    if not _fits(value, type_name, quantity):
        struct = re.sub(r"^(CoreV1|V\d+(alpha\d+|beta\d+)?)", "", owner)
        return (f"json: cannot unmarshal {_JSON_TYPE.get(type(value), 'value')} into Go "
                f"struct field {struct}.{path} of type {_go_type(type_name)}")
    if value is None:
        return None
    m = _LIST.match(type_name)
    if m:
        for v in value:
            err = type_error(v, m.group(1), path, owner, quantity)
            if err:
                return err
        return None
    m = _DICT.match(type_name)
    if m:
        for v in value.values():
            err = type_error(v, m.group(1), path, owner, quantity)
            if err:
                return err
        return None
    known = fields_of(type_name)
    if not known or not isinstance(value, dict):
        return None
    for key, v in value.items():
        if key in known:
            err = type_error(v, known[key], f"{path}.{key}" if path else key, type_name,
                             (type_name, key) in QUANTITY)
            if err:
                return err
    return None


def validate(request, kind: Kind, version: str, obj: dict, headers: dict) -> None:
    """Reject values of the wrong type; apply the request's fieldValidation to
    unknown fields (pruned in place)."""
    model = model_for(kind, version)
    spec_schema = crd_spec(kind.key) if model is None else None
    if model is None and spec_schema is None:
        return
    if model is not None:
        err = type_error(obj, model.__name__, "")
        if err:
            raise bad_request(f'{kind.kind} in version "{version}" cannot be handled as a '
                              f"{kind.kind}: {err}")
    mode = request.query.get("fieldValidation", "Warn") if request is not None else "Ignore"
    if mode not in ("Strict", "Warn", "Ignore"):
        raise bad_request(f"fieldValidation: Unsupported value: \"{mode}\": supported values: "
                          "\"Ignore\", \"Strict\", \"Warn\"")
    unknown: list[str] = []
    if model is not None:
        unknown_fields(obj, model.__name__, "", unknown, prune=True)
    elif isinstance(obj.get("spec"), dict):     # a custom kind with a structural schema
        unknown = crd_unknown(obj["spec"], spec_schema, "spec", prune=True)
    if not unknown:
        return
    msgs = [f'unknown field "{f}"' for f in unknown]
    if mode == "Strict":
        raise bad_request(f'{kind.kind} in version "{version}" cannot be handled as a '
                          f"{kind.kind}: strict decoding error: {', '.join(msgs)}")
    if mode == "Warn":
        warn(headers, msgs)


def warn(headers: dict, msgs: list[str]) -> None:
    """Warning headers (RFC 7234 299), after any already there; kubectl prints each."""
    said = ", ".join('299 - "' + m.replace('"', '\\"') + '"' for m in msgs)
    if said:
        headers["Warning"] = f"{headers['Warning']}, {said}" if headers.get("Warning") else said

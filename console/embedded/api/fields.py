"""Field knowledge from the official client's models (kubernetes.client.models:
openapi_types + attribute_map), used for fieldValidation and for pruning unknown
fields the way the real server's decoder drops them.

fieldValidation: Strict -> 400 naming every unknown field; Warn (kubectl's
default for old servers) -> a Warning header per field; Ignore -> drop silently.
"""

import functools
import json
import re

import kubernetes.client.models as models

from console.embedded.api.codec import Huge, find_huge
from console.embedded.api.status import ApiError, bad_request
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
_GO = {"str": "string", "int": "int64", "bool": "bool", "float": "float64",
       "datetime": "v1.Time", "date": "v1.Time", "bytes": "[]uint8"}
_JSON_TYPE = {str: "string", bool: "bool", list: "array", dict: "object"}
_MODEL = re.compile(r"^(?:Core)?(V\d+(?:alpha\d+|beta\d+)?)(.+)$")
_RANGE = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1)}


@functools.lru_cache(maxsize=None)
def _proto_ints() -> dict[str, dict[str, str]]:
    """Model class name -> {JSON field: int32 | int64}, from the vendored .proto files
    (the client models say only "int"; the width decides what Go's decoder refuses)."""
    from console.embedded.proto import messages

    out: dict[str, dict[str, str]] = {}
    for full, msg in messages().items():
        version, name = full.split(".")[-2:]
        ints = {f.name: f.type for f in msg.by_name.values() if f.type in _RANGE}
        v = version[0].upper() + version[1:]
        for key in (f"{v}{name}", f"Core{v}{name}"):
            out.setdefault(key, ints)
    return out


def _int_type(owner: str, key: str) -> str:
    return _proto_ints().get(owner, {}).get(key, "int64")


def _go_type(type_name: str, int_type: str = "int64") -> str:
    """How Go's decoder names a type: int32, []v1.Container, map[string]string, v1.ObjectMeta."""
    m = _LIST.match(type_name)
    if m:
        return "[]" + _go_type(m.group(1), int_type)
    m = _DICT.match(type_name)
    if m:
        return "map[string]" + _go_type(m.group(1), int_type)
    if type_name == "int":
        return int_type
    if type_name in _GO:
        return _GO[type_name]
    m = _MODEL.match(type_name)
    return f"{m.group(1).lower()}.{m.group(2)}" if m else type_name


def _json_value(value) -> str:
    """Go's UnmarshalTypeError.Value: "number 1.5" (with the literal), "string", "object"..."""
    if isinstance(value, Huge):
        return f"number {value.text}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"number {json.dumps(value)}"
    return _JSON_TYPE.get(type(value), "value")


def _fits(value, type_name: str, quantity: bool) -> bool:
    if value is None or type_name == "object":
        return True
    if type_name == "str" or type_name in ("datetime", "date", "bytes"):
        return isinstance(value, str) or (quantity and isinstance(value, (int, float))
                                          and not isinstance(value, bool))
    if type_name in ("int32", "int64"):
        lo, hi = _RANGE[type_name]
        return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
    if type_name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name == "bool":
        return isinstance(value, bool)
    if _LIST.match(type_name):
        return isinstance(value, list)
    return isinstance(value, dict)  # maps and models


def type_error(value, type_name: str, path: str, owner: str = "", quantity: bool = False,
               int_type: str = "int64"):
    """The first value of the wrong JSON type or out of its Go type's range, as Go's
    decoder words it (json: cannot unmarshal number 1000000000000 into Go struct field
    DeploymentSpec.spec.replicas of type int32); or None."""
    scalar = int_type if type_name == "int" else type_name
    if not _fits(value, scalar, quantity):
        struct = _MODEL.sub(r"\2", owner)
        where = f"Go struct field {struct}.{path}" if owner else "Go value"
        return (f"json: cannot unmarshal {_json_value(value)} into {where} of type "
                f"{_go_type(type_name, int_type)}")
    if value is None:
        return None
    m = _LIST.match(type_name)
    if m:
        for v in value:
            err = type_error(v, m.group(1), path, owner, quantity, int_type)
            if err:
                return err
        return None
    m = _DICT.match(type_name)
    if m:
        for v in value.values():
            err = type_error(v, m.group(1), path, owner, quantity, int_type)
            if err:
                return err
        return None
    known = fields_of(type_name)
    if not known or not isinstance(value, dict):
        return None
    for key, v in value.items():
        if key in known:
            err = type_error(v, known[key], f"{path}.{key}" if path else key, type_name,
                             (type_name, key) in QUANTITY, _int_type(type_name, key))
            if err:
                return err
    return None


def drop_nulls(value, type_name: str) -> None:
    """null where Go has a struct, slice or map leaves the zero value: the field is absent
    (as if not sent), in place. A null in a map of strings is the empty string."""
    m = _LIST.match(type_name)
    if m:
        if isinstance(value, list):
            for v in value:
                drop_nulls(v, m.group(1))
        return
    m = _DICT.match(type_name)
    if m:
        if isinstance(value, dict):
            for k, v in value.items():
                if v is None and m.group(1) == "str":
                    value[k] = ""
                else:
                    drop_nulls(v, m.group(1))
        return
    known = fields_of(type_name) if isinstance(value, dict) else None
    if not known:
        return
    for key in [k for k, v in value.items() if v is None]:
        del value[key]
    for key, v in value.items():
        if key in known:
            drop_nulls(v, known[key])


def decode_error(kind: Kind, version: str, obj) -> str | None:
    """What Go's decoder would refuse in `obj` (a wrong type, a number out of range)."""
    model = model_for(kind, version)
    if model is not None:
        return type_error(obj, model.__name__, "")
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata", {}), dict):
        return "Object 'metadata' is missing or is not a map"  # unstructured's words
    return None


def patch_invalid(patched, message: str) -> ApiError:
    """A patch whose result does not decode: 422 on the field "patch", as patch.go says it."""
    text = json.dumps(patched, separators=(",", ":"), default=repr)
    detail = f"Invalid value: {json.dumps(text)}: {message}"
    return ApiError(422, f' "" is invalid: patch: {detail}', "Invalid", {
        "causes": [{"reason": "FieldValueInvalid", "message": detail, "field": "patch"}]})


def validate(request, kind: Kind, version: str, obj: dict, headers: dict) -> None:
    """Reject values of the wrong type; apply the request's fieldValidation to
    unknown fields (pruned in place). fieldValidation itself is checked by params."""
    err = decode_error(kind, version, obj)
    if err:
        raise bad_request(f'{kind.kind} in version "{version}" cannot be handled as a '
                          f"{kind.kind}: {err}")
    model = model_for(kind, version)
    spec_schema = crd_spec(kind.key) if model is None else None
    mode = (request.query.get("fieldValidation") or "Warn") if request is not None else "Ignore"
    unknown: list[str] = []
    if model is not None:
        drop_nulls(obj, model.__name__)
        unknown_fields(obj, model.__name__, "", unknown, prune=True)
    elif spec_schema is not None and isinstance(obj.get("spec"), dict):  # structural schema
        unknown = crd_unknown(obj["spec"], spec_schema, "spec", prune=True)
    huge = find_huge(obj)  # in a field no schema types (a custom kind's spec)
    if huge is not None:
        raise bad_request(f'{kind.kind} in version "{version}" cannot be handled as a '
                          f"{kind.kind}: json: cannot unmarshal number {huge.text} into Go "
                          "value of type float64")
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

"""Message <-> JSON-shaped dict, field by field, as the Go types marshal to JSON.

Go's JSON differs from a plain proto-to-JSON mapping in a few places, handled here:
- types with their own JSON form: Time, MicroTime, Duration, Quantity,
  IntOrString, RawExtension, FieldsV1, Verbs;
- embedded structs that JSON inlines (`json:",inline"`), listed in INLINE;
- bytes are base64 strings; value (non-pointer) scalars at their zero value are
  left out, as `omitempty` does, while pointer scalars keep an explicit zero.
"""

import base64
import binascii
import json
import struct

from . import timefmt
from .schema import SCALARS as _SCALARS, Field, Message, messages
from .wire import I32, I64, LEN, VARINT, iter_fields, key, len_field, read_varint, signed, varint

META = "k8s.io.apimachinery.pkg.apis.meta.v1."
CORE = "k8s.io.api.core.v1."
TIME, MICROTIME, DURATION = META + "Time", META + "MicroTime", META + "Duration"
FIELDSV1, VERBS = META + "FieldsV1", META + "Verbs"
QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
INTSTR = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
RAWEXT = "k8s.io.apimachinery.pkg.runtime.RawExtension"

# message.field whose Go struct is embedded with `json:",inline"`; the kubernetes
# client's models (tests/embedded/test_proto.py) confirm the list is complete.
INLINE = frozenset(CORE + name for name in (
    "Volume.volumeSource", "Probe.handler", "EphemeralContainer.ephemeralContainerCommon",
    "PersistentVolumeSpec.persistentVolumeSource", "ConfigMapEnvSource.localObjectReference",
    "ConfigMapKeySelector.localObjectReference", "ConfigMapProjection.localObjectReference",
    "ConfigMapVolumeSource.localObjectReference", "SecretEnvSource.localObjectReference",
    "SecretKeySelector.localObjectReference", "SecretProjection.localObjectReference",
))

_INTS = {"int32": 32, "int64": 64, "uint32": 0, "uint64": 0}
_WIRE = {"double": I64, "fixed64": I64, "sfixed64": I64, "float": I32, "fixed32": I32,
         "sfixed32": I32, "string": LEN, "bytes": LEN}


def wire_type(f: Field) -> int:
    return LEN if f.is_map else type_wire(f.type)


def type_wire(ftype: str) -> int:
    return _WIRE.get(ftype, VARINT if ftype in _SCALARS else LEN)


# ---------------------------------------------------------------- decoding

def decode_message(buf: bytes, msg: Message, path: str = "") -> dict:
    out: dict = {}
    for number, wtype, value in iter_fields(buf):
        f = msg.fields.get(number)
        if f is None:
            continue  # a field newer than our schema: proto semantics say skip it
        where = f"{path}{f.name}"
        if f.is_map:
            if wtype != LEN:
                raise ValueError(f"{where}: map entry with wire type {wtype}")
            k, v = _map_entry(value, f, where)
            out.setdefault(f.name, {})[k] = v
        elif f.repeated and wtype == LEN and not f.is_message and f.type not in ("string", "bytes"):
            out.setdefault(f.name, []).extend(_packed(value, f, where))
        else:
            if wtype != wire_type(f):
                raise ValueError(f"{where}: wire type {wtype}, expected {wire_type(f)} for {f.type}")
            v = _value(value, f.type, where)
            if f.repeated:
                out.setdefault(f.name, []).append(v)
            else:
                out[f.name] = v
    return _to_json(out, msg)


def _to_json(out: dict, msg: Message) -> dict:
    """Drop what JSON would not carry; flatten inline embedded structs."""
    for name in list(out):
        f = msg.by_name[name]
        v = out[name]
        if v is None or (not f.pointer and not f.repeated and not f.is_message and not v):
            del out[name]
        elif f"{msg.full_name}.{name}" in INLINE:
            del out[name]
            for k, inner in v.items():
                out.setdefault(k, inner)
    return out


def _map_entry(buf: bytes, f: Field, where: str):
    k = v = None
    for number, wtype, value in iter_fields(buf):
        t = f.key if number == 1 else f.type if number == 2 else None
        if t is None:
            continue
        if wtype != type_wire(t):
            raise ValueError(f"{where}: map {'key' if number == 1 else 'value'} with wire type {wtype}")
        if number == 1:
            k = _value(value, t, where)
        else:
            v = _value(value, t, f"{where}[{k}]")
    if k is None:
        k = 0 if f.key in _INTS else ""
    if v is None:
        v = {} if f.is_message else "" if f.type in ("string", "bytes") else 0
    return k, v


def _packed(buf: bytes, f: Field, where: str) -> list:
    out, pos = [], 0
    if f.type in _WIRE:  # fixed-width numbers
        size = 8 if _WIRE[f.type] == I64 else 4
        if len(buf) % size:
            raise ValueError(f"{where}: packed field length {len(buf)} not a multiple of {size}")
        return [_value(int.from_bytes(buf[i:i + size], "little"), f.type, where)
                for i in range(0, len(buf), size)]
    while pos < len(buf):
        raw, pos = read_varint(buf, pos)
        out.append(_value(raw, f.type, where))
    return out


def _value(value, ftype: str, where: str):
    if ftype == "string":
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{where}: string is not valid UTF-8") from None
    if ftype == "bytes":
        return base64.b64encode(value).decode("ascii")
    if ftype == "bool":
        return bool(value)
    if ftype in _INTS:
        return signed(value, _INTS[ftype]) if _INTS[ftype] else value
    if ftype in ("sint32", "sint64"):
        return (value >> 1) ^ -(value & 1)
    if ftype == "double":
        return struct.unpack("<d", value.to_bytes(8, "little"))[0]
    if ftype == "float":
        return struct.unpack("<f", value.to_bytes(4, "little"))[0]
    if ftype in ("sfixed32", "sfixed64"):
        return signed(value, 32 if ftype == "sfixed32" else 64)
    if ftype in ("fixed32", "fixed64"):
        return value
    return _special(value, ftype, where)


def _special(buf: bytes, ftype: str, where: str):
    msg = messages()[ftype]
    if ftype not in (TIME, MICROTIME, DURATION, QUANTITY, INTSTR, RAWEXT, FIELDSV1, VERBS):
        return decode_message(buf, msg, where + ".")
    raw = {}
    for number, wtype, value in iter_fields(buf):
        f = msg.fields.get(number)
        if f is not None:
            if wtype != wire_type(f):
                raise ValueError(f"{where}: wire type {wtype}, expected {wire_type(f)} for {f.type}")
            v = value if f.type == "bytes" else _value(value, f.type, where)
            if f.repeated:
                raw.setdefault(f.name, []).append(v)
            else:
                raw[f.name] = v
    if ftype in (TIME, MICROTIME):
        if not buf:
            return None  # the zero time: JSON null
        return timefmt.format_time(raw.get("seconds", 0), raw.get("nanos", 0), ftype == MICROTIME)
    if ftype == DURATION:
        return timefmt.format_duration(raw.get("duration", 0))
    if ftype == QUANTITY:
        return raw.get("string", "")
    if ftype == INTSTR:
        return raw.get("strVal", "") if raw.get("type", 0) == 1 else raw.get("intVal", 0)
    if ftype == VERBS:
        return raw.get("items", [])
    data = raw.get("raw" if ftype == RAWEXT else "Raw", b"")
    if not data:
        return None
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError(f"{where}: embedded object is not JSON") from None


# ---------------------------------------------------------------- encoding

def encode_message(obj: dict, msg: Message, path: str = "") -> bytes:
    if not isinstance(obj, dict):
        raise ValueError(f"{path.rstrip('.') or msg.name}: expected an object, got {type(obj).__name__}")
    obj = _uninline(obj, msg)
    parts = []
    for name, value in obj.items():
        f = msg.by_name.get(name)
        if f is None:
            raise ValueError(f"{path}{name}: no such field in {msg.name}")
        if value is not None:
            parts.append((f.number, _encode_field(f, value, f"{path}{name}")))
    parts.sort(key=lambda p: p[0])  # ascending field numbers, as gogo writes
    return b"".join(p[1] for p in parts)


def _uninline(obj: dict, msg: Message) -> dict:
    """Fold the keys of inline embedded structs back into their field."""
    inline = [f for f in msg.fields.values() if f"{msg.full_name}.{f.name}" in INLINE]
    if not inline:
        return obj
    obj = dict(obj)
    for f in inline:
        inner_names = messages()[f.type].by_name
        moved = {k: obj.pop(k) for k in list(obj) if k not in msg.by_name and k in inner_names}
        if moved:
            obj[f.name] = moved
    return obj


def _encode_field(f: Field, value, where: str) -> bytes:
    if f.is_map:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object (map), got {type(value).__name__}")
        out = []
        for k, v in value.items():
            entry = _encode_one(1, f.key, k, f"{where}.{k}")
            if v is not None:
                entry += _encode_one(2, f.type, v, f"{where}.{k}")
            out.append(len_field(f.number, entry))
        return b"".join(out)
    if f.repeated:
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
        return b"".join(_encode_one(f.number, f.type, v, f"{where}[{i}]") for i, v in enumerate(value))
    return _encode_one(f.number, f.type, value, where)


def _encode_one(number: int, ftype: str, value, where: str) -> bytes:
    def bad(expected: str) -> ValueError:
        return ValueError(f"{where}: expected {expected}, got {value!r}")

    if ftype == "string":
        if not isinstance(value, str):
            raise bad("a string")
        return len_field(number, value.encode("utf-8"))
    if ftype == "bytes":
        try:
            return len_field(number, base64.b64decode(value, validate=True))
        except (binascii.Error, TypeError, ValueError):
            raise bad("base64 data") from None
    if ftype == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return key(number, VARINT) + varint(int(value))
    if ftype in _INTS or ftype in ("sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        if ftype in ("sint32", "sint64"):
            return key(number, VARINT) + varint((value << 1) ^ (value >> 63))
        if ftype in _WIRE:
            size = 8 if _WIRE[ftype] == I64 else 4
            return key(number, _WIRE[ftype]) + (value % (1 << 8 * size)).to_bytes(size, "little")
        return key(number, VARINT) + varint(value)
    if ftype in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        return key(number, _WIRE[ftype]) + struct.pack("<d" if ftype == "double" else "<f", value)
    return len_field(number, _encode_special(ftype, value, where))


def _encode_special(ftype: str, value, where: str) -> bytes:
    if ftype in (TIME, MICROTIME):
        try:
            seconds, nanos = timefmt.parse_time(value)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        return _encode_one(1, "int64", seconds, where) + _encode_one(2, "int32", nanos, where)
    if ftype == DURATION:
        try:
            return _encode_one(1, "int64", timefmt.parse_duration(value), where)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
    if ftype == QUANTITY:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValueError(f"{where}: expected a quantity such as 500m or 128Mi, got {value!r}")
        return _encode_one(1, "string", value if isinstance(value, str) else str(value), where)
    if ftype == INTSTR:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"{where}: expected an integer or a string, got {value!r}")
        is_str = isinstance(value, str)
        return (_encode_one(1, "int64", int(is_str), where)
                + _encode_one(2, "int32", 0 if is_str else value, where)
                + _encode_one(3, "string", value if is_str else "", where))
    if ftype == VERBS:
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list of verbs, got {value!r}")
        return b"".join(_encode_one(1, "string", v, where) for v in value)
    if ftype in (RAWEXT, FIELDSV1):
        return len_field(1, json.dumps(value, separators=(",", ":")).encode())
    return encode_message(value, messages()[ftype], where + ".")

"""Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`) <-> JSON dicts.

A body is the magic b"k8s\\x00" and a runtime.Unknown message carrying the
object's apiVersion and kind and its serialized message. Field knowledge comes
from the vendored generated.proto files of Kubernetes v1.33.1 beside this file
(see _extract.py); nothing about fields is typed by hand.

    decode(body) -> {"apiVersion": ..., "kind": ..., "metadata": ..., ...}
    encode(obj)  -> body
Both raise ValueError with a short reason on bad input.
"""

from .codec import decode_message, encode_message
from .schema import Message, messages
from .wire import iter_fields, len_field

MAGIC = b"k8s\x00"
CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
_META = "k8s.io.apimachinery.pkg.apis.meta.v1"

__all__ = ["CONTENT_TYPE", "MAGIC", "decode", "encode", "is_protobuf", "message_for"]


def is_protobuf(content_type: str | None) -> bool:
    """True for `application/vnd.kubernetes.protobuf` (parameters ignored)."""
    return (content_type or "").split(";", 1)[0].strip().lower() == CONTENT_TYPE


def message_for(api_version: str, kind: str) -> Message:
    """The message of a kind: apps/v1 Deployment -> k8s.io.api.apps.v1.Deployment.
    Group kinds live in k8s.io.api.<first label of the group>.<version>; Status,
    DeleteOptions and the other meta kinds are found in meta/v1 for any group."""
    if not isinstance(api_version, str) or not api_version or not isinstance(kind, str) or not kind:
        raise ValueError("apiVersion and kind are required")
    group, _, version = api_version.rpartition("/")
    package = f"k8s.io.api.{group.split('.', 1)[0] or 'core'}.{version}"
    table = messages()
    for name in (f"{package}.{kind}", f"{_META}.{kind}"):
        if name in table:
            return table[name]
    raise ValueError(f"unknown kind {kind!r} in {api_version!r} for protobuf")


def decode(body: bytes) -> dict:
    """A protobuf request body -> the object as the JSON dict the API would carry."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise ValueError("protobuf body must be bytes")
    body = bytes(body)
    if not body.startswith(MAGIC):
        raise ValueError("not a Kubernetes protobuf body (no k8s\\x00 prefix)")
    envelope = {}
    try:
        for number, wtype, value in iter_fields(body[len(MAGIC):]):
            envelope[number] = (wtype, value)
        type_meta = {n: v for n, _, v in iter_fields(_lenfield(envelope, 1, "typeMeta"))}
        api_version = type_meta.get(1, b"").decode("utf-8")
        kind = type_meta.get(2, b"").decode("utf-8")
        encoding = _lenfield(envelope, 3, "contentEncoding").decode("utf-8")
        ctype = _lenfield(envelope, 4, "contentType").decode("utf-8")
    except (ValueError, AttributeError, UnicodeDecodeError) as e:
        raise ValueError(f"malformed protobuf envelope: {e}") from None
    if encoding:
        raise ValueError(f"unsupported contentEncoding {encoding!r}")
    if ctype and not is_protobuf(ctype):
        raise ValueError(f"unsupported contentType {ctype!r} inside the envelope")
    msg = message_for(api_version, kind)
    obj = decode_message(_lenfield(envelope, 2, "raw"), msg)
    return {"apiVersion": api_version, "kind": kind, **obj}


def _lenfield(envelope: dict, number: int, name: str) -> bytes:
    wtype, value = envelope.get(number, (2, b""))
    if wtype != 2:
        raise ValueError(f"{name} has wire type {wtype}")
    return value


def encode(obj: dict) -> bytes:
    """A JSON-shaped object (apiVersion, kind, ...) -> a protobuf body."""
    if not isinstance(obj, dict):
        raise ValueError("object must be a mapping")
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    msg = message_for(api_version, kind)
    fields = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    raw = encode_message(fields, msg)
    type_meta = len_field(1, api_version.encode()) + len_field(2, kind.encode())
    return MAGIC + len_field(1, type_meta) + len_field(2, raw) + len_field(3, b"") + len_field(4, b"")

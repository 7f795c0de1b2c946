"""Request bodies: JSON, YAML, protobuf (through console.embedded.proto, when
built), and the four patch types. Bad bodies are 400s, unknown types 415s."""

import importlib
import json
import math

import yaml

from console.embedded.api.status import ApiError, bad_request

BODY_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json", "application/apply-patch+yaml")
PROTOBUF = "application/vnd.kubernetes.protobuf"


class Huge:
    """A number no Go type holds (beyond float64, or more digits than Python will parse):
    kept as its text so the decoder's error can name the field, as Go's does."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _int(text: str):
    return int(text) if len(text) <= 400 else Huge(text)


def _float(text: str):
    value = float(text)
    return value if math.isfinite(value) else Huge(text)


def find_huge(value) -> Huge | None:
    """The first Huge left in a decoded value (where no schema said what it must be)."""
    if isinstance(value, Huge):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for v in items:
        found = find_huge(v)
        if found is not None:
            return found
    return None


def media_type(request) -> str:
    return (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _proto_decode(raw: bytes) -> dict:
    try:
        proto = importlib.import_module("console.embedded.proto")
    except ModuleNotFoundError as exc:
        if exc.name != "console.embedded.proto":
            raise
        proto = None
    if proto is None or not hasattr(proto, "decode"):
        raise ApiError(415, "the body of the request was in an unknown format - accepted "
                       "media types include: application/json, application/yaml",
                       "UnsupportedMediaType")
    try:
        return proto.decode(raw)
    except ValueError as exc:
        raise bad_request(f"the body of the request could not be decoded as protobuf: {exc}")


def parse(raw: bytes, ctype: str, allowed=BODY_TYPES):
    """Decode a body of content type `ctype`; returns the JSON value."""
    if ctype not in allowed:
        raise ApiError(415, "the body of the request was in an unknown format - accepted "
                       f"media types include: {', '.join(allowed)}", "UnsupportedMediaType")
    if ctype == PROTOBUF:
        return _proto_decode(raw)
    if not raw.strip():
        raise bad_request("the body of the request is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the body of the request is not valid UTF-8")
    if ctype in ("application/yaml", "application/apply-patch+yaml"):
        try:
            value = yaml.safe_load(text)
        except RecursionError:
            raise bad_request("error converting YAML to JSON: nested too deeply")
        except ValueError as exc:  # an int beyond Python's parsing limit
            raise bad_request(f"error converting YAML to JSON: yaml: {exc}")
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise bad_request(f"error converting YAML to JSON: yaml: {getattr(exc, 'problem', exc)}{where}")
        return value
    try:
        return json.loads(text, parse_int=_int, parse_float=_float, parse_constant=Huge)
    except RecursionError:
        raise bad_request("couldn't decode the body as JSON: nested too deeply")
    except json.JSONDecodeError as exc:
        raise bad_request(f"couldn't decode the body as JSON: {exc.msg} at line {exc.lineno}, "
                          f"column {exc.colno}")


def parse_object(raw: bytes, ctype: str) -> dict:
    value = parse(raw, ctype)
    if not isinstance(value, dict):
        raise bad_request(f"the body of the request must be a JSON object, not "
                          f"{type(value).__name__}")
    return value

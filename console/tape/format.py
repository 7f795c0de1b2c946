"""The tape format: newline-delimited JSON, one record a line, UTF-8.

Line 1 is the header (UTF-8 JSON, compact):

    {"tape": "kubelab", "version": 1, "kubelab": "0.1.0",
     "start": 1730000000.0, "created": "2024-10-27T03:33:20Z",
     "terminal": {"width": 160, "height": 48},
     "scenario": {"id": "hpa-scale-out", "sha256": "..."} or null,
     "cluster": {"kind": "embedded" | "kubeconfig" | "none",
                 "context": "...", "namespace": "..."},
     "command": "kubelab --record lab.tape"}

Every later line is one event, stamped with the seconds since the line
before it (the header's `start` for the first), so that a tape edited by
hand keeps its later lines in step:

    {"dt": 0.25, "event": "object", "kind": "pods", "type": "MODIFIED", "obj": {...}}

`event` is a bus event's name (console/bus.py: object, synced, connection,
metrics, load.started, load.sample, load.done, action, marker, snapshot ...)
with that event's fields, or the tape's own `end`, the last line:
`{"dt": 0.0, "event": "end", "outcome": {...}}`. A `snapshot` line is a
keyframe, the whole state at once, so a seek starts from the nearest one
instead of the first line. Readers skip events they do not know (a newer
kubelab's) and refuse a format version newer than theirs; a tape without
`end` was cut short and plays up to its last whole line.
"""

from __future__ import annotations

import json
import math
import time

import orjson

from console.errors import UsageError

MAGIC = "kubelab"
VERSION = 1
END = "end"
CLUSTER_KINDS = ("embedded", "kubeconfig", "none")


_ENCODER = json.JSONEncoder(separators=(",", ":"))   # what orjson does not take (ints > 64 bits)


def dumps(record) -> str:
    """One compact JSON line. orjson: a pod event in a tenth of json's time, which
    is what recording costs the console under an event storm (bench/console.py
    --record); non-ASCII stays UTF-8, NaN and infinities are null."""
    try:
        return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode()
    except (orjson.JSONEncodeError, TypeError):
        return _ENCODER.encode(record)


def header(*, width: int, height: int, cluster: dict, scenario: dict | None = None,
           command: str = "", start: float | None = None) -> dict:
    from console import __version__
    start = time.time() if start is None else start
    return {"tape": MAGIC, "version": VERSION, "kubelab": __version__, "start": start,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
            "terminal": {"width": int(width), "height": int(height)},
            "scenario": scenario, "cluster": cluster, "command": command}


def cluster_of(conn) -> dict:
    """The header's `cluster` for a console.cluster Connection (or None: no cluster)."""
    if conn is None:
        return {"kind": "none", "context": "", "namespace": ""}
    return {"kind": "embedded" if conn.embedded is not None else "kubeconfig",
            "context": conn.context, "namespace": conn.namespace}


def check_header(record, where: str) -> dict:
    """The header as read, or UsageError naming `where` (file:line) and the field."""
    if not isinstance(record, dict) or record.get("tape") != MAGIC:
        raise UsageError('not a kubelab tape (its first line has no "tape": "kubelab")', where=where)
    version = record.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise UsageError(f"field 'version': expected a whole number, got {version!r}", where=where)
    if version > VERSION:
        raise UsageError(f"tape format version {version} is newer than this kubelab reads "
                         f"(version {VERSION}); it was written by kubelab "
                         f"{record.get('kubelab', '?')}: upgrade kubelab to play it", where=where)
    if version < 1:
        raise UsageError(f"field 'version': unknown tape format version {version}", where=where)
    start = record.get("start")
    if not isinstance(start, (int, float)) or isinstance(start, bool) or not math.isfinite(start):
        raise UsageError(f"field 'start': expected seconds since the epoch, got {start!r}", where=where)
    term = record.get("terminal") or {}
    if not isinstance(term, dict):
        raise UsageError(f"field 'terminal': expected {{\"width\": W, \"height\": H}}, got {term!r}",
                         where=where)
    for key in ("width", "height"):
        value = term.get(key, 80 if key == "width" else 24)
        if not isinstance(value, int) or isinstance(value, bool) or not 10 <= value <= 1000:
            raise UsageError(f"field 'terminal.{key}': expected a size in cells, got {value!r}",
                             where=where)
    return record


def check_dt(record: dict, where: str) -> float:
    dt = record.get("dt", 0)
    if not isinstance(dt, (int, float)) or isinstance(dt, bool) or not 0 <= dt < 1e9:
        raise UsageError(f"field 'dt': expected seconds >= 0, got {dt!r}", where=where)
    return float(dt)

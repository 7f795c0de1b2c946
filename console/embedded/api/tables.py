"""Server-side Table printing (Accept: application/json;as=Table;v=v1;g=meta.k8s.io).

The columns per kind live in `columns.py`; this module formats ages like
apimachinery's duration.HumanDuration and wraps rows into a meta.k8s.io/v1 Table.
"""

from datetime import datetime, timezone

from console.embedded.kinds import Kind

DESCRIPTIONS = {
    "Name": "Name must be unique within a namespace. Is required when creating resources, "
            "although some resources may allow a client to request the generation of an "
            "appropriate name automatically.",
    "Age": "CreationTimestamp is a timestamp representing the server time when this object "
           "was created.",
}


def parse_time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def since(stamp: str | None, now: datetime) -> str:
    t = parse_time(stamp)
    if t is None:
        return "<unknown>"
    return human_duration((now - t).total_seconds())


def table(kind: Kind, items: list[dict], request, cluster, header: bool = True) -> dict:
    from console.embedded.api import columns

    spec = columns.for_kind(kind)
    now = cluster.clock.now()
    include = request.query.get("includeObject", "Metadata") if request is not None else "Metadata"
    rows = []
    for obj in items:
        row = {"cells": spec.cells(obj, now)}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj.get("metadata", {})}
        rows.append(row)
    defs = []
    if header:
        defs = [{"name": name, "type": typ, "format": fmt,
                 "description": DESCRIPTIONS.get(name, name), "priority": prio}
                for name, typ, fmt, prio in spec.columns]
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {},
            "columnDefinitions": defs, "rows": rows}

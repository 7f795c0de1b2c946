"""Server-side Table printing (Accept: application/json;as=Table;v=v1;g=meta.k8s.io).

The columns per kind live in `columns.py`; ages are kubectl's (console.kubeprint,
shared with the console); this module wraps rows into a meta.k8s.io/v1 Table.
"""

from datetime import datetime

from aiohttp import web

from console import kubeprint
from console.embedded.kinds import Kind

DESCRIPTIONS = {
    "Name": "Name must be unique within a namespace. Is required when creating resources, "
            "although some resources may allow a client to request the generation of an "
            "appropriate name automatically.",
    "Age": "CreationTimestamp is a timestamp representing the server time when this object "
           "was created.",
}


def since(stamp: str | None, now: datetime) -> str:
    return kubeprint.since(stamp, now.timestamp())


class Parts:
    """The time-independent part of rows (Spec.parts) by (uid, resourceVersion):
    `kubectl get po` over 5,000 pods works out only the pods that changed since
    the last Table. Bounded, oldest out; one per API server (app)."""

    SIZE = 20_000

    def __init__(self):
        self._items: dict[tuple, tuple] = {}

    def of(self, spec, obj: dict) -> tuple:
        meta = obj["metadata"]
        key = (meta.get("uid"), meta.get("resourceVersion"))
        got = self._items.get(key)
        if got is None:
            got = self._items[key] = spec.parts(obj)
            if len(self._items) > self.SIZE:
                del self._items[next(iter(self._items))]
        return got


PARTS = web.AppKey("table-parts", Parts)   # make_app keeps one per app


def table(kind: Kind, items: list[dict], request, cluster, header: bool = True) -> dict:
    from console.embedded.api import columns

    spec = columns.for_kind(kind)
    now = cluster.clock.now()
    include = request.query.get("includeObject", "Metadata") if request is not None else "Metadata"
    parts = request.app.get(PARTS) if request is not None and spec.parts is not None else None
    t = now.timestamp()
    rows = []
    for obj in items:
        if parts is not None and obj["metadata"].get("uid"):
            cells = spec.finish(parts.of(spec, obj), t)
        else:
            cells = spec.cells(obj, now)
        row = {"cells": cells}
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

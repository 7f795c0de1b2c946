"""Server-side Table printing (Accept: application/json;as=Table;v=v1;g=meta.k8s.io).

The columns per kind live in `columns.py`; ages are kubectl's (console.kubeprint,
shared with the console); this module wraps rows into a meta.k8s.io/v1 Table.
"""

from datetime import datetime

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

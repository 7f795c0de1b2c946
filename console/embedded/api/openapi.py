"""/openapi/v3: one document per group-version, schemas derived from the
official client's models (openapi_types/attribute_map), never hand-written.

What clients rely on: every PATCH operation carries x-kubernetes-group-version-kind
and the fieldValidation query parameter (kubectl then validates server-side), and
list fields carry x-kubernetes-patch-merge-key/-strategy (kubectl computes its
client-side apply patches from them).

Documents describe one cluster's Catalogue. Building one is a pure function of
the kinds in it, so the (process-wide) memo is keyed by those kinds: two
clusters serving different kinds get different documents.
"""

import functools
import hashlib
import json
import re

import kubernetes.client.models as models
from aiohttp import web

from console.embedded import kinds
from console.embedded.kinds import Catalogue
from console.embedded.api.fields import _DICT, _LIST, crd_spec, fields_of, model_for
from console.embedded.api.patch import MERGE_KEYS, PRIMITIVE
from console.embedded.api.status import ApiError
from console.embedded.mesh.schema import crd_schema

PREFIX = "io.k8s.kubelab."
SCALARS = {"str": {"type": "string"}, "int": {"type": "integer", "format": "int64"},
           "bool": {"type": "boolean"}, "float": {"type": "number", "format": "double"},
           "datetime": {"type": "string", "format": "date-time"},
           "date": {"type": "string", "format": "date"}, "bytes": {"type": "string", "format": "byte"},
           "object": {"x-kubernetes-int-or-string": True}}
RETAIN_KEYS = {("V1DeploymentSpec", "strategy"), ("V1PodSpec", "volumes")}


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def schema_name(model: str) -> str:
    """V1PodSpec -> io.k8s.kubelab.v1.PodSpec (kubectl explain shows "PodSpec")."""
    m = re.match(r"^(CoreV1|V\d+(?:alpha\d+|beta\d+)?)([A-Z].*)$", model)
    if not m:
        return PREFIX + model
    return f"{PREFIX}{m.group(1).lower()}.{m.group(2)}"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{schema_name(name)}"}


def _schema(type_name: str, schemas: dict) -> dict:
    m = _LIST.match(type_name)
    if m:
        return {"type": "array", "items": _schema(m.group(1), schemas)}
    m = _DICT.match(type_name)
    if m:
        return {"type": "object", "additionalProperties": _schema(m.group(1), schemas)}
    if type_name in SCALARS:
        return dict(SCALARS[type_name])
    _model(type_name, schemas)
    return {"default": {}, "allOf": [_ref(type_name)]}


def _model(name: str, schemas: dict) -> None:
    if schema_name(name) in schemas:
        return
    known = fields_of(name)
    if known is None:
        schemas[schema_name(name)] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        return
    schemas[schema_name(name)] = doc = {"type": "object", "properties": {}}
    cls = getattr(models, name)
    summary = (cls.__doc__ or "").strip().split("\n\n")[0].strip()
    if summary and not summary.startswith("NOTE:"):
        doc["description"] = " ".join(summary.split())
    notes = _descriptions(cls)
    for field, typ in sorted(known.items()):
        prop = _schema(typ, schemas)
        if notes.get(field):
            prop["description"] = notes[field]
        key = MERGE_KEYS.get((name, field))
        if key is PRIMITIVE:
            prop["x-kubernetes-patch-strategy"] = "merge"
        elif key:
            prop["x-kubernetes-patch-strategy"] = "merge"
            prop["x-kubernetes-patch-merge-key"] = key
        if (name, field) in RETAIN_KEYS:
            prop["x-kubernetes-patch-strategy"] = (
                "merge,retainKeys" if key else "retainKeys")
        doc["properties"][field] = prop


def _descriptions(cls) -> dict[str, str]:
    """JSON field -> description, from the model's field docs (pydantic-based
    clients carry them; older ones do not, and then there are none)."""
    out = {}
    for attr, info in (getattr(cls, "model_fields", None) or {}).items():
        json_name = cls.attribute_map.get(attr)
        if json_name and getattr(info, "description", None):
            out[json_name] = info.description
    return out


def _gvk(k: kinds.Kind, version: str) -> list[dict]:
    return [{"group": k.group, "version": version, "kind": k.kind}]


def _kind_schema(k: kinds.Kind, version: str, schemas: dict) -> str:
    model = model_for(k, version)
    if model is not None:
        _model(model.__name__, schemas)
        name = model.__name__
    else:  # custom kinds: free-form spec/status
        _model("V1ObjectMeta", schemas)
        name = f"{k.group}.{version}.{k.kind}"
        schemas[schema_name(name)] = {"type": "object", "properties": {
            "apiVersion": {"type": "string"}, "kind": {"type": "string"},
            "metadata": {"allOf": [_ref("V1ObjectMeta")]},
            "spec": (crd_schema(k.key)["properties"]["spec"] if crd_spec(k.key) is not None
                     else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}
    schemas[schema_name(name)]["x-kubernetes-group-version-kind"] = _gvk(k, version)
    return name


def _param(name: str, where: str = "query", typ: str = "string") -> dict:
    return {"name": name, "in": where, "schema": {"type": typ}, "uniqueItems": True,
            **({"required": True} if where == "path" else {})}


WRITE_PARAMS = [_param("dryRun"), _param("fieldManager"), _param("fieldValidation")]
LIST_PARAMS = [_param(p) for p in ("labelSelector", "fieldSelector", "continue",
                                   "resourceVersion")] + [
    _param("limit", typ="integer"), _param("watch", typ="boolean"),
    _param("timeoutSeconds", typ="integer"), _param("allowWatchBookmarks", typ="boolean")]


def _op(action: str, k: kinds.Kind, version: str, schema: str, params: list, body: bool,
        patch: bool = False) -> dict:
    content = {"application/json": {"schema": _ref(schema)}}
    op = {"operationId": f"{action}{k.kind}", "parameters": list(params),
          "responses": {"200": {"description": "OK", "content": content},
                        "401": {"description": "Unauthorized"}},
          "x-kubernetes-action": action, "x-kubernetes-group-version-kind": _gvk(k, version)[0]}
    if body:
        types = (["application/json-patch+json", "application/merge-patch+json",
                  "application/strategic-merge-patch+json", "application/apply-patch+yaml"]
                 if patch else ["*/*"])
        op["requestBody"] = {"content": {t: {"schema": _ref(schema)} for t in types},
                             "required": True}
    if patch:
        op["parameters"].append(_param("force", typ="boolean"))
    return op


def build(cat: Catalogue, group: str, version: str) -> bytes:
    ks = tuple(cat.in_version(group, version))
    if not ks:
        raise KeyError(group)
    return _build(group, version, ks)


@functools.lru_cache(maxsize=64)
def _build(group: str, version: str, ks: tuple[kinds.Kind, ...]) -> bytes:
    schemas: dict = {}
    paths: dict = {}
    _model("V1Status", schemas)
    _model("V1DeleteOptions", schemas)
    base = "/" + _gv_path(group, version)
    for k in ks:
        schema = _kind_schema(k, version, schemas)
        ns = "/namespaces/{namespace}" if k.namespaced else ""
        path_params = ([_param("namespace", "path")] if k.namespaced else [])
        name_params = path_params + [_param("name", "path")]
        coll = f"{base}{ns}/{k.resource}"
        # only the verbs the kind serves (a computed kind: get and list; a review: create)
        ops = {("c", "get"): ("list", lambda: _op("list", k, version, schema,
                                                 path_params + LIST_PARAMS, False)),
               ("c", "post"): ("create", lambda: _op("post", k, version, schema,
                                                    path_params + WRITE_PARAMS, True)),
               ("c", "delete"): ("deletecollection", lambda: _op(
                   "deletecollection", k, version, "V1Status", path_params, False)),
               ("i", "get"): ("get", lambda: _op("get", k, version, schema, name_params, False)),
               ("i", "put"): ("update", lambda: _op("put", k, version, schema,
                                                   name_params + WRITE_PARAMS, True)),
               ("i", "patch"): ("patch", lambda: _op("patch", k, version, schema,
                                                    name_params + WRITE_PARAMS, True, True)),
               ("i", "delete"): ("delete", lambda: _op("delete", k, version, "V1Status",
                                                      name_params + [_param("dryRun")], False))}
        for (where, method), (verb, make) in ops.items():
            if verb in k.verbs:
                paths.setdefault(coll if where == "c" else coll + "/{name}", {})[method] = make()
        if k.namespaced and "list" in k.verbs:
            paths[f"{base}/{k.resource}"] = {"get": _op("list", k, version, schema, LIST_PARAMS,
                                                        False)}
        for sub in k.subresources:
            sub_schema = schema
            if sub == "scale":
                sub_schema = "V1Scale"
                _model("V1Scale", schemas)
                schemas[schema_name("V1Scale")]["x-kubernetes-group-version-kind"] = [
                    {"group": "autoscaling", "version": "v1", "kind": "Scale"}]
            entry = {"get": _op("get", k, version, sub_schema, name_params, False)}
            if sub in ("status", "scale"):
                entry["put"] = _op("put", k, version, sub_schema, name_params + WRITE_PARAMS, True)
                entry["patch"] = _op("patch", k, version, sub_schema,
                                     name_params + WRITE_PARAMS, True, True)
            paths[f"{coll}/{{name}}/{sub}"] = entry
    doc = {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "unversioned"},
           "paths": paths, "components": {"schemas": schemas}}
    return json.dumps(doc, separators=(",", ":")).encode()


def _digest(cat: Catalogue, group: str, version: str) -> str:
    """Names the document's content without building it: what it is derived from."""
    import kubernetes
    what = [group, version, kubernetes.__version__] + [
        f"{k.kind}/{k.resource}/{k.subresources}/{k.verbs}/{k.namespaced}"
        for k in cat.in_version(group, version)]
    return hashlib.sha512("|".join(what).encode()).hexdigest()[:32].upper()


def warm(served: tuple[kinds.Kind, ...]) -> None:
    """Build every document (about a second of CPU) of the kinds given (a
    snapshot taken on the loop): run it off the event loop."""
    cat = Catalogue(served)
    for group, versions in cat.groups().items():
        for v in versions:
            build(cat, group, v)


async def index(request, cat: Catalogue) -> web.Response:
    paths = {}
    for group, versions in cat.groups().items():
        for v in versions:
            path = _gv_path(group, v)
            paths[path] = {"serverRelativeURL":
                           f"/openapi/v3/{path}?hash={_digest(cat, group, v)}"}
    return web.json_response({"paths": paths})


async def document(request, cat: Catalogue) -> web.Response:
    parts = request.match_info["path"].strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        group, version = "", parts[1]
    elif len(parts) == 3 and parts[0] == "apis":
        group, version = parts[1], parts[2]
    else:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    try:
        body = build(cat, group, version)
    except KeyError:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    return web.Response(body=body, content_type="application/json",
                        headers={"Cache-Control": "public, immutable" if "hash" in request.query
                                 else "no-cache, private"})


def _pb_string(field: int, text: str) -> bytes:
    data = text.encode()
    return bytes([field << 3 | 2, len(data)]) + data


async def v2(request, version: str) -> web.Response:
    """A minimal OpenAPI v2 document with no definitions.

    kubectl reads v2 (as gnostic protobuf) only for kinds the v3 documents do
    not describe; with no definition there it skips client-side validation and
    reports an unknown kind as `no matches for kind`, as against a real server.
    """
    if "protobuf" in request.headers.get("Accept", ""):
        info = _pb_string(1, "Kubernetes") + _pb_string(2, version)
        body = _pb_string(1, "2.0") + bytes([2 << 3 | 2, len(info)]) + info
        return web.Response(body=body, headers={
            "Content-Type": "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"})
    return web.json_response({"swagger": "2.0", "info": {"title": "Kubernetes",
                                                         "version": version},
                              "paths": {}, "definitions": {}})

"""REST verbs on resources: URL -> (kind, version, namespace, name, subresource)
-> registry. Reads convert from the storage version, writes to it.

A kind with a provider in the cluster's catalogue (an aggregated API such as
metrics.k8s.io) is read from the provider, not the store; while the provider is
unavailable its requests get the aggregator's 503 ServiceUnavailable."""

import copy
import json
import logging
from dataclasses import dataclass

from aiohttp import web

from console.embedded.api import (codec, conversion, fields, managed, paging, params, reviews,
                                  tables, watch)
from console.embedded.api.paging import page
from console.embedded.api.selectors import parse_fields, parse_labels, selector_string
from console.embedded.api.status import (USER, ApiError, Unavailable, already_exists, bad_request,
                                         conflict, invalid, not_found, respond, respond_list,
                                         success)
from console.embedded.kinds import Catalogue, Kind, Provider
from console.embedded.registry import Denied, Forbidden, Invalid
from console.embedded.store import Conflict, NotFound

NAMESPACE_SUBRESOURCES = {"status", "finalize"}
log = logging.getLogger("kubelab.api")


@dataclass
class Target:
    kind: Kind
    version: str
    namespace: str | None   # None: all namespaces (collection) / cluster-scoped
    name: str | None
    sub: str | None
    watch: bool = False


def resolve(cat: Catalogue, group: str, version: str, segs: list[str]) -> Target:
    """Parse what follows /api/v1 or /apis/G/V."""
    w = False
    if segs and segs[0] == "watch":
        w, segs = True, segs[1:]
    ns = None
    if len(segs) >= 3 and segs[0] == "namespaces" and segs[2] not in NAMESPACE_SUBRESOURCES:
        ns, segs = segs[1], segs[2:]
    if not segs or len(segs) > 3:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    kind = cat.lookup(group, version, segs[0])
    if kind is None:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    if ns is not None and not kind.namespaced:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    name = segs[1] if len(segs) > 1 else None
    sub = segs[2] if len(segs) > 2 else None
    if sub is not None and sub not in kind.subresources:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    if kind.namespaced and name is not None and ns is None:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    return Target(kind, version, ns, name, sub, w)


def _rest_error(t: Target, exc: Exception, name: str) -> ApiError:
    k = t.kind
    if isinstance(exc, NotFound):
        return not_found(k.resource, name, k.group)
    if isinstance(exc, Conflict):
        if exc.reason == "AlreadyExists":
            return already_exists(k.resource, name, k.group)
        return conflict(k.resource, name, k.group)
    if isinstance(exc, Invalid):
        return invalid(k.kind, name, exc.causes, k.group)
    if isinstance(exc, Denied):
        return ApiError(400, str(exc), "")
    if isinstance(exc, Forbidden):
        return ApiError(403, str(exc), "Forbidden", {"name": name, "kind": k.resource})
    raise exc


def _wants_table(request) -> bool:
    return "as=Table" in request.headers.get("Accept", "")


def _wire(t: Target, obj: dict) -> dict:
    return conversion.to_wire(t.kind, obj, t.version)


def _dry_run(request, options: str = "CreateOptions") -> bool:
    """The write's options checked (dryRun, fieldValidation); True for a dry run."""
    return params.check_write(request.query, options)


def check_namespace(cluster, t: Target, creating: bool = True) -> None:
    if not t.kind.namespaced or t.namespace is None:
        return
    ns = cluster.store.get("namespaces", "", t.namespace)
    if ns is None:
        raise not_found("namespaces", t.namespace)
    if creating and ns["metadata"].get("deletionTimestamp"):
        raise ApiError(403, f"{t.kind.resource} \"\" is forbidden: unable to create new content "
                       f"in namespace {t.namespace} because it is being terminated", "Forbidden",
                       {"kind": t.kind.resource})


# -- reads -------------------------------------------------------------------
def _provider(cluster, t: Target) -> Provider | None:
    p = cluster.kinds.provider(t.kind.key)
    if p is not None and p.unavailable() is not None:
        raise Unavailable(p.unavailable())
    return p


async def get(request, cluster, t: Target) -> web.StreamResponse:
    provider = _provider(cluster, t)
    if t.name is None:
        if t.watch or params.flag(request.query, "watch"):
            if provider is not None or "watch" not in t.kind.verbs:
                raise ApiError(405, "the server does not allow this method on the requested "
                               "resource", "MethodNotAllowed")
            return await watch.serve(request, cluster, t)
        return list_(request, cluster, t)
    if t.sub == "log":
        from console.embedded.api import logs
        return await logs.serve(request, cluster, t)
    if t.sub == "exec":
        from console.embedded.api import exec as exec_
        return await exec_.serve(request, cluster, t)
    if t.sub == "portforward":
        from console.embedded.api import portforward
        return await portforward.serve(request, cluster, t)
    if provider is not None:
        obj = provider.get(t.namespace or "", t.name)
    else:
        obj = cluster.store.get(t.kind.key, t.namespace or "", t.name)
    if obj is None:
        if provider is not None:
            raise ApiError(404, provider.not_found(t.namespace or "", t.name), "NotFound",
                           {"name": t.name, "group": t.kind.group, "kind": t.kind.resource})
        raise not_found(t.kind.resource, t.name, t.kind.group)
    if t.sub == "scale":
        return respond(to_scale(t, obj))
    obj = _wire(t, obj)
    if _wants_table(request):
        return respond(tables.table(t.kind, [obj], request, cluster))
    return respond(obj)


def list_(request, cluster, t: Target) -> web.Response:
    q = request.query
    params.check_list(q, watching=False)
    label = parse_labels(q.get("labelSelector"))
    field = parse_fields(q.get("fieldSelector"), t.kind.key, t.kind.kind, t.version)
    rv = str(cluster.store.resource_version)
    scope = t.namespace if t.kind.namespaced else None
    provider = _provider(cluster, t)

    def items_after(start: str | None):
        if provider is None and scope is not None and not label and not field:
            # a namespace's run of the store's sorted keys: a page starts where
            # the last ended (5,000 pods in pages of 500: no scan from the top)
            return cluster.store.scan(t.kind.key, scope,
                                      after=tuple(start.split("/", 1)) if start else None)
        items = (provider.list(scope) if provider is not None
                 else cluster.store.scan(t.kind.key, scope))
        if label:
            items = (o for o in items if label(o["metadata"].get("labels")))
        if field:
            items = (o for o in items if field(o))
        return paging.after(items, start)
    chosen, cont, remaining = page(items_after, q.get("limit"), q.get("continue"), rv)
    items = [_wire(t, o) for o in chosen]
    meta = {"resourceVersion": rv}
    if cont:
        meta["continue"] = cont
        meta["remainingItemCount"] = remaining
    if _wants_table(request):
        out = tables.table(t.kind, items, request, cluster)
        out["metadata"].update(meta)
        return respond_list(out, "rows")
    return respond_list({"kind": f"{t.kind.kind}List", "apiVersion": t.kind.api_version(t.version),
                         "metadata": meta, "items": items}, "items")


# -- writes ------------------------------------------------------------------
def _body_object(request, raw: bytes, t: Target) -> dict:
    obj = codec.parse_object(raw, codec.media_type(request) or "application/json")
    want = t.kind.api_version(t.version)
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if t.sub == "scale":
        return obj
    # like the real decoder, a missing kind/apiVersion defaults to the URL's
    kind = obj["kind"] = kind or t.kind.kind
    api_version = obj["apiVersion"] = api_version or want
    if kind != t.kind.kind or api_version != want:
        if not (kind == t.kind.kind and api_version in
                [t.kind.api_version(v) for v in t.kind.versions]):
            raise bad_request(f"the API version in the data ({api_version}) does not match the "
                              f"expected API version ({want})" if kind == t.kind.kind else
                              f"the kind in the data ({kind}) does not match the expected kind "
                              f"({t.kind.kind}) for {t.kind.key}")
    if obj.get("metadata") is None:
        obj["metadata"] = {}
    if not isinstance(obj["metadata"], dict):
        version = api_version.rpartition("/")[2] if isinstance(api_version, str) else t.version
        raise bad_request(f'{t.kind.kind} in version "{version}" cannot be handled as a '
                          f"{t.kind.kind}: " + (fields.decode_error(t.kind, version, obj)
                                                or "metadata must be an object"))
    return obj


def track(request, cluster, t: Target, old: dict | None, new: dict) -> None:
    """Record an Update by the request's field manager in new's managedFields."""
    if request is None or t.sub not in (None, "scale"):
        return
    version = (new.get("apiVersion") or "").rpartition("/")[2] or t.version
    m = fields.model_for(t.kind, version)
    try:
        managed.record_update(old, new, m.__name__ if m else None, managed.manager_of(request),
                              t.kind.api_version(version), cluster.clock.stamp())
    except Exception:  # bookkeeping must never fail a write
        log.exception("managedFields for %s", t.kind.key)


def _prepare(request, t: Target, obj: dict, headers: dict) -> dict:
    """Namespace, unknown fields (fieldValidation) and the storage version."""
    meta = obj["metadata"]
    if t.kind.namespaced:
        if meta.get("namespace") and meta["namespace"] != t.namespace:
            raise bad_request("the namespace of the provided object does not match the "
                              "namespace sent on the request")
        meta["namespace"] = t.namespace
    else:
        meta.pop("namespace", None)
    version = obj.get("apiVersion", "").rpartition("/")[2] or t.version
    fields.validate(request, t.kind, version, obj, headers)
    return conversion.to_storage(t.kind, obj, version)


async def create(request, cluster, t: Target) -> web.Response:
    if t.sub == "exec":  # SPDY clients POST here
        from console.embedded.api import exec as exec_
        return await exec_.serve(request, cluster, t)
    if t.sub == "portforward":
        from console.embedded.api import portforward
        return await portforward.serve(request, cluster, t)
    if t.name is not None:
        raise ApiError(405, "the server does not allow this method on the requested resource",
                       "MethodNotAllowed")
    check_namespace(cluster, t)
    raw = await request.read()
    dry = _dry_run(request)
    if t.kind.key in reviews.REVIEWS:
        # a body that does not decode is an empty question
        try:
            obj = _body_object(request, raw, t)
        except ApiError:
            obj = {}
        obj.update(kind=t.kind.kind, apiVersion=t.kind.api_version(t.version))
        return respond(reviews.review(t.kind.key, obj, cluster.clock.stamp(),
                                      request[USER]), 201)
    obj = _body_object(request, raw, t)
    headers: dict = {}
    obj["metadata"].pop("managedFields", None)
    track(request, cluster, t, None, obj)
    obj = _prepare(request, t, obj, headers)
    name = obj["metadata"].get("name") or ""
    if not name and not obj["metadata"].get("generateName"):
        raise invalid(t.kind.kind, "", [("metadata.name", "Required value: name or "
                                         "generateName is required")], t.kind.group,
                      "FieldValueRequired")
    said: list[str] = []
    try:
        out = cluster.registry.create(t.kind.key, obj, dry_run=dry, warnings=said)
    except (Conflict, Invalid, NotFound, Forbidden) as exc:
        raise _rest_error(t, exc, name)
    fields.warn(headers, said)
    return respond(_wire(t, out), 201, headers)


async def update(request, cluster, t: Target) -> web.Response:
    if t.name is None:
        raise ApiError(405, "the server does not allow this method on the requested resource",
                       "MethodNotAllowed")
    dry = _dry_run(request, "UpdateOptions")
    obj = _body_object(request, await request.read(), t)
    headers: dict = {}
    if t.sub == "scale":
        return respond(_update_scale(cluster, t, obj, dry, request))
    if obj["metadata"].get("name") and obj["metadata"]["name"] != t.name:
        raise bad_request(f"the name of the object ({obj['metadata']['name']}) does not match "
                          f"the name on the URL ({t.name})")
    obj["metadata"]["name"] = t.name
    current = cluster.store.get(t.kind.key, t.namespace or "", t.name)
    if current is not None:
        track(request, cluster, t, _wire(t, current), obj)
    obj = _prepare(request, t, obj, headers)
    return respond(_wire(t, write(cluster, t, obj, dry, headers)), 200, headers)


def write(cluster, t: Target, obj: dict, dry_run: bool = False, headers: dict | None = None) -> dict:
    said: list[str] = []
    try:
        out = cluster.registry.update(t.kind.key, obj, subresource=t.sub, dry_run=dry_run,
                                      warnings=said)
    except (Conflict, Invalid, NotFound, Forbidden) as exc:
        raise _rest_error(t, exc, t.name or "")
    if headers is not None:
        fields.warn(headers, said)
    return out


async def delete(request, cluster, t: Target) -> web.Response:
    opts = await _delete_options(request)
    if t.name is None:
        return await _delete_collection(request, cluster, t, opts)
    if t.sub is not None:
        raise ApiError(405, "the server does not allow this method on the requested resource",
                       "MethodNotAllowed")
    current = cluster.store.get(t.kind.key, t.namespace or "", t.name)
    if current is None:
        raise not_found(t.kind.resource, t.name, t.kind.group)
    pre = opts.get("preconditions") or {}
    for key in ("uid", "resourceVersion"):
        if pre.get(key) and pre[key] != current["metadata"].get(key):
            raise ApiError(409, f"Precondition failed: {key} in precondition: {pre[key]}, {key} "
                           f"in object meta: {current['metadata'].get(key)}", "Conflict")
    try:
        out = cluster.registry.delete(t.kind.key, t.namespace or "", t.name,
                                      grace_seconds=opts.get("gracePeriodSeconds"),
                                      propagation=_propagation(t, opts),
                                      dry_run="All" in (opts.get("dryRun") or []))
    except (Conflict, Invalid, NotFound, Forbidden) as exc:
        raise _rest_error(t, exc, t.name)
    # as the apiserver's delete handler: the object while it is still there (graceful
    # deletion, finalizers), 202 only when the client asked orphanDependents=false; once
    # gone, the object for registries with ReturnDeletedObject, else a Status
    still = cluster.store.get(t.kind.key, t.namespace or "", t.name)
    if still is not None:
        return respond(_wire(t, still), 202 if opts.get("orphanDependents") is False else 200)
    if t.kind.returns_deleted:
        return respond(_wire(t, out))
    return respond(success({"name": t.name, "group": t.kind.group, "kind": t.kind.resource,
                            "uid": out["metadata"].get("uid")}))


def _propagation(t: Target, opts: dict) -> str | None:
    p = opts.get("propagationPolicy")
    if p is None and opts.get("orphanDependents") is True:
        return "Orphan"
    return p


async def _delete_options(request) -> dict:
    opts: dict = {}
    raw = await request.read()
    if raw.strip():
        body = codec.parse(raw, codec.media_type(request) or "application/json")
        err = fields.type_error(body, "V1DeleteOptions", "")
        if err:
            raise bad_request(err)
        opts.update(body)
    q = request.query
    if "gracePeriodSeconds" in q:
        opts["gracePeriodSeconds"] = params.int64(q, "gracePeriodSeconds")
    if "propagationPolicy" in q:
        opts["propagationPolicy"] = q["propagationPolicy"]
    if "orphanDependents" in q:
        opts["orphanDependents"] = params.flag(q, "orphanDependents")
    if "dryRun" in q:
        opts["dryRun"] = q.getall("dryRun")
    params.check_delete(opts)
    return opts


async def _delete_collection(request, cluster, t: Target, opts: dict) -> web.Response:
    label = parse_labels(request.query.get("labelSelector"))
    field = parse_fields(request.query.get("fieldSelector"), t.kind.key, t.kind.kind, t.version)
    items = [o for o in cluster.store.scan(t.kind.key, t.namespace if t.kind.namespaced else None)
             if (label is None or label(o["metadata"].get("labels")))
             and (field is None or field(o))]
    names = [(o["metadata"].get("namespace") or "", o["metadata"]["name"]) for o in items]
    gone = []
    for ns, name in names:
        try:
            gone.append(cluster.registry.delete(t.kind.key, ns, name,
                                                grace_seconds=opts.get("gracePeriodSeconds"),
                                                propagation=_propagation(t, opts),
                                                dry_run="All" in (opts.get("dryRun") or [])))
        except (NotFound, Forbidden):
            continue
    return respond({"kind": f"{t.kind.kind}List", "apiVersion": t.kind.api_version(t.version),
                    "metadata": {"resourceVersion": str(cluster.store.resource_version)},
                    "items": [_wire(t, o) for o in gone]})


# -- scale subresource -------------------------------------------------------
def to_scale(t: Target, obj: dict) -> dict:
    meta = obj["metadata"]
    sel = (obj.get("spec") or {}).get("selector")
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                               "creationTimestamp") if k in meta},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": selector_string(sel)}}


def _update_scale(cluster, t: Target, scale: dict, dry_run: bool, request=None) -> dict:
    err = fields.type_error(scale, "V1Scale", "")
    if err:
        raise bad_request(f'Scale in version "v1" cannot be handled as a Scale: {err}')
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise invalid("Scale", t.name or "", [("spec.replicas", f"Invalid value: {json.dumps(replicas)}: "
                                                "must be greater than or equal to 0")],
                      "autoscaling")
    obj = cluster.store.get(t.kind.key, t.namespace or "", t.name)
    if obj is None:
        raise not_found(t.kind.resource, t.name or "", t.kind.group)
    want_rv = (scale.get("metadata") or {}).get("resourceVersion")
    if want_rv:
        obj["metadata"]["resourceVersion"] = want_rv
    before = _wire(t, obj)
    obj = _wire(t, copy.deepcopy(obj))
    obj.setdefault("spec", {})["replicas"] = replicas
    full = Target(t.kind, t.version, t.namespace, t.name, None)
    track(request, cluster, full, before, obj)
    obj = conversion.to_storage(t.kind, obj, t.version)
    return to_scale(t, write(cluster, full, obj, dry_run))

"""PATCH on objects and their status/scale subresources, and server-side apply.

The patch is applied to the object in the request's version, then converted
back to storage; without a resourceVersion in the patch, a conflict with a
concurrent writer is retried (as the real server does), never surfaced.
"""

from console.embedded.api import apply, codec, conversion, fields, handlers, params
from console.embedded.api.fields import model_for
from console.embedded.api.patch import json_patch, merge_patch, strategic
from console.embedded.api.status import ApiError, bad_request, not_found, respond
from console.embedded.store import Conflict

APPLY = "application/apply-patch+yaml"


async def patch(request, cluster, t) -> object:
    if t.name is None:
        raise ApiError(405, "the server does not allow this method on the requested resource",
                       "MethodNotAllowed")
    ctype = codec.media_type(request)
    body = codec.parse(await request.read(), ctype, codec.PATCH_TYPES)
    dry = params.check_write(request.query, "PatchOptions")
    if ctype == APPLY and not request.query.get("fieldManager"):
        raise ApiError(422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required '
                       "value: is required for apply patch", "Invalid")
    if ctype in (APPLY, "application/merge-patch+json",
                 "application/strategic-merge-patch+json") and not isinstance(body, dict):
        raise bad_request("the patch must be a JSON object")
    for _ in range(5):
        current = cluster.store.get(t.kind.key, t.namespace or "", t.name)
        if current is None:
            if ctype == APPLY and t.sub is None:
                return await _apply_create(request, cluster, t, body, dry)
            raise not_found(t.kind.resource, t.name, t.kind.group)
        rv = current["metadata"]["resourceVersion"]
        if t.sub == "scale":
            doc = handlers.to_scale(t, current)
            model = "V1Scale"
        else:
            doc = conversion.to_wire(t.kind, current, t.version)
            m = model_for(t.kind, t.version)
            model = m.__name__ if m else None
        if ctype == APPLY:
            err = (fields.type_error(body, "V1Scale", "") if t.sub == "scale"
                   else fields.decode_error(t.kind, t.version, body))
            if err:
                raise fields.patch_invalid(body, err)
            new = apply.apply(doc, body, model, request.query["fieldManager"],
                              t.kind.api_version(t.version), cluster.clock.stamp(),
                              force=params.flag(request.query, "force"))
        else:
            new = _apply(ctype, doc, body, model)
        if not isinstance(new, dict):
            raise fields.patch_invalid(new, "the patched object is not a JSON object")
        version = new.get("apiVersion")
        version = version.rpartition("/")[2] if isinstance(version, str) and version else t.version
        err = (fields.type_error(new, "V1Scale", "") if t.sub == "scale"
               else fields.decode_error(t.kind, version, new))
        if err:  # what Go's decoder refuses in the patched object (patch.go: 422 on "patch")
            raise fields.patch_invalid(new, err)
        if new.get("metadata") is None:
            new["metadata"] = {}
        if ctype != APPLY and t.sub is None:
            handlers.track(request, cluster, t, doc, new)
        meta = new["metadata"]
        if meta.get("name") != t.name:
            raise bad_request(f"the name of the object ({meta.get('name') or ''}) does not match the "
                              f"name on the URL ({t.name})")
        pinned = bool(meta.get("resourceVersion")) and meta["resourceVersion"] != rv
        if not meta.get("resourceVersion"):
            meta["resourceVersion"] = rv
        try:
            if t.sub == "scale":
                return respond(handlers._update_scale(cluster, t, new, dry, request))
            headers: dict = {}
            fields.validate(request, t.kind, version, new, headers)
            stored = conversion.to_storage(t.kind, new, version)
            said: list[str] = []
            out = cluster.registry.update(t.kind.key, stored, subresource=t.sub, dry_run=dry,
                                          warnings=said)
            fields.warn(headers, said)
            return respond(conversion.to_wire(t.kind, out, t.version), 200, headers)
        except Conflict as exc:
            if pinned or exc.reason != "Conflict":
                raise handlers._rest_error(t, exc, t.name)
            continue
        except ApiError as exc:
            if exc.code == 409 and not pinned:
                continue
            raise
        except Exception as exc:  # Invalid / NotFound from the registry
            raise handlers._rest_error(t, exc, t.name)
    raise ApiError(409, f'Operation cannot be fulfilled on {t.kind.key} "{t.name}": too many '
                   "conflicts", "Conflict")


def _apply(ctype: str, doc: dict, body, model):
    if ctype == "application/json-patch+json":
        return json_patch(doc, body)
    if ctype == "application/merge-patch+json":
        return merge_patch(doc, body)
    return strategic(doc, body, model)


async def _apply_create(request, cluster, t, body: dict, dry: bool):
    handlers.check_namespace(cluster, t)
    if body.get("kind") != t.kind.kind:
        raise bad_request(f"the kind in the data ({body.get('kind')}) does not match the "
                          f"expected kind ({t.kind.kind})")
    meta = body.setdefault("metadata", {})
    meta["name"] = meta.get("name") or t.name
    if meta["name"] != t.name:
        raise bad_request(f"the name of the object ({meta['name']}) does not match the name "
                          f"on the URL ({t.name})")
    headers: dict = {}
    m = model_for(t.kind, (body.get("apiVersion") or "").rpartition("/")[2] or t.version)
    body = apply.apply(None, body, m.__name__ if m else None, request.query["fieldManager"],
                       body.get("apiVersion") or t.kind.api_version(t.version),
                       cluster.clock.stamp())
    obj = handlers._prepare(request, t, body, headers)
    said: list[str] = []
    try:
        out = cluster.registry.create(t.kind.key, obj, dry_run=dry, warnings=said)
    except Exception as exc:
        raise handlers._rest_error(t, exc, t.name)
    fields.warn(headers, said)
    return respond(conversion.to_wire(t.kind, out, t.version), 201, headers)

"""Discovery in both forms: aggregated (apidiscovery.k8s.io v2 / v2beta1, chosen
by the Accept header and echoed in Content-Type) and the plain documents
(/api, /apis, /api/v1, /apis/G, /apis/G/V), of one cluster's Catalogue."""

import json

from aiohttp import web

from console.embedded import kinds
from console.embedded.kinds import Catalogue
from console.embedded.api.status import ApiError, Unavailable, respond

SUB_VERBS = {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"],
             "log": ["get"], "finalize": ["update"], "exec": ["create", "get"],
             "portforward": ["create", "get"]}


def _sub_kind(k: kinds.Kind, sub: str, version: str) -> tuple[str, str, str]:
    if sub == "scale":
        return "autoscaling", "v1", "Scale"
    if sub == "exec":
        return "", "v1", "PodExecOptions"
    if sub == "portforward":
        return "", "v1", "PodPortForwardOptions"
    return k.group, version, k.kind


def _aggregated_type(request) -> str | None:
    accept = request.headers.get("Accept", "")
    for v in ("v2", "v2beta1"):
        for part in accept.split(","):
            p = part.replace(" ", "")
            if "as=APIGroupDiscoveryList" in p and f"v={v};" in p + ";" and "g=apidiscovery.k8s.io" in p:
                return f"application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList"
    return None


def _resource_doc(k: kinds.Kind, version: str) -> dict:
    doc = {"resource": k.resource,
           "responseKind": {"group": k.group, "version": version, "kind": k.kind},
           "scope": "Namespaced" if k.namespaced else "Cluster",
           "singularResource": k.singular, "verbs": list(k.verbs)}
    if k.short:
        doc["shortNames"] = list(k.short)
    if k.categories:
        doc["categories"] = list(k.categories)
    subs = []
    for s in k.subresources:
        g, v, kind = _sub_kind(k, s, version)
        subs.append({"subresource": s, "responseKind": {"group": g, "version": v, "kind": kind},
                     "verbs": SUB_VERBS.get(s, ["get"])})
    if subs:
        doc["subresources"] = subs
    return doc


def _down(cat: Catalogue, ks: list) -> bool:
    """Served by an aggregated API server that is unavailable now."""
    return any((p := cat.provider(k.key)) is not None and p.unavailable() is not None
               for k in ks)


def _aggregated(cat: Catalogue, core: bool, ctype: str) -> web.Response:
    items = []
    for group, versions in cat.groups().items():
        if (group == "") != core:
            continue
        docs = []
        for v in versions:
            ks = cat.in_version(group, v)
            # the aggregator keeps a backend's last document but marks it Stale;
            # clients then leave the version out
            docs.append({"version": v, "freshness": "Stale" if _down(cat, ks) else "Current",
                         "resources": [_resource_doc(k, v) for k in ks]})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": docs})
    api_version = ctype.split("v=")[1].split(";")[0]
    body = {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{api_version}",
            "metadata": {}, "items": items}
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(),
                        headers={"Content-Type": ctype, "Vary": "Accept"})


async def api_root(request, cat: Catalogue) -> web.Response:
    ctype = _aggregated_type(request)
    if ctype:
        return _aggregated(cat, True, ctype)
    host = request.host or "127.0.0.1"
    return respond({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}, headers={"Vary": "Accept"})


def _group_doc(group: str, versions: list[str]) -> dict:
    vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": vs, "preferredVersion": vs[0]}


async def apis_root(request, cat: Catalogue) -> web.Response:
    ctype = _aggregated_type(request)
    if ctype:
        return _aggregated(cat, False, ctype)
    groups = [_group_doc(g, vs) for g, vs in cat.groups().items() if g]
    return respond({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups},
                   headers={"Vary": "Accept"})


def group(cat: Catalogue, name: str) -> web.Response:
    versions = cat.groups().get(name)
    if not name or not versions:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    return respond({"kind": "APIGroup", "apiVersion": "v1", **_group_doc(name, versions)})


def resource_list(cat: Catalogue, group: str, version: str) -> web.Response:
    ks = cat.in_version(group, version)
    if not ks:
        raise ApiError(404, "the server could not find the requested resource", "NotFound")
    if _down(cat, ks):
        raise Unavailable(f"{group}/{version}")
    resources = []
    for k in ks:
        doc = {"name": k.resource, "singularName": k.singular, "namespaced": k.namespaced,
               "kind": k.kind, "verbs": list(k.verbs)}
        if k.short:
            doc["shortNames"] = list(k.short)
        if k.categories:
            doc["categories"] = list(k.categories)
        resources.append(doc)
        for s in k.subresources:
            g, v, kind = _sub_kind(k, s, version)
            sub = {"name": f"{k.resource}/{s}", "singularName": "", "namespaced": k.namespaced,
                   "kind": kind, "verbs": SUB_VERBS.get(s, ["get"])}
            if s == "scale":
                sub.update(group=g, version=v)
            resources.append(sub)
    gv = f"{group}/{version}" if group else version
    return respond({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
                    "resources": resources})

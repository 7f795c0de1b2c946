"""/metrics: a few of kube-apiserver's own gauges in the Prometheus text format
(open watches per resource, stored objects per resource)."""

from aiohttp import web

from console.embedded import kinds

WATCHES: dict[str, int] = {}  # resource key -> open watch streams


def opened(key: str) -> None:
    WATCHES[key] = WATCHES.get(key, 0) + 1


def closed(key: str) -> None:
    WATCHES[key] = max(0, WATCHES.get(key, 0) - 1)


def render(cluster) -> str:
    lines = ["# HELP apiserver_longrunning_requests [STABLE] Gauge of all active long-running "
             "apiserver requests broken out by verb, group, version, resource, scope and "
             "component. Not all requests are tracked this way.",
             "# TYPE apiserver_longrunning_requests gauge"]
    for key, n in sorted(WATCHES.items()):
        k = kinds.by_key(key)
        group = k.group if k else ""
        resource = k.resource if k else key
        lines.append(f'apiserver_longrunning_requests{{component="apiserver",group="{group}",'
                     f'resource="{resource}",scope="resource",subresource="",verb="WATCH",'
                     f'version=""}} {n}')
    lines += ["# HELP apiserver_storage_objects [STABLE] Number of stored objects at the time "
              "of last check split by kind.", "# TYPE apiserver_storage_objects gauge"]
    for k in kinds.KINDS:
        lines.append(f'apiserver_storage_objects{{resource="{k.key}"}} '
                     f"{cluster.store.count(k.key)}")
    return "\n".join(lines) + "\n"


async def serve(request) -> web.Response:
    from console.embedded.server import CLUSTER
    return web.Response(text=render(request.app[CLUSTER]),
                        content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})

"""/metrics: a few of kube-apiserver's own gauges in the Prometheus text format
(open watches per resource, stored objects per resource).

The gauges belong to one API server (one aiohttp app, `server.make_app`), not
to the process: two clusters in one process count their own watches.
"""

from aiohttp import web


class Gauges:
    def __init__(self):
        self.watches: dict[str, int] = {}  # resource key -> open watch streams

    def opened(self, key: str) -> None:
        self.watches[key] = self.watches.get(key, 0) + 1

    def closed(self, key: str) -> None:
        self.watches[key] = max(0, self.watches.get(key, 0) - 1)

    def render(self, cluster) -> str:
        lines = ["# HELP apiserver_longrunning_requests [STABLE] Gauge of all active "
                 "long-running apiserver requests broken out by verb, group, version, "
                 "resource, scope and component. Not all requests are tracked this way.",
                 "# TYPE apiserver_longrunning_requests gauge"]
        for key, n in sorted(self.watches.items()):
            k = cluster.kinds.by_key(key)
            group = k.group if k else ""
            resource = k.resource if k else key
            lines.append(f'apiserver_longrunning_requests{{component="apiserver",group="{group}",'
                         f'resource="{resource}",scope="resource",subresource="",verb="WATCH",'
                         f'version=""}} {n}')
        lines += ["# HELP apiserver_storage_objects [STABLE] Number of stored objects at the "
                  "time of last check split by kind.", "# TYPE apiserver_storage_objects gauge"]
        for k in cluster.kinds:
            if cluster.kinds.provider(k.key) is None:
                lines.append(f'apiserver_storage_objects{{resource="{k.key}"}} '
                             f"{cluster.store.count(k.key)}")
        return "\n".join(lines) + "\n"


GAUGES = web.AppKey("gauges", Gauges)  # where make_app keeps its app's Gauges


async def serve(request, cluster) -> web.Response:
    return web.Response(text=request.app[GAUGES].render(cluster),
                        content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})

"""Test hooks on the API server, for the cluster's administrator only (the run's token):

    POST /kubelab/admin/drop-watches            end every watch stream now, as a
                                                flaky network or an API server's
                                                graceful restart would
    POST /kubelab/admin/drop-watches?reset=1    cut their connections instead (no end
                                                of stream: the client sees a reset)
    POST /kubelab/admin/compact                 forget the watch history, as etcd
                                                compaction does: every watch resumed
                                                from an older resourceVersion gets
                                                410 Expired and must relist

Each answers JSON ({"dropped": N} / {"resourceVersion": "N"}). A restricted user's
token gets 403. `console.embedded.launch.RunningCluster.drop_watches()` and
`.compact()` call them.
"""

from aiohttp import web

from console.embedded.api.status import USER, ApiError, respond

PREFIX = "/kubelab/admin/"


def _admin_only(request) -> None:
    user = request.get(USER)
    if user is None or not user.admin:
        name = getattr(user, "name", "")
        raise ApiError(403, f'forbidden: User "{name}" cannot post path "{request.path}"',
                       "Forbidden")


def routes(router, cluster) -> None:
    async def drop_watches(request):
        _admin_only(request)
        reset = request.query.get("reset") in ("1", "true")
        return respond({"dropped": cluster.store.drop_watches(reset=reset)})

    async def compact(request):
        _admin_only(request)
        return respond({"resourceVersion": str(cluster.store.compact())})

    async def refuse(request):
        _admin_only(request)
        raise web.HTTPMethodNotAllowed(request.method, ["POST"])

    router.add_post(PREFIX + "drop-watches", drop_watches)
    router.add_post(PREFIX + "compact", compact)
    router.add_get(PREFIX + "{tail:.*}", refuse)

"""GET pods/{name}/log: asks the kubelet (cluster.kubelet, when it is built):
logs(namespace, pod, container=None, previous=False) -> list[str] | None and,
for follow, follow(namespace, pod, container) -> async iterator of lines."""

import asyncio

from aiohttp import web

from console.embedded.api.status import bad_request, not_found


def _container(pod: dict, name: str | None) -> str:
    names = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    if name:
        inits = [c["name"] for c in (pod.get("spec") or {}).get("initContainers") or []]
        if name not in names + inits:
            raise bad_request(f"container {name} is not valid for pod {pod['metadata']['name']}")
        return name
    if len(names) == 1:
        return names[0]
    raise bad_request(f"a container name must be specified for pod {pod['metadata']['name']}, "
                      f"choose one of: [{' '.join(names)}]")


def _format(line: str, timestamps: bool) -> str:
    # kubelet lines may carry "<RFC3339> text"; without ?timestamps the stamp goes
    if timestamps or " " not in line or not line[:4].isdigit():
        return line
    return line.split(" ", 1)[1]


async def serve(request, cluster, t) -> web.StreamResponse:
    pod = cluster.store.get("pods", t.namespace or "", t.name)
    if pod is None:
        raise not_found("pods", t.name)
    q = request.query
    container = _container(pod, q.get("container"))
    previous = q.get("previous") in ("true", "1")
    timestamps = q.get("timestamps") in ("true", "1")
    tail = None
    if q.get("tailLines"):
        try:
            tail = int(q["tailLines"])
        except ValueError:
            raise bad_request(f"tailLines: invalid value {q['tailLines']!r}")
    kubelet = getattr(cluster, "kubelet", None)
    if kubelet is None:
        raise bad_request(f'container "{container}" in pod "{t.name}" is waiting to start: '
                          "ContainerCreating")
    lines = kubelet.logs(t.namespace, t.name, container, previous)
    if lines is None:
        if previous:
            raise bad_request(f'previous terminated container "{container}" in pod '
                              f'"{t.name}" not found')
        raise bad_request(f'container "{container}" in pod "{t.name}" is waiting to start: '
                          "ContainerCreating")
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    text = "".join(_format(line, timestamps).rstrip("\n") + "\n" for line in lines)
    follow = q.get("follow") in ("true", "1") and hasattr(kubelet, "follow") and not previous
    if not follow:
        return web.Response(text=text, content_type="text/plain")
    resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    try:
        lines_after = kubelet.follow(t.namespace, t.name, container)
    except KeyError:  # the pod's worker went away meanwhile
        lines_after = None
    async def pump():
        await resp.write(text.encode())
        if lines_after is not None:
            async for line in lines_after:
                await resp.write((_format(line, timestamps).rstrip("\n") + "\n").encode())
        await resp.write_eof()

    task = asyncio.ensure_future(pump())
    try:
        # aiohttp does not cancel us when the client goes; a quiet container would
        # keep this stream forever, so look now and then
        while not task.done():
            await asyncio.wait([task], timeout=2.0)
            if not task.done() and (request.transport is None or request.transport.is_closing()):
                task.cancel()
        await task
    except (ConnectionResetError, asyncio.CancelledError):
        if not task.cancelled() and not task.done():
            task.cancel()
        if asyncio.current_task().cancelling():
            raise
    return resp


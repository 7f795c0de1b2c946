"""pods/{name}/exec over WebSocket, the way kubectl 1.30+ speaks it
(v5.channel.k8s.io / v4.channel.k8s.io: one byte of channel, then data;
0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 resize, 255 close stdin).

The kubelet runs commands whole (`cluster.kubelet.exec(ns, pod, container, argv)
-> (exit code, output)`), so output arrives when a command ends. With a tty and
a shell, lines typed are echoed and run one by one, like a terminal would show;
stdin without a tty is read to its end and given to the shell as a script.
SPDY (kubectl before 1.30) is answered with a 400 that says so.
"""

import json

from aiohttp import WSMsgType, web

from console.embedded.api.logs import _container
from console.embedded.api.status import ApiError, bad_request, not_found

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
SHELLS = {"sh", "bash", "ash", "/bin/sh", "/bin/bash", "/bin/ash", "/usr/bin/bash"}
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
PROMPT = "/ # "


def _status(code: int, argv: list[str]) -> dict:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command "
                       f"{argv}, exit code {code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def _flag(q, name: str) -> bool:
    return q.get(name) in ("true", "1")


async def serve(request, cluster, t) -> web.StreamResponse:
    q = request.query
    argv = q.getall("command", [])
    pod = cluster.store.get("pods", t.namespace or "", t.name)
    if pod is None:
        raise not_found("pods", t.name)
    if not argv:
        raise bad_request("you must specify at least one command for the container")
    container = _container(pod, q.get("container"))
    if not (pod.get("spec") or {}).get("nodeName"):
        raise bad_request(f"pod {t.name} does not have a host assigned")
    kubelet = getattr(cluster, "kubelet", None)
    c = kubelet.container(t.namespace, t.name, container) if kubelet else None
    if c is None or getattr(c, "state", None) != "running":
        raise bad_request(f'unable to upgrade connection: container not found ("{container}")')
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise ApiError(400, "exec needs a WebSocket upgrade (v5.channel.k8s.io); this client "
                       "offered " + (request.headers.get("Upgrade") or "none") +
                       " (kubectl 1.30 or newer speaks WebSocket)", "BadRequest")
    ws = web.WebSocketResponse(protocols=PROTOCOLS, heartbeat=30)
    await ws.prepare(request)

    async def run(args: list[str]) -> tuple[int, str]:
        got = await kubelet.exec(t.namespace, t.name, container, args)
        if got is None:
            return 126, f"container {container} is not running\n"
        return got

    try:
        if _flag(q, "tty") and _flag(q, "stdin") and argv[0] in SHELLS and len(argv) == 1:
            code = await _terminal(ws, run)
        else:
            if _flag(q, "stdin") and argv[0] in SHELLS and len(argv) == 1:
                script = await _read_stdin(ws)
                argv = [argv[0], "-c", script]
            code, out = await run(argv)
            if out:
                await _send(ws, STDOUT, out.replace("\n", "\r\n") if _flag(q, "tty") else out)
        await _send(ws, ERROR, json.dumps(_status(code, argv)))
    except (ConnectionResetError, RuntimeError):
        pass
    finally:
        await ws.close()
    return ws


async def _send(ws, channel: int, text: str) -> None:
    await ws.send_bytes(bytes([channel]) + text.encode())


async def _read_stdin(ws) -> str:
    data = bytearray()
    async for msg in ws:
        if msg.type != WSMsgType.BINARY or not msg.data:
            if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
            continue
        channel, payload = msg.data[0], msg.data[1:]
        if channel == STDIN:
            data += payload
        elif channel == CLOSE:
            break
    return data.decode(errors="replace")


async def _terminal(ws, run) -> int:
    """A line at a time: echo what is typed, run it on Enter, show a prompt."""
    await _send(ws, STDOUT, PROMPT)
    line = ""
    code = 0
    async for msg in ws:
        if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break
        if msg.type != WSMsgType.BINARY or not msg.data or msg.data[0] != STDIN:
            if msg.type == WSMsgType.BINARY and msg.data and msg.data[0] == CLOSE:
                break
            continue
        for ch in msg.data[1:].decode(errors="replace"):
            if ch in ("\r", "\n"):
                await _send(ws, STDOUT, "\r\n")
                cmd, line = line.strip(), ""
                if cmd in ("exit", "logout"):
                    return code
                if cmd:
                    code, out = await run(["sh", "-c", cmd])
                    if out:
                        await _send(ws, STDOUT, out.replace("\r\n", "\n").replace("\n", "\r\n"))
                await _send(ws, STDOUT, PROMPT)
            elif ch == "\x04" and not line:  # Ctrl-D on an empty line
                return code
            elif ch == "\x03":  # Ctrl-C drops the line
                line = ""
                await _send(ws, STDOUT, "^C\r\n" + PROMPT)
            elif ch in ("\x7f", "\b"):
                if line:
                    line = line[:-1]
                    await _send(ws, STDOUT, "\b \b")
            elif ch >= " ":
                line += ch
                await _send(ws, STDOUT, ch)
    return code

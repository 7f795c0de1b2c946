"""curl and wget inside a simulated container: real HTTP to the apps of the
cluster (localhost, pod IPs, Service names and ClusterIPs), through the
resolver the kubelet gives the shell as `sh.net`."""

import asyncio
from urllib.parse import urlsplit

from console.embedded.apps.base import REASONS, Request
from console.embedded.apps.builtins import command


async def fetch(sh, method: str, url: str, body: bytes, timeout: float):
    """(status, body) | raises LookupError (no such host) | ConnectionRefusedError |
    ConnectionResetError (the app died holding it) | asyncio.TimeoutError."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    net = getattr(sh, "net", None)
    if net is None:
        raise LookupError(host)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    req = Request(method, target, {"host": f"{host}:{port}", "user-agent": "curl/8.5.0"}, body,
                  client=sh.env.get("POD_IP", "10.244.0.1"))
    resp = await asyncio.wait_for(net.request(host, port, req), sh_timeout(sh, timeout))
    return resp.status, resp.body


def sh_timeout(sh, sim_seconds: float) -> float:
    clock = getattr(getattr(sh, "sleep_fn", None), "__self__", None)
    return clock.real(sim_seconds) if clock is not None and hasattr(clock, "real") else sim_seconds


@command("curl")
async def _curl(sh, argv, io):
    method, data, url, out_file = None, None, None, None
    silent = show_error = fail = head = include = False
    args = iter(argv[1:])
    for a in args:
        if a in ("-X", "--request"):
            method = next(args, "GET")
        elif a in ("-d", "--data", "--data-raw", "--data-binary"):
            data = next(args, "")
        elif a in ("-o", "--output"):
            out_file = next(args, None)
        elif a in ("-H", "--header", "-m", "--max-time", "--connect-timeout", "-w", "-A"):
            next(args, None)
        elif a.startswith("--"):
            silent |= a == "--silent"
            fail |= a == "--fail"
            show_error |= a == "--show-error"
            head |= a == "--head"
            include |= a == "--include"
        elif a.startswith("-") and len(a) > 1:
            silent |= "s" in a
            show_error |= "S" in a
            fail |= "f" in a
            head |= "I" in a
            include |= "i" in a
        else:
            url = a
    if url is None:
        io.err("curl: no URL specified!\ncurl: try 'curl --help' for more information\n")
        return 2
    method = method or ("HEAD" if head else "POST" if data is not None else "GET")
    quiet = silent and not show_error

    def error(code: int, text: str) -> int:
        if not quiet:
            io.err(f"curl: ({code}) {text}\n")
        return code

    host = urlsplit(url if "://" in url else "http://" + url)
    try:
        status, body = await fetch(sh, method, url, (data or "").encode(), 30)
    except LookupError:
        return error(6, f"Could not resolve host: {host.hostname}")
    except ConnectionRefusedError:
        return error(7, f"Failed to connect to {host.hostname} port {host.port or 80} after 0 ms: "
                        "Couldn't connect to server")
    except ConnectionResetError:
        return error(56, "Recv failure: Connection reset by peer")
    except asyncio.TimeoutError:
        return error(28, "Operation timed out")
    if fail and status >= 400:
        return error(22, f"The requested URL returned error: {status}")
    text = body.decode(errors="replace")
    if head or include:
        text = f"HTTP/1.1 {status} {REASONS.get(status, '')}\r\n\r\n" + ("" if head else text)
    if out_file:
        sh.fs.write(sh.fs.norm(out_file, sh.cwd), text.encode())
    else:
        io.out(text)
    return 0


@command("wget")
async def _wget(sh, argv, io):
    quiet, out, url = False, None, None
    args = iter(argv[1:])
    for a in args:
        if a in ("-O",):
            out = next(args, "-")
        elif a.startswith("-O"):
            out = a[2:]
        elif a.startswith("-q"):
            quiet = True
            if a.startswith("-qO"):
                out = a[3:] or next(args, "-")
        elif a in ("-T", "--timeout", "-U"):
            next(args, None)
        elif not a.startswith("-"):
            url = a
    if url is None:
        io.err("BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [-O FILE] URL...\n")
        return 1
    parts = urlsplit(url if "://" in url else "http://" + url)
    hostport = f"{parts.hostname}:{parts.port or 80}"
    if not quiet:
        io.err(f"Connecting to {hostport} ({hostport})\n")
    try:
        status, body = await fetch(sh, "GET", url, b"", 30)
    except LookupError:
        io.err(f"wget: bad address '{parts.hostname}'\n")
        return 1
    except ConnectionRefusedError:
        io.err(f"wget: can't connect to remote host ({parts.hostname}): Connection refused\n")
        return 1
    except ConnectionResetError:
        io.err("wget: error getting response: Connection reset by peer\n")
        return 1
    except asyncio.TimeoutError:
        io.err("wget: download timed out\n")
        return 1
    if status >= 400:
        io.err(f"wget: server returned error: HTTP/1.1 {status} {REASONS.get(status, '')}\n")
        return 1
    if out == "-":
        io.out(body.decode(errors="replace"))
    else:
        name = out or (parts.path.rsplit("/", 1)[-1] or "index.html")
        sh.fs.write(sh.fs.norm(name, sh.cwd), body)
        if not quiet:
            io.err(f"saving to '{name}'\n{name}  100% |****| {len(body)}  0:00:00 ETA\n'{name}' saved\n")
    return 0

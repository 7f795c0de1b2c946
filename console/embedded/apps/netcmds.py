"""curl and wget inside a simulated container: real HTTP to the apps of the
cluster (localhost, pod IPs, Service names and ClusterIPs) through the pod's
network (kubelet/podnet.py), worded as curl 8 and busybox wget word things."""

import asyncio
import time
from urllib.parse import urlsplit

from console.embedded.apps.base import REASONS, Request, head_lines
from console.embedded.apps.builtins import command

CURL_AGENT = "curl/8.5.0"


def split_url(url: str):
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return host, port, target


async def fetch(sh, method: str, url: str, body: bytes = b"", timeout: float = 30.0,
                headers: dict | None = None, agent: str = CURL_AGENT):
    """The Response | raises LookupError (no such host), ConnectionRefusedError,
    ConnectionResetError, asyncio.TimeoutError. `timeout` is simulated seconds."""
    host, port, target = split_url(url)
    hdrs = {"host": host if port == 80 else f"{host}:{port}", "user-agent": agent,
            "accept": "*/*"}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    if body:
        hdrs.setdefault("content-length", str(len(body)))
    net = getattr(sh, "net", None)
    if net is None:
        raise LookupError(host)
    return await net.request(host, port, Request(method, target, hdrs, body), timeout)


def _write_out(fmt: str, resp, took: float) -> str:
    values = {"http_code": f"{resp.status:03d}" if resp else "000",
              "response_code": f"{resp.status:03d}" if resp else "000",
              "time_total": f"{took:.6f}", "size_download": str(len(resp.body) if resp else 0),
              "content_type": resp.content_type if resp else ""}
    out = fmt.replace("\\n", "\n").replace("\\t", "\t")
    for k, v in values.items():
        out = out.replace("%{" + k + "}", v)
    return out


def _meter(size: int, took: float) -> str:
    """curl's progress meter as it is left on stderr when stdout is not a terminal."""
    speed = int(size / took) if took > 0 else size
    return ("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
            "                                 Dload  Upload   Total   Spent    Left  Speed\n"
            f"100 {size:>5}  100 {size:>5}    0     0  {speed:>5}      0 --:--:-- --:--:-- "
            f"--:--:-- {speed:>5}\n")


@command("curl")
async def _curl(sh, argv, io):
    method, data, url, out_file, write_out = None, None, None, None, None
    silent = show_error = fail = head = include = verbose = False
    headers: dict[str, str] = {}
    agent, timeout = CURL_AGENT, 3600.0
    args = iter(argv[1:])
    for a in args:
        if a in ("-X", "--request"):
            method = next(args, "GET").upper()
        elif a in ("-d", "--data", "--data-raw", "--data-binary", "--json"):
            data = (data + "&" if data else "") + next(args, "")
            if a == "--json":
                headers.setdefault("Content-Type", "application/json")
                headers.setdefault("Accept", "application/json")
        elif a in ("-o", "--output"):
            out_file = next(args, None)
        elif a in ("-H", "--header"):
            name, _, value = next(args, "").partition(":")
            headers[name.strip()] = value.strip()
        elif a in ("-w", "--write-out"):
            write_out = next(args, "")
        elif a in ("-A", "--user-agent"):
            agent = next(args, agent)
        elif a in ("-m", "--max-time"):
            try:
                timeout = float(next(args, "0"))
            except ValueError:
                timeout = 3600.0
        elif a in ("--connect-timeout", "--retry", "-u", "--user", "-e", "--referer"):
            next(args, None)
        elif a.startswith("--"):
            silent |= a == "--silent"
            fail |= a == "--fail"
            show_error |= a == "--show-error"
            head |= a == "--head"
            include |= a == "--include"
            verbose |= a == "--verbose"
        elif a.startswith("-") and len(a) > 1:
            silent |= "s" in a
            show_error |= "S" in a
            fail |= "f" in a
            head |= "I" in a
            include |= "i" in a
            verbose |= "v" in a
        else:
            url = a
    if url is None:
        io.err("curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more "
               "information\n")
        return 2
    method = method or ("HEAD" if head else "POST" if data is not None else "GET")
    if data is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    quiet = silent and not show_error
    host, port, target = split_url(url)
    t0 = time.monotonic()

    def error(code: int, text: str) -> int:
        if write_out is not None:
            io.out(_write_out(write_out, None, time.monotonic() - t0))
        if not quiet:
            io.err(f"curl: ({code}) {text}\n")
        return code

    if verbose:
        io.err(f"* Host {host}:{port} was resolved.\n*   Trying {host}:{port}...\n"
               f"> {method} {target} HTTP/1.1\n> Host: {host}:{port}\n> User-Agent: {agent}\n"
               "> Accept: */*\n" + "".join(f"> {k}: {v}\n" for k, v in headers.items()) + ">\n")
    try:
        resp = await fetch(sh, method, url, (data or "").encode(), timeout, headers, agent)
    except LookupError:
        return error(6, f"Could not resolve host: {host}")
    except ConnectionRefusedError:
        return error(7, f"Failed to connect to {host} port {port} after 0 ms: Couldn't connect "
                        "to server")
    except ConnectionResetError:
        return error(56, "Recv failure: Connection reset by peer")
    except asyncio.TimeoutError:
        return error(28, f"Operation timed out after {int(timeout * 1000)} milliseconds with 0 "
                         "bytes received")
    took = time.monotonic() - t0
    status_line = f"HTTP/1.1 {resp.status} {REASONS.get(resp.status, '')}"
    lines = head_lines(resp)
    if verbose:
        io.err(f"< {status_line}\n" + "".join(f"< {k}: {v}\n" for k, v in lines) + "<\n")
    if fail and resp.status >= 400:
        return error(22, f"The requested URL returned error: {resp.status}")
    shown = b""
    if head or include:
        shown = (status_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in lines)
                 + "\r\n").encode()
    if not head:
        shown += resp.body
    if out_file:
        sh.fs.write(sh.fs.norm(out_file, sh.cwd), shown)
    else:
        io.out(shown)
    if not silent and not verbose and (out_file or io.tty is None):
        io.err(_meter(len(resp.body), took))
    if write_out is not None:
        io.out(_write_out(write_out, resp, took))
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
        resp = await fetch(sh, "GET", url, b"", 30, agent="Wget")
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
    status, body = resp.status, resp.body
    if status >= 400:
        io.err(f"wget: server returned error: HTTP/1.1 {status} {REASONS.get(status, '')}\n")
        return 1
    if out == "-":
        io.out(body)
    else:
        name = out or (parts.path.rsplit("/", 1)[-1] or "index.html")
        sh.fs.write(sh.fs.norm(name, sh.cwd), body)
        if not quiet:
            io.err(f"saving to '{name}'\n{name}  100% |****| {len(body)}  0:00:00 ETA\n'{name}' saved\n")
    return 0

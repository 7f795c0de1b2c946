"""`http`: HTTPie as the labs use it inside the siege pod.

    http [--json|--form] [-p WHAT|-h|-b|-v] [--pretty=all|none] [--check-status]
         [--timeout S] [--ignore-stdin] [METHOD] URL [ITEM ...]

Items as HTTPie reads them: `Header:value`, `name==query`, `field=string`,
`field:=json`. The method is GET, or POST when there is data; `put` works as
`PUT`. URLs default to http:// and `:8080/x` means localhost. On a terminal
the response's status line and headers (sorted) and its body (JSON indented 4
and sorted) are printed; piped, only the raw body, as HTTPie does. Errors and
exit codes are HTTPie's (1 connection error, 2 timeout, with --check-status
3/4/5 for 3xx/4xx/5xx).
"""

import asyncio
import json
import re

from console.embedded.apps.base import REASONS, head_lines
from console.embedded.apps.builtins import command
from console.embedded.apps.netcmds import fetch, split_url

AGENT = "HTTPie/3.2.2"
SEPARATORS = (":=@", "=@", "==", ":=", "=", "@", ":")
FLAGS_WITH_VALUE = {"-p", "--print", "--pretty", "-s", "--style", "--timeout", "-a", "--auth",
                    "--verify", "--cert", "--proxy", "-o", "--output"}
BINARY_NOTE = ("+-----------------------------------------+\n"
               "| NOTE: binary data not shown in terminal |\n"
               "+-----------------------------------------+\n")


def _split_item(arg: str):
    """(key, separator, value) by the first separator in the item, longest on a tie."""
    best = None
    for sep in SEPARATORS:
        i = arg.find(sep)
        if i > 0 and (best is None or i < best[0] or (i == best[0] and len(sep) > len(best[1]))):
            best = (i, sep)
    if best is None:
        return None
    i, sep = best
    return arg[:i], sep, arg[i + len(sep):]


def _url(text: str) -> str:
    if text.startswith(":"):
        text = "localhost" + text
    return text if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) else "http://" + text


class _Usage(Exception):
    pass


def _parse(argv: list[str]):
    opts = {"print": None, "pretty": None, "form": False, "check": False, "timeout": None,
            "ignore_stdin": False, "verbose": False}
    positional: list[str] = []
    args = iter(argv[1:])
    for a in args:
        name, eq, inline = a.partition("=") if a.startswith("--") else (a, "", "")
        if a.startswith("-") and len(a) > 1 and not positional[1:2]:
            value = inline if eq else (next(args, "") if name in FLAGS_WITH_VALUE else "")
            if name in ("-p", "--print"):
                opts["print"] = value
            elif name == "--pretty":
                opts["pretty"] = value
            elif name in ("-h", "--headers"):
                opts["print"] = "h"
            elif name in ("-b", "--body"):
                opts["print"] = "b"
            elif name in ("-v", "--verbose"):
                opts["verbose"] = True
            elif name in ("-f", "--form"):
                opts["form"] = True
            elif name in ("-j", "--json"):
                opts["form"] = False
            elif name == "--check-status":
                opts["check"] = True
            elif name in ("-I", "--ignore-stdin"):
                opts["ignore_stdin"] = True
            elif name == "--timeout":
                try:
                    opts["timeout"] = float(value)
                except ValueError:
                    raise _Usage(f"argument --timeout: invalid float value: '{value}'") from None
            elif name not in FLAGS_WITH_VALUE and name not in ("-F", "--follow", "-S", "--stream"):
                raise _Usage(f"unrecognized arguments: {a}")
            continue
        positional.append(a)
    if not positional:
        raise _Usage("the following arguments are required: URL")
    method = None
    if len(positional) > 1 and re.fullmatch(r"[A-Za-z]+", positional[0]):
        method, positional = positional[0].upper(), positional[1:]   # as HTTPie's argparse
    return opts, method, _url(positional[0]), positional[1:]


@command("http", "https")
async def _http(sh, argv, io):
    try:
        opts, method, url, items = _parse(argv)
    except _Usage as exc:
        io.err("usage:\n    http [METHOD] URL [REQUEST_ITEM ...]\n\n"
               f"error:\n    {exc}\n\nfor more information:\n    run 'http --help' or visit "
               "https://httpie.io/docs/cli\n")
        return 2
    if argv[0].rsplit("/", 1)[-1] == "https" and url.startswith("http://"):
        url = "https://" + url[len("http://"):]
    headers = {"Accept": "application/json, */*;q=0.5", "Accept-Encoding": "gzip, deflate",
               "Connection": "keep-alive"}
    data: dict = {}
    query: list[str] = []
    for item in items:
        split = _split_item(item)
        if split is None:
            io.err(f"http: error: '{item}' is not a valid value\n")
            return 2
        key, sep, value = split
        if sep == ":":
            headers[key] = value
        elif sep == "==":
            query.append(f"{key}={value}")
        elif sep == "=":
            data[key] = value
        elif sep == ":=":
            try:
                data[key] = json.loads(value)
            except ValueError as exc:
                io.err(f"http: error: \"{item}\": Expecting value: {exc}\n")
                return 1
        else:
            io.err(f"http: error: '{item}': files are not available in this container\n")
            return 1
    body = b""
    if io.tty is None and not opts["ignore_stdin"] and not getattr(io.stdin, "is_tty", False):
        body = await io.stdin.read_all()
        if body and data:
            io.err("http: error: Request body (from stdin or a file) and request data "
                   "(key=value) cannot be mixed. Pass --ignore-stdin to let key/value take "
                   "priority. See https://httpie.io/docs#scripting for details.\n")
            return 1
    if data:
        if opts["form"]:
            from urllib.parse import urlencode
            body = urlencode({k: v if isinstance(v, str) else json.dumps(v)
                              for k, v in data.items()}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        else:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    method = method or ("POST" if body else "GET")
    if query:
        url += ("&" if "?" in url else "?") + "&".join(query)
    terminal = io.tty is not None
    what = opts["print"] or ("HBhb" if opts["verbose"] else "hb" if terminal else "b")
    pretty = (opts["pretty"] or ("all" if terminal else "none")) in ("all", "format")
    host, port, target = split_url(url)
    if "H" in what or "B" in what:
        _print_request(io, method, target, host, port, headers, body, what, pretty)
    try:
        resp = await fetch(sh, method, url, body, opts["timeout"] or 3600.0, headers, AGENT)
    except asyncio.TimeoutError:
        io.err(f"http: error: Request timed out ({opts['timeout'] or 3600.0:g}s).\n")
        return 2
    except (LookupError, ConnectionRefusedError, ConnectionResetError) as exc:
        io.err(f"http: error: {_connection_error(exc, host, port, target)} while doing a "
               f"{method} request to URL: {url}\n")
        return 1
    if "h" in what:
        lines = sorted(head_lines(resp), key=lambda h: h[0])
        io.out(f"HTTP/1.1 {resp.status} {REASONS.get(resp.status, '')}\n"
               + "".join(f"{k}: {v}\n" for k, v in lines) + "\n")
    if "b" in what and resp.body:
        io.out(_body(resp.body, resp.content_type, pretty, terminal))
    if opts["check"] and resp.status >= 300:
        if not terminal or "h" not in what:
            io.err(f"\nhttp: warning: HTTP {resp.status} {REASONS.get(resp.status, '')}\n")
        return resp.status // 100 if resp.status < 600 else 1
    return 0


def _body(body: bytes, content_type: str, pretty: bool, terminal: bool):
    if b"\0" in body and terminal:
        return BINARY_NOTE
    if not pretty:
        return body
    text = body.decode(errors="replace")
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            text = json.dumps(json.loads(text), indent=4, sort_keys=True, ensure_ascii=False)
        except ValueError:
            pass
    return text + ("\n" if not text.endswith("\n") else "") + ("\n" if terminal else "")


def _print_request(io, method, target, host, port, headers, body, what, pretty) -> None:
    if "H" in what:
        shown = {"Host": host if port == 80 else f"{host}:{port}", "User-Agent": AGENT,
                 **headers}
        if body:
            shown["Content-Length"] = str(len(body))
        io.out(f"{method} {target} HTTP/1.1\n" + "".join(f"{k}: {v}\n" for k, v in shown.items())
               + "\n")
    if "B" in what and body:
        io.out(_body(body, headers.get("Content-Type", ""), pretty, True))


def _connection_error(exc, host: str, port: int, target: str) -> str:
    """The requests/urllib3 wording HTTPie passes on."""
    obj = "<urllib3.connection.HTTPConnection object at 0x7f3a2c5e1d50>"
    pool = f"HTTPConnectionPool(host='{host}', port={port}): Max retries exceeded with url: {target}"
    if isinstance(exc, LookupError):
        return (f"ConnectionError: {pool} (Caused by NameResolutionError(\"{obj}: Failed to "
                f"resolve '{host}' ([Errno -2] Name or service not known)\"))")
    if isinstance(exc, ConnectionRefusedError):
        return (f"ConnectionError: {pool} (Caused by NewConnectionError('{obj}: Failed to "
                "establish a new connection: [Errno 111] Connection refused'))")
    return ("ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed "
            "connection without response'))")

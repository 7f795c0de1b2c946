"""-v: one line per request in siege's layout, coloured as siege colours it on a terminal.

siege: "%s %d%s %5.2f secs: %7lu bytes ==> %-4s %s" (protocol, code, cache mark,
time, bytes, method, path); socket errors go to stderr as "[error] ...".
"""

from __future__ import annotations

from console.loadgen.engine import Response

_RESET = "\033[0m"


def _color(code: int) -> str:
    if code < 300:
        return "\033[0;34m"   # siege: blue for 2xx
    if code < 400:
        return "\033[0;36m"   # cyan for redirects
    if code < 500:
        return "\033[0;35m"   # magenta for 4xx
    return "\033[0;31m"       # red for 5xx


def line(r: Response, color: bool = False) -> str:
    text = (f"{r.version} {r.code}    {r.latency:5.2f} secs: {r.nbytes:7d} bytes "
            f"==> {r.method:<4} {r.path}")
    return f"{_color(r.code)}{text}{_RESET}" if color else text


def error_line(r: Response, color: bool = False) -> str:
    tag = "\033[1;33merror\033[0m" if color else "error"
    return f"[{tag}] socket: {r.detail} ==> {r.method} {r.path}"

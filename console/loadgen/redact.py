"""What of a run may be written down: credentials and bodies stay out of the run log.

Authorization, Proxy-Authorization and Cookie values and URL passwords become
"<redacted>" (as kubectl prints a kubeconfig's token as REDACTED); a body is kept as
its size and SHA-256, which still tells two runs' bodies apart, unless --log-bodies.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict

SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
MASK = "<redacted>"

_SECRET_ARG = re.compile(r"(?i)((?:proxy-)?authorization|cookie)(\s*:).*", re.S)
_PASSWORD = re.compile(r"(?i)(\bhttps?://[^/\s:@]*):[^/\s@]*@")


def url(text: str) -> str:
    """http://user:secret@host/ -> http://user:<redacted>@host/."""
    return _PASSWORD.sub(rf"\1:{MASK}@", text)


def body(data: bytes | None, keep: bool = False) -> str | dict | None:
    if data is None:
        return None
    if keep:
        return data.decode("utf-8", "replace")
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def headers(h: dict[str, str]) -> dict[str, str]:
    return {k: MASK if k.lower() in SECRET_HEADERS else v for k, v in h.items()}


def spec(s) -> dict:
    """An options.Spec as a JSON-ready dict, without its secrets (argv: see argv())."""
    d = asdict(s)
    for key in ("argv", "warnings"):
        d.pop(key, None)
    d["headers"] = headers(d["headers"])
    for t, target in zip(d["targets"], s.targets):
        t["url"] = url(t["url"])
        t["body"] = body(target.body, s.log_bodies)
    return d


def argv(args: list[str], keep_bodies: bool = False) -> list[str]:
    """The command line as typed, with secret header values, passwords and inline bodies out."""
    from console.loadgen.options import METHODS

    out = []
    for a in args:
        a = url(_SECRET_ARG.sub(rf"\1\2 {MASK}", a))
        parts = a.strip().split(None, 2)
        if (not keep_bodies and len(parts) == 3 and "/" in parts[0]
                and parts[1].upper() in METHODS and not parts[2].startswith("<")):
            b = parts[2].encode()
            a = f"{parts[0]} {parts[1]} <body: {len(b)} bytes, sha256 {hashlib.sha256(b).hexdigest()[:16]}>"
        out.append(a)
    return out

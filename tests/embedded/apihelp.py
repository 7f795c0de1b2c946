"""Raw HTTPS requests against a RunningCluster (what kubectl and the client send)."""

import base64
import json
import ssl
import urllib.error
import urllib.request

import yaml


def ssl_context(c) -> ssl.SSLContext:
    cfg = yaml.safe_load(c.kubeconfig.read_text())
    ca = base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
    return ssl.create_default_context(cadata=ca)


def call(c, method: str, path: str, body=None, ctype: str = "application/json",
         accept: str | None = None, token: bool = True, timeout: float = 30):
    """-> (status, headers, parsed JSON or raw bytes)."""
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(c.server + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", ctype)
    if token:
        req.add_header("Authorization", f"Bearer {c.token}")
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, context=ssl_context(c), timeout=timeout) as r:
            code, headers, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        code, headers, raw = e.code, e.headers, e.read()
    try:
        return code, headers, json.loads(raw)
    except ValueError:
        return code, headers, raw


def stream(c, path: str, accept: str | None = None, timeout: float = 60):
    """Open a watch; yields parsed events (one per line)."""
    req = urllib.request.Request(c.server + path)
    req.add_header("Authorization", f"Bearer {c.token}")
    if accept:
        req.add_header("Accept", accept)
    r = urllib.request.urlopen(req, context=ssl_context(c), timeout=timeout)
    try:
        for line in r:
            if line.strip():
                yield json.loads(line)
    finally:
        r.close()

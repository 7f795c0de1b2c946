"""Cluster add-ons from their published manifests: metrics-server, for one.

    install(conn, source, timeout, sleep, progress)
      = kubectl apply --server-side -f SOURCE          (a URL or a local file)
      + kubectl rollout status for each Deployment it holds
      + wait for each APIService it registers to be Available

`progress(text)` gets kubectl rollout status' lines as they change. A manifest
that cannot be fetched or read, an object the API refuses, or a rollout that does
not finish in time ends it with the words of what went wrong.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

from console.cluster import rest
from console.cluster.actions import Result, failed, rollout_status
from console.errors import UsageError

METRICS_SERVER = ("https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/"
                  "components.yaml")


def fetch(source: str) -> list[dict]:
    """The manifest's documents, from a URL or a file (UsageError naming it)."""
    if source.startswith(("https://", "http://")):
        try:
            with urllib.request.urlopen(source, timeout=30) as resp:
                text = resp.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise UsageError(f"cannot fetch the manifest: {reason} (no network from here? copy it "
                             "here and install the file: `metrics.install: {source: FILE}` in a "
                             "scenario, or kubectl apply --server-side -f FILE)",
                             where=source) from None
        return rest.parse_manifest(text, source)
    return rest.load_manifest(source)


def _available(api, name: str) -> tuple[bool, str]:
    obj = rest.get(api, "APIService", "", name)
    cond = next((c for c in (obj.get("status") or {}).get("conditions") or []
                 if c.get("type") == "Available"), {})
    if cond.get("status") == "True":
        return True, f"apiservice {name} is Available"
    return False, f"Waiting for apiservice {name} to be Available: {cond.get('reason') or 'no status yet'}"


def install(conn, source: str, timeout: float = 300.0, sleep=time.sleep, progress=None) -> Result:
    try:
        docs = fetch(source)
    except UsageError as exc:
        return Result(False, str(exc))
    lines = []
    for doc in docs:
        ns = (doc.get("metadata") or {}).get("namespace") or conn.namespace
        try:
            lines.append(rest.create_or_update(conn.api, doc, ns))
        except Exception as exc:
            return Result(False, "; ".join(lines + [f"{rest.display_kind(doc)}/"
                                                   f"{doc.get('metadata', {}).get('name')}: "
                                                   f"{failed(exc).message}"]))
    waits = [("Deployment", (d["metadata"].get("namespace") or conn.namespace, d["metadata"]["name"]))
             for d in docs if d.get("kind") == "Deployment"]
    waits += [("APIService", ("", d["metadata"]["name"])) for d in docs if d.get("kind") == "APIService"]
    deadline = time.monotonic() + timeout
    said = ""
    for kind, (ns, name) in waits:
        while True:
            try:
                done, text = (rollout_status(rest.get(conn.api, kind, ns, name)) if kind == "Deployment"
                              else _available(conn.api, name))
            except Exception as exc:
                done, text = False, failed(exc).message
            if text != said and progress is not None:
                progress(text)
            said = text
            if done:
                lines.append(text)
                break
            if time.monotonic() > deadline:
                return Result(False, f"{'; '.join(lines)}; timed out after {timeout:g}s: {text}")
            sleep(1.0)
    return Result(True, "; ".join(lines), data={"applied": len(docs)})

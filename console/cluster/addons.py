"""Cluster add-ons from their published manifests: metrics-server, for one.

    install(conn, source, timeout, sleep, progress, holds=APISERVICE)
      = kubectl apply --server-side -f SOURCE          (a URL or a local file)
      + kubectl rollout status for each Deployment it holds
      + wait for each APIService it registers to be Available
    local_copies(here, manifests)    # components.yaml, metrics-server*.yaml lying about
    read(source, holds)              # a local copy's documents, or UsageError naming it

`progress(text)` gets kubectl rollout status' lines as they change. A manifest
that cannot be fetched or read, an object the API refuses, or a rollout that does
not finish in time ends it with the words of what went wrong.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

from console.cluster import rest
from console.cluster.actions import Result, failed, rollout_status
from console.cluster.metrics import APISERVICE
from console.errors import UsageError

METRICS_SERVER = ("https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/"
                  "components.yaml")
# what a copy of the release asset is called when someone downloaded it
COPY_NAMES = ("components.yaml", "metrics-server*.yaml", "metrics-server*.yml")


def is_url(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def fetch(source: str) -> list[dict]:
    """The manifest's documents, from a URL or a file (UsageError naming it)."""
    if is_url(source):
        try:
            with urllib.request.urlopen(source, timeout=30) as resp:
                text = resp.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise UsageError(f"cannot fetch the manifest: {reason} (no network from here? copy it "
                             "here and install the file: M offers copies named components.yaml, "
                             "--metrics-manifest FILE sets it for the session, `metrics.install: "
                             "{source: FILE}` in a scenario)", where=source) from None
        return rest.parse_manifest(text, source)
    return rest.load_manifest(source)


def read(source: str, holds: str = APISERVICE) -> list[dict]:
    """The manifest's documents, checked to hold APIService `holds` (so a stray
    components.yaml of something else is named, not applied)."""
    docs = fetch(source)
    if holds and not any(d.get("kind") == "APIService" and (d.get("metadata") or {}).get("name") == holds
                         for d in docs):
        kinds = ", ".join(sorted({d["kind"] for d in docs})) or "nothing"
        raise UsageError(f"not metrics-server's manifest: no APIService {holds} in it (it holds "
                         f"{kinds})", where=source)
    return docs


def describe(docs: list[dict]) -> str:
    """`metrics-server v0.7.2, 11 objects`: what a manifest would install."""
    images = [c.get("image", "") for d in docs if d.get("kind") == "Deployment"
              for c in ((d.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []]
    tag = next((i.rsplit(":", 1)[1] for i in images if ":" in i.rsplit("/", 1)[-1]), "")
    return f"metrics-server {tag}, {len(docs)} objects" if tag else f"{len(docs)} objects"


def local_copies(here: Path, manifests: Path) -> list[Path]:
    """Copies of the manifest lying about: named as the release asset (or metrics-server*)
    in the working directory, and anywhere in the lab's manifests folder."""
    found = []
    for folder, pattern in ((here, "glob"), (manifests, "rglob")):
        if folder.is_dir():
            for name in COPY_NAMES:
                found += [p.resolve() for p in getattr(folder, pattern)(name) if p.is_file()]
    return list(dict.fromkeys(found))


def option(value: str, flag: str = "--metrics-manifest") -> str:
    """A command line's manifest: a URL as it is, a file made absolute once it reads as
    metrics-server's (else UsageError naming the option and the file: exit 2 at start)."""
    if is_url(value):
        return value
    try:
        read(value)
    except UsageError as exc:
        raise UsageError(str(exc), where=flag) from None
    return str(Path(value).resolve())


def _available(api, name: str) -> tuple[bool, str]:
    obj = rest.get(api, "APIService", "", name)
    cond = next((c for c in (obj.get("status") or {}).get("conditions") or []
                 if c.get("type") == "Available"), {})
    if cond.get("status") == "True":
        return True, f"apiservice {name} is Available"
    return False, f"Waiting for apiservice {name} to be Available: {cond.get('reason') or 'no status yet'}"


def install(conn, source: str, timeout: float = 300.0, sleep=time.sleep, progress=None,
            holds: str = APISERVICE) -> Result:
    try:
        docs = read(source, holds)
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

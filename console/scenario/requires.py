"""Whether a cluster offers what a scenario's `metadata.requires` names, asked the way
kubectl would find out (metrics.k8s.io answering, the Istio API group served)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from console.cluster import rest
from console.scenario.model import REQUIREMENTS


@dataclass(frozen=True)
class Unmet:
    """Why a requirement is not there."""

    why: str
    starting: str = ""    # metrics: installed, its pods not ready yet ("0 of 1 pods ready")


def unmet(conn, requires: list[str], wait: float = 60.0, waiting=None) -> list[str]:
    """The requirements that are not there, each with the reason; metrics may take a
    while to come up on a fresh cluster, so it is given `wait` seconds, and
    `waiting(req, why)` hears each time it is asked again (a pane can say so)."""
    return [f"needs {req} ({REQUIREMENTS[req]}): {u.why}"
            for req, u in missing(conn, requires, wait, waiting).items()]


def missing(conn, requires: list[str], wait: float = 60.0, waiting=None) -> dict[str, Unmet]:
    """requirement -> why it is not there, for those that are not."""
    found = {req: _probe(conn, req, wait, waiting) for req in requires}
    return {req: u for req, u in found.items() if u is not None}


def _probe(conn, req: str, wait: float, waiting=None) -> Unmet | None:
    if req == "metrics":
        from console.cluster.metrics import STARTING, fetch, starting_text
        deadline = time.monotonic() + wait
        while True:
            m = fetch(conn.api, conn.namespace)
            if m.available:
                return None
            why = m.hint or "the Metrics API is not available"
            if m.starting:            # installed, its pod not ready: say that
                why = f"metrics-server {STARTING}: {starting_text(m)}"
            if time.monotonic() > deadline:
                return Unmet(why, m.starting)
            if waiting:
                waiting(req, why)
            time.sleep(1.0)
    if req == "mesh":
        try:
            rest.call(conn.api, "GET", "/apis/networking.istio.io")
        except Exception:
            return Unmet("the API group networking.istio.io is not served")
    return None          # siege, apps: nothing to ask the API; the steps will tell

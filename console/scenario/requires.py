"""Whether a cluster offers what a scenario's `metadata.requires` names, asked the way
kubectl would find out (metrics.k8s.io answering, the Istio API group served)."""

from __future__ import annotations

import time

from console.cluster import rest
from console.cluster.metrics import starting
from console.scenario.model import REQUIREMENTS


def unmet(conn, requires: list[str], wait: float = 60.0, waiting=None) -> list[str]:
    """The requirements that are not there, each with the reason; metrics may take a
    while to come up on a fresh cluster, so it is given `wait` seconds, and
    `waiting(req, why)` hears each time it is asked again (a pane can say so)."""
    return [f"needs {req} ({REQUIREMENTS[req]}): {why}"
            for req, why in missing(conn, requires, wait, waiting).items()]


def missing(conn, requires: list[str], wait: float = 60.0, waiting=None) -> dict[str, str]:
    """requirement -> why it is not there, for those that are not."""
    found = {req: _probe(conn, req, wait, waiting) for req in requires}
    return {req: why for req, why in found.items() if why}


def _probe(conn, req: str, wait: float, waiting=None) -> str:
    if req == "metrics":
        from console.cluster.metrics import fetch
        deadline = time.monotonic() + wait
        while True:
            m = fetch(conn.api, conn.namespace)
            if m.available:
                return ""
            why = m.hint or "the Metrics API is not available"
            if starting(m.why):            # installed, its pod not ready: say that
                why = m.why.split("; until", 1)[0]
            if time.monotonic() > deadline:
                return why
            if waiting:
                waiting(req, why)
            time.sleep(1.0)
    if req == "mesh":
        try:
            rest.call(conn.api, "GET", "/apis/networking.istio.io")
        except Exception:
            return "the API group networking.istio.io is not served"
    return ""          # siege, apps: nothing to ask the API; the steps will tell

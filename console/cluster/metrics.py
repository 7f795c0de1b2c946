"""Pod usage from metrics.k8s.io, every 15 s (the only polling the console does).

When the Metrics API is not served the console says so as kubectl does in
lab L1 ("error: Metrics API not available") and keeps trying.
"""

from __future__ import annotations

import threading

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from console import bus
from console.cluster.errors import message_of
from console.quantity import parse as quantity

INTERVAL = 15.0
NOT_AVAILABLE = "error: Metrics API not available"

def millicores(value) -> int:
    return round(quantity(value) * 1000)


def fetch(api: client.ApiClient, namespace: str) -> bus.Metrics:
    try:
        body = client.CustomObjectsApi(api).list_namespaced_custom_object(
            "metrics.k8s.io", "v1beta1", namespace, "pods", _request_timeout=20)
    except ApiException as exc:
        if exc.status in (404, 503):
            return bus.Metrics(available=False, hint=NOT_AVAILABLE, why=why_missing(api))
        if exc.status == 403:
            return bus.Metrics(available=False, hint=f"metrics: {message_of(exc)}",
                               why="you may not read metrics.k8s.io here: the HPA still scales "
                                   "(its controller reads them), but this pane shows no CPU")
        return bus.Metrics(available=False, hint=f"metrics: {message_of(exc)}")
    except Exception as exc:
        return bus.Metrics(available=False, hint=f"metrics: {message_of(exc)}")
    cpu, mem = {}, {}
    for item in body.get("items") or []:
        name = item.get("metadata", {}).get("name", "")
        containers = item.get("containers") or []
        cpu[name] = sum(millicores((c.get("usage") or {}).get("cpu")) for c in containers)
        mem[name] = int(sum(quantity((c.get("usage") or {}).get("memory")) for c in containers))
    return bus.Metrics(available=True, cpu=cpu, memory=mem)


APISERVICE = "v1beta1.metrics.k8s.io"
INSTALL = ("M installs metrics-server (its published manifest, or a local copy) and shows "
           "its rollout")


def why_missing(api: client.ApiClient) -> str:
    """What a missing Metrics API means for the lab, from its APIService."""
    from console.cluster import rest
    effect = ("the HPA cannot read CPU: TARGETS stay <unknown>, it never scales "
              "(FailedGetResourceMetric), and `kubectl top` fails")
    try:
        svc = rest.call(api, "GET", f"/apis/apiregistration.k8s.io/v1/apiservices/{APISERVICE}")
    except ApiException as exc:
        if exc.status == 404:
            return f"metrics-server is not installed (no APIService {APISERVICE}): {effect}; {INSTALL}"
        return f"{effect}; {INSTALL}"
    except Exception:
        return f"{effect}; {INSTALL}"
    cond = next((c for c in (svc.get("status") or {}).get("conditions") or []
                 if c.get("type") == "Available"), {})
    why = f"{cond.get('reason')}: {cond.get('message')}" if cond.get("reason") else "no status yet"
    backend = ((svc.get("spec") or {}).get("service") or {})
    where = f"{backend.get('namespace', 'kube-system')}/{backend.get('name', 'metrics-server')}"
    return (f"metrics-server ({where}) is installed but not serving: APIService {APISERVICE} is "
            f"not Available ({why}); until it is, {effect}")


class MetricsPoller:
    def __init__(self, api: client.ApiClient, namespace: str, sink: bus.Bus,
                 interval: float = INTERVAL):
        self.api, self.namespace, self.bus, self.interval = api, namespace, sink, interval
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="metrics", daemon=True)

    def start(self) -> MetricsPoller:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.is_set():
            self.bus.publish(fetch(self.api, self.namespace))
            self._stop.wait(self.interval)

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
RETRY = 5.0           # while the Metrics API is missing
STARTING = "is not ready yet"      # installed, its pods not ready (a fresh cluster)
NOT_AVAILABLE = "error: Metrics API not available"

def millicores(value) -> int:
    return round(quantity(value) * 1000)


def fetch(api: client.ApiClient, namespace: str) -> bus.Metrics:
    try:
        body = client.CustomObjectsApi(api).list_namespaced_custom_object(
            "metrics.k8s.io", "v1beta1", namespace, "pods", _request_timeout=20)
    except ApiException as exc:
        if exc.status in (404, 503):
            return missing(api)
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


def missing(api: client.ApiClient) -> bus.Metrics:
    """The Metrics API is not served: what that means for the lab, from its APIService
    (and, when metrics-server is installed but starting, its pods)."""
    from console.cluster import rest
    effect = ("the HPA cannot read CPU: TARGETS stay <unknown>, it never scales "
              "(FailedGetResourceMetric), and `kubectl top` fails")
    out = bus.Metrics(available=False, hint=NOT_AVAILABLE, why=f"{effect}; {INSTALL}")
    try:
        svc = rest.call(api, "GET", f"/apis/apiregistration.k8s.io/v1/apiservices/{APISERVICE}")
    except ApiException as exc:
        if exc.status == 404:
            out.why = f"metrics-server is not installed (no APIService {APISERVICE}): {out.why}"
        return out
    except Exception:
        return out
    cond = next((c for c in (svc.get("status") or {}).get("conditions") or []
                 if c.get("type") == "Available"), {})
    why = f"{cond.get('reason')}: {cond.get('message')}" if cond.get("reason") else "no status yet"
    backend = ((svc.get("spec") or {}).get("service") or {})
    ns, name = backend.get("namespace", "kube-system"), backend.get("name", "metrics-server")
    out.starting, out.pods = _starting(api, ns, name)
    if out.starting:
        out.why = (f"metrics-server ({ns}/{name}) {STARTING}: {starting_text(out)}; until its "
                   f"APIService {APISERVICE} is Available, {effect}")
    else:
        out.why = (f"metrics-server ({ns}/{name}) is installed but not serving: APIService "
                   f"{APISERVICE} is not Available ({why}); until it is, {effect}")
    return out


def starting_text(m: bus.Metrics) -> str:
    """'0 of 1 pods ready (metrics-server-x: ContainerCreating 0/1)'."""
    return m.starting + (f" ({m.pods})" if m.pods else "")


def _starting(api, namespace: str, name: str) -> tuple[str, str]:
    """('0 of 1 pods ready', 'metrics-server-x: ContainerCreating 0/1') while the
    Deployment behind the APIService is not ready (a cluster just started, a fresh
    install, a pod that cannot start); ("", "") when it is, or when it cannot be read."""
    from console.cluster import rest
    from console.kubeprint import pod_status
    try:
        dep = rest.get(api, "Deployment", namespace, name)
        want = (dep.get("spec") or {}).get("replicas", 1)
        ready = (dep.get("status") or {}).get("readyReplicas") or 0
        if not want or ready >= want:
            return "", ""
        labels = ((dep.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        body = rest.call(api, "GET", rest.path_for("Pod", namespace),
                         query=[("labelSelector", ",".join(f"{k}={v}" for k, v in labels.items()))])
    except Exception:
        return "", ""              # another name, or not ours to read: say what the API says
    pods = [f"{p['metadata']['name']}: {s.reason} {s.ready}/{s.total}"
            for p in body.get("items") or [] for s in [pod_status(p)] if s.ready < s.total]
    return f"{ready} of {want} pods ready", "; ".join(pods[:2])


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
            seen = fetch(self.api, self.namespace)
            self.bus.publish(seen)
            # while missing, ask more often: it is there soon after metrics-server starts
            self._stop.wait(self.interval if seen.available else min(self.interval, RETRY))

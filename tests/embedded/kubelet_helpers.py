"""Shared helpers for the kubelet/apps/traffic tests: an in-process cluster with
only the kubelet component, pods bound by hand (no scheduler needed)."""

import contextlib
from pathlib import Path

from console.embedded.cluster import Cluster
from waits import until


@contextlib.asynccontextmanager
async def kubelet_cluster(speed: float = 50, nodes: int = 2, **kw):
    from console.embedded import kubelet

    cluster = Cluster(speed=speed, nodes=nodes, **kw)
    task = cluster.spawn(kubelet.run(cluster), "kubelet")
    await until(lambda: getattr(cluster, "kubelet", None) is not None)
    try:
        yield cluster
    finally:
        task.cancel()
        await cluster.stop()


def pod(name, image="nginx", node="kubelab-node-1", ns="default", **spec):
    container = {"name": spec.pop("cname", "app"), "image": image}
    container.update(spec.pop("container", {}))
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns,
                         "labels": spec.pop("labels", {"app": name}),
                         "annotations": spec.pop("annotations", {})},
            "spec": {"nodeName": node, "containers": [container], "restartPolicy": "Always",
                     "terminationGracePeriodSeconds": 30}}
    body["spec"].update(spec)
    return body


def status(cluster, name, ns="default"):
    obj = cluster.registry.get("pods", ns, name)
    return (obj or {}).get("status") or {}


def cstatus(cluster, name, ns="default", index=0):
    cs = status(cluster, name, ns).get("containerStatuses") or []
    return cs[index] if len(cs) > index else {}


def events(cluster, name, ns="default"):
    return [(e["reason"], e["message"]) for e in cluster.registry.list("events", ns)
            if e["involvedObject"]["name"] == name]


def log_lines(cluster, name, container=None, previous=False, ns="default"):
    """The kubelet's lines without their "<RFC3339Nano> " stamps."""
    lines = cluster.kubelet.logs(ns, name, container, previous)
    return None if lines is None else [line.split(" ", 1)[1] for line in lines]


# -- over real HTTP, against `kubelab cluster` ------------------------------------

SIEGE_MANIFEST = str(Path(__file__).resolve().parents[2] / "manifests" / "siege.yaml")


@contextlib.contextmanager
def lab_cluster(speed: float = 25, nodes: int = 2):
    """A private `kubelab cluster` (a module's fixture), as a Lab."""
    from console.embedded import launch

    running = launch.start(speed=speed, nodes=nodes, timeout=90)
    try:
        yield Lab(running)
    finally:
        running.stop()


class Lab:
    """A private `kubelab cluster` with the official client and kubectl."""

    def __init__(self, running):
        from kubernetes import client, config

        self.c = running
        cfg = client.Configuration()
        config.load_kube_config(config_file=str(running.kubeconfig), client_configuration=cfg)
        self.api_client = client.ApiClient(cfg)
        self.core = client.CoreV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)

    def kubectl(self, *args, input=None, check=True):
        import shutil
        import subprocess

        import pytest
        binary = shutil.which("kubectl")
        if binary is None:
            pytest.skip("kubectl is not installed on this machine")
        p = subprocess.run([binary, *args], env=self.c.env(), input=input, capture_output=True,
                           text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {p.stderr}")
        return p

    def pods(self, ns="default", selector=None):
        return self.core.list_namespaced_pod(ns, label_selector=selector).items

    def pod(self, name, ns="default"):
        from kubernetes.client.exceptions import ApiException
        try:
            return self.core.read_namespaced_pod(name, ns)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def events(self, name, ns="default"):
        evs = self.core.list_namespaced_event(ns, field_selector=f"involvedObject.name={name}").items
        return [(e.reason, e.message) for e in evs]

    def service_address(self, name, port, ns="default"):
        import json
        svc = self.core.read_namespaced_service(name, ns)
        ann = (svc.metadata.annotations or {}).get("kubelab.dev/host-ports")
        return json.loads(ann).get(str(port)) if ann else None


SIEGE_MANIFEST = str(Path(__file__).resolve().parents[2] / "manifests" / "siege.yaml")


@contextlib.contextmanager
def lab_cluster(speed: float = 25):
    """A private `kubelab cluster` for a module of kubectl-driven lab tests."""
    import pytest

    from console.embedded import launch
    from kubehelp import KUBECTL
    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine")
    running = launch.start(speed=speed, nodes=2, timeout=90)
    try:
        yield Lab(running)
    finally:
        running.stop()


def http(method, address, path, body=None, timeout=10):
    """(status, text) with a fresh connection, like siege's default; (None, error) on a
    connection failure."""
    import http.client
    host, port = address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        headers = {"Connection": "close"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    except (OSError, http.client.HTTPException) as exc:
        return None, repr(exc)
    finally:
        conn.close()

"""The control plane end to end: over real HTTP, with kubectl as lab L7 types it
and with the official Python client."""

import os
import uuid

import pytest
from kubernetes import client

from kubehelp import KUBECTL, run_kubectl
from waits import wait_for


def namespace(api) -> str:
    name = f"ctrl-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


OLD_KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.28"


@pytest.mark.kubectl
@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine")
@pytest.mark.parametrize("binary", [None, OLD_KUBECTL], ids=["server-version", "1.28"])
def test_lab_l7_rollout_history_and_undo_with_kubectl(cluster, api, binary):
    if binary and not os.path.exists(binary):
        pytest.skip(f"{binary} is not installed on this machine")
    ns = namespace(api)

    def k(*args, check=True):
        r = run_kubectl(cluster, "-n", ns, *args, binary=binary, timeout=90)
        if check:
            assert r.returncode == 0, f"kubectl {' '.join(args)}: {r.stderr}"
        return r.stdout

    k("create", "deployment", "dpy-nginx", "--image=nginx")
    k("scale", "deployment", "dpy-nginx", "--replicas=3")
    k("rollout", "status", "deployment/dpy-nginx", "--timeout=60s")
    pods = k("get", "pods", "-o", "name").split()
    assert len(pods) == 3
    k("set", "image", "deployment/dpy-nginx", "nginx=nginx:1.17.0")
    k("annotate", "deployment/dpy-nginx", "kubernetes.io/change-cause=image updated to 1.17.0")
    out = k("rollout", "status", "deployment/dpy-nginx", "--timeout=60s")
    assert 'deployment "dpy-nginx" successfully rolled out' in out
    history = k("rollout", "history", "deployment/dpy-nginx")
    assert "1         <none>" in history and "2         image updated to 1.17.0" in history
    k("rollout", "undo", "deployment/dpy-nginx")
    k("rollout", "status", "deployment/dpy-nginx", "--timeout=60s")
    history = k("rollout", "history", "deployment/dpy-nginx")
    lines = [ln.split(None, 1) for ln in history.splitlines()[2:] if ln.strip()]
    assert [n for n, _ in lines] == ["2", "3"]
    image = k("get", "deployment", "dpy-nginx", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image == "nginx"
    rs = k("get", "rs", "--no-headers").splitlines()
    assert len(rs) == 2 and sorted(line.split()[1] for line in rs) == ["0", "3"]
    events = k("get", "events", "--field-selector", "reason=ScalingReplicaSet", "-o",
               "jsonpath={range .items[*]}{.message}{'\\n'}{end}")
    assert "Scaled up replica set dpy-nginx-" in events and " from 0 to 1" in events

    victim = k("get", "pods", "-o", "name").split()[0]
    k("delete", victim, "--wait=false")
    wait_for(lambda: victim not in k("get", "pods", "-o", "name").split()
             and len(k("get", "pods", "--field-selector", "status.phase=Running", "-o", "name").split()) == 3,
             what="the deleted pod replaced")
    k("delete", "namespace", ns, "--wait=false")
    wait_for(lambda: run_kubectl(cluster, "get", "namespace", ns, binary=binary).returncode != 0,
             what="namespace removed")


def test_client_sees_endpoints_slices_and_foreground_deletion(cluster, api):
    ns = namespace(api)
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    disc = client.DiscoveryV1Api(api)
    labels = {"app": "web"}
    apps.create_namespaced_deployment(ns, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                     {"name": "web", "image": "nginx", "ports": [{"name": "http", "containerPort": 80}]}]}}}})
    core.create_namespaced_service(ns, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                                        "spec": {"selector": labels,
                                                 "ports": [{"port": 8080, "targetPort": "http"}]}})

    def ready_addresses():
        ep = core.read_namespaced_endpoints("web", ns)
        return [a for s in ep.subsets or [] for a in s.addresses or []]
    addrs = wait_for(lambda: len(ready_addresses()) == 2 and ready_addresses(), what="2 endpoints")
    assert {a.target_ref.kind for a in addrs} == {"Pod"}
    assert core.read_namespaced_endpoints("web", ns).subsets[0].ports[0].port == 80
    (sl,) = disc.list_namespaced_endpoint_slice(ns, label_selector="kubernetes.io/service-name=web").items
    assert sl.metadata.labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
    assert all(e.conditions.ready for e in sl.endpoints) and sl.ports[0].port == 80

    # Endpoints and the Deployment's status are written by different controllers.
    d = wait_for(lambda: (x := apps.read_namespaced_deployment("web", ns)).status.available_replicas == 2
                 and x.status.observed_generation == 1
                 and "NewReplicaSetAvailable" in [c.reason for c in x.status.conditions or []] and x,
                 what="deployment complete")
    assert {c.type: c.reason for c in d.status.conditions} == {
        "Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}
    apps.delete_namespaced_deployment("web", ns, propagation_policy="Foreground")
    wait_for(lambda: not apps.list_namespaced_deployment(ns).items, what="deployment gone")
    assert not apps.list_namespaced_replica_set(ns).items
    assert not [p for p in core.list_namespaced_pod(ns).items if not p.metadata.deletion_timestamp]
    core.delete_namespace(ns)

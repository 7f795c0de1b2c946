"""Lab L7 (Kubernetes basics) typed as written, with kubectl against `kubelab cluster`.

The dispatcher at /usr/bin/kubectl runs the kubectl matching the server's version:
the walk-through runs 1.33 (protobuf bodies for create deployment/service ...), a
second cluster reporting v1.31 runs kubectl 1.31 (JSON bodies).
"""

import os
import re

import pytest

from kubehelp import KUBECTL, Watch, run_kubectl
from waits import wait_for

pytestmark = pytest.mark.kubectl
KUBECTL_131 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.31"

MANIFEST = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: nginx-service
spec:
  type: NodePort
  selector:
    app: nginx
  ports:
  - port: 80
    targetPort: 80
    nodePort: 30080
"""


@pytest.fixture(scope="module")
def l7():
    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine")
    from console.embedded import launch
    c = launch.start(speed=20, nodes=2, timeout=90)
    yield c
    c.stop()


def k(c, *args, ok=True, **kw):
    r = run_kubectl(c, *args, **kw)
    if ok:
        assert r.returncode == 0, f"kubectl {' '.join(args)}: {r.stderr}"
    return r


def _rows(out: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()[1:]]


def test_01_nodes_and_pods(l7):
    out = k(l7, "get", "nodes", "-o", "wide").stdout
    header = out.splitlines()[0].split()
    assert header[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] and "INTERNAL-IP" in header
    rows = _rows(out)
    assert len(rows) == 2 and all(r[1] == "Ready" for r in rows)
    # as on a real cluster, the system pods (CoreDNS) are there before anyone writes
    def coredns_running():
        out = k(l7, "get", "pods", "--all-namespaces").stdout
        return out if re.search(r"kube-system\s+coredns-\S+\s+1/1\s+Running", out) else None
    out = wait_for(coredns_running, what="coredns Running in kube-system")
    assert out.splitlines()[0].split()[:3] == ["NAMESPACE", "NAME", "READY"]


def test_02_run_and_create_deployment(l7):
    assert k(l7, "run", "nginx-pod", "--image=nginx").stdout.strip() == "pod/nginx-pod created"
    out = k(l7, "create", "deployment", "dpy-nginx", "--image=nginx").stdout
    assert out.strip() == "deployment.apps/dpy-nginx created"
    wait_for(lambda: "1/1     Running" in k(l7, "get", "pod", "nginx-pod").stdout,
             what="nginx-pod Running")
    wait_for(lambda: re.search(r"dpy-nginx\s+1/1\s+1\s+1", k(l7, "get", "deploy").stdout),
             what="dpy-nginx 1/1")


def test_03_describe(l7):
    out = k(l7, "describe", "deployment", "dpy-nginx").stdout
    assert "RollingUpdateStrategy:  25% max unavailable, 25% max surge" in out
    assert re.search(r"Replicas:\s+1 desired \| 1 updated \| 1 total \| 1 available", out)
    assert "ScalingReplicaSet" in out
    out = k(l7, "describe", "pod", "nginx-pod").stdout
    assert re.search(r"Status:\s+Running", out) and "Scheduled" in out
    assert "node.kubernetes.io/not-ready:NoExecute op=Exists for 300s" in out


def test_04_scale(l7):
    assert "scaled" in k(l7, "scale", "deployment", "dpy-nginx", "--replicas=3").stdout
    wait_for(lambda: re.search(r"dpy-nginx\s+3/3\s+3\s+3", k(l7, "get", "deploy").stdout),
             what="dpy-nginx 3/3")
    pods = _rows(k(l7, "get", "po", "-l", "app=dpy-nginx", "-o", "wide").stdout)
    assert len(pods) == 3 and all(p[6].startswith("kubelab-node-") for p in pods)


def test_05_expose_and_delete_service(l7):
    out = k(l7, "expose", "pod", "nginx-pod", "--type=NodePort", "--port=80").stdout
    assert out.strip() == "service/nginx-pod exposed"
    row = _rows(k(l7, "get", "svc", "nginx-pod").stdout)[0]
    assert row[1] == "NodePort" and row[2].startswith("10.96.")
    assert re.fullmatch(r"80:3\d{4}/TCP", row[4])
    assert k(l7, "delete", "service", "nginx-pod").stdout.strip() == 'service "nginx-pod" deleted'
    r = k(l7, "get", "svc", "nginx-pod", ok=False)
    assert r.returncode == 1 and 'services "nginx-pod" not found' in r.stderr


def test_06_apply_manifest(l7):
    out = k(l7, "apply", "-f", "-", input=MANIFEST).stdout
    assert "deployment.apps/nginx-deployment created" in out
    assert "service/nginx-service created" in out
    out = k(l7, "apply", "-f", "-", input=MANIFEST).stdout
    assert "deployment.apps/nginx-deployment unchanged" in out
    assert "service/nginx-service unchanged" in out
    assert "80:30080/TCP" in k(l7, "get", "svc", "nginx-service").stdout
    out = k(l7, "rollout", "status", "deployment/nginx-deployment", "--timeout=90s").stdout
    assert 'deployment "nginx-deployment" successfully rolled out' in out


def test_07_deleted_pod_is_replaced_and_watch_streams_it(l7):
    watcher = Watch(l7, "po")
    # kubectl may take seconds to start on a busy machine: delete only once it watches
    wait_for(lambda: len(watcher.lines) > 1, what="kubectl get po -w listing")
    try:
        before = [r[0] for r in _rows(k(l7, "get", "po", "-l", "app=nginx").stdout)]
        victim = before[0]
        assert k(l7, "delete", "pod", victim).stdout.strip() == f'pod "{victim}" deleted'

        def replaced():
            rows = _rows(k(l7, "get", "po", "-l", "app=nginx").stdout)
            names = {r[0] for r in rows if r[2] == "Running" and r[1] == "1/1"}
            return len(names) == 2 and victim not in names and names
        now = wait_for(replaced, what="a replacement pod")
        assert now - set(before)
        wait_for(lambda: any(n in line for n in now - set(before) for line in watcher.lines),
                 what="the replacement in the watch")
    finally:
        watcher.stop()
    lines = watcher.lines
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert any(victim in line and "Terminating" in line for line in lines)
    assert any(n in line for n in now - set(before) for line in lines)


def test_08_rollout_set_image_annotate_history_undo(l7):
    out = k(l7, "set", "image", "deployment/nginx-deployment", "nginx=nginx:1.17.0").stdout
    assert out.strip() == "deployment.apps/nginx-deployment image updated"
    k(l7, "annotate", "deployment/nginx-deployment",
      "kubernetes.io/change-cause=image updated to 1.17.0")
    out = k(l7, "rollout", "status", "deployment/nginx-deployment", "--timeout=90s").stdout
    assert "successfully rolled out" in out
    hist = k(l7, "rollout", "history", "deployment/nginx-deployment").stdout
    assert re.search(r"^1\s+<none>$", hist, re.M)
    assert re.search(r"^2\s+image updated to 1.17.0$", hist, re.M)
    assert "rolled back" in k(l7, "rollout", "undo", "deployment/nginx-deployment").stdout
    k(l7, "rollout", "status", "deployment/nginx-deployment", "--timeout=90s")
    image = k(l7, "get", "deploy", "nginx-deployment", "-o",
              "jsonpath={.spec.template.spec.containers[0].image}").stdout
    assert image == "nginx:1.14.2"
    hist = k(l7, "rollout", "history", "deployment/nginx-deployment").stdout
    assert re.search(r"^3\s+", hist, re.M) and not re.search(r"^1\s+", hist, re.M)


def test_09_bad_input_is_answered_not_crashed(l7):
    bad = MANIFEST.replace("  replicas: 2\n", "  replicas: 2\n  colour: blue\n")
    r = k(l7, "apply", "-f", "-", input=bad, ok=False)
    assert r.returncode == 1 and 'unknown field "spec.colour"' in r.stderr
    r = k(l7, "create", "-f", "-", input="apiVersion: v1\nkind: Gadget\nmetadata: {name: x}\n",
          ok=False)
    assert r.returncode == 1 and "Gadget" in r.stderr
    r = k(l7, "get", "po", "nope", ok=False)
    assert r.returncode == 1 and 'pods "nope" not found' in r.stderr
    assert k(l7, "get", "ns", "default").returncode == 0


def test_kubectl_131_against_a_v131_server(start_cluster):
    if not os.path.exists(KUBECTL_131):
        pytest.skip(f"{KUBECTL_131} is not installed on this machine")
    c = start_cluster(version="v1.31.4", nodes=1)

    def k131(*args, ok=True, **kw):
        r = run_kubectl(c, *args, binary=KUBECTL_131, **kw)
        if ok:
            assert r.returncode == 0, r.stderr
        return r
    assert "Server Version: v1.31.4" in k131("version").stdout
    assert k131("create", "deployment", "web", "--image=nginx").stdout.strip() == \
        "deployment.apps/web created"
    k131("create", "configmap", "cfg", "--from-literal=a=b")
    k131("create", "secret", "generic", "sec", "--from-literal=a=b")
    k131("autoscale", "deployment", "web", "--max=3", "--cpu-percent=50")
    assert "cpu: <unknown>/50%" in k131("get", "hpa", "web").stdout
    k131("apply", "-f", "-", input=MANIFEST)
    r = k131("apply", "-f", "-", input=MANIFEST.replace("kind: Service\n",
                                                        "kind: Service\nspin: 1\n"), ok=False)
    assert r.returncode == 1 and 'unknown field "spin"' in r.stderr
    k131("scale", "deployment", "web", "--replicas=2")
    wait_for(lambda: re.search(r"web\s+2/2", k131("get", "deploy", "web").stdout),
             what="web 2/2")
    wide = k131("get", "po", "-o", "wide").stdout
    assert "NOMINATED NODE" in wide and "kubelab-node-1" in wide
    assert k131("delete", "deployment", "web").stdout.strip() == 'deployment.apps "web" deleted'

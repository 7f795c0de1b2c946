"""kubectl >= 1.32 sends protobuf bodies for these creates; each must land as the
same object JSON would make. Plus logs, dry-run and wide output."""

import re
import uuid

import pytest
from waits import wait_for

pytestmark = pytest.mark.kubectl


def ok(r):
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_protobuf_creates_from_kubectl_133(kubectl):
    assert "Client Version: v1.33" in ok(kubectl("version"))
    ns = f"pb-{uuid.uuid4().hex[:6]}"
    assert ok(kubectl("create", "namespace", ns)).strip() == f"namespace/{ns} created"
    n = ("-n", ns)
    assert "configmap/cfg created" in ok(kubectl("create", "configmap", "cfg", "--from-literal=a=b", *n))
    assert "secret/sec created" in ok(kubectl("create", "secret", "generic", "sec",
                                              "--from-literal=a=b", *n))
    assert "service/svc created" in ok(kubectl("create", "service", "nodeport", "svc",
                                               "--tcp=80:8080", *n))
    assert "deployment.apps/web created" in ok(kubectl("create", "deployment", "web",
                                                       "--image=nginx:1.25", "--replicas=2", *n))
    assert "autoscaled" in ok(kubectl("autoscale", "deployment", "web", "--min=2", "--max=5",
                                      "--cpu-percent=50", *n))
    assert ok(kubectl("get", "cm", "cfg", "-o", "jsonpath={.data.a}", *n)) == "b"
    assert ok(kubectl("get", "secret", "sec", "-o", "jsonpath={.data.a}", *n)) == "Yg=="
    svc = ok(kubectl("get", "svc", "svc", *n))
    assert re.search(r"svc\s+NodePort\s+10\.96\.\S+\s+<none>\s+80:3\d{4}/TCP", svc)
    dep = ok(kubectl("get", "deploy", "web", "-o",
                     "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} "
                     "{.spec.strategy.rollingUpdate.maxSurge}", *n))
    assert dep == "2 nginx:1.25 25%"
    assert "cpu: <unknown>/50%" in ok(kubectl("get", "hpa", "web", *n))
    wait_for(lambda: re.search(r"web\s+2/2", ok(kubectl("get", "deploy", "web", *n))),
             what="web 2/2")
    wide = ok(kubectl("get", "rs", "-o", "wide", *n))
    assert re.search(r"web-\w+\s+2\s+2\s+2\s+\S+\s+nginx\s+nginx:1\.25\s+app=web,pod-template-hash=", wide)
    assert ok(kubectl("delete", "namespace", ns)).strip() == f'namespace "{ns}" deleted'


def test_logs_and_server_dry_run(kubectl):
    ns = f"lg-{uuid.uuid4().hex[:6]}"
    ok(kubectl("create", "namespace", ns))
    out = ok(kubectl("run", "web", "--image=nginx", "-n", ns, "--dry-run=server", "-o", "name"))
    assert out.strip() == "pod/web"
    r = kubectl("get", "pod", "web", "-n", ns)
    assert r.returncode == 1 and "not found" in r.stderr
    ok(kubectl("run", "web", "--image=nginx", "-n", ns))
    # until the container runs, kubectl logs fails ("... is waiting to start: ContainerCreating")
    text = wait_for(lambda: (lambda r: r.returncode == 0 and r.stdout)(kubectl("logs", "web", "-n", ns)),
                    what="logs")
    assert text.strip()
    assert ok(kubectl("logs", "web", "-n", ns, "--tail=1")).strip() == text.strip().splitlines()[-1]


def test_auth_can_i_whoami_and_node_leases(kubectl):
    assert ok(kubectl("auth", "can-i", "create", "pods")).strip() == "yes"
    assert "kubelab" in ok(kubectl("auth", "whoami"))
    wait_for(lambda: re.search(r"HolderIdentity:\s+kubelab-node-1",
                               kubectl("describe", "node", "kubelab-node-1").stdout),
             what="the node's Lease in describe")
    assert re.search(r"kubelab-node-1\s+kubelab-node-1",
                     ok(kubectl("get", "leases", "-n", "kube-node-lease")))
    r = kubectl("get", "--raw", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    assert r.returncode == 1 and ("MethodNotAllowed" in r.stderr or "not allow" in r.stderr)

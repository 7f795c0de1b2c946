"""`kubelab siege http://web/` against the embedded cluster: the name goes through the
current kubeconfig to the loopback address the cluster publishes for the Service."""

import json
import os
import subprocess
import sys
import time

from kubernetes import client

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def until(predicate, timeout=90.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_siege_on_an_embedded_service(cluster, api, tmp_path):
    core = client.CoreV1Api(api)
    name = "siege-web"
    core.create_namespaced_pod("default", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"containers": [{"name": "nginx", "image": "nginx",
                                 "ports": [{"containerPort": 80}]}]}})
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 80}]}})
    try:
        def published():
            svc = core.read_namespaced_service(name, "default")
            return (svc.metadata.annotations or {}).get("kubelab.dev/host-ports")

        until(published, what="the Service's published host port")
        until(lambda: all(c.ready for c in
                          (core.read_namespaced_pod(name, "default").status.container_statuses or [])
                          ) and core.read_namespaced_pod(name, "default").status.container_statuses,
              what="the pod to be ready")
        env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), PYTHONPATH=REPO,
                   XDG_STATE_HOME=str(tmp_path))
        p = subprocess.run([sys.executable, "-m", "console.cli", "siege", "-c2", "-r5", "--json",
                            f"http://{name}/"], env=env, cwd=REPO, capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        doc = json.loads(p.stdout)
        assert doc["transactions"] == 10 and doc["availability"] == 100
        assert doc["status_codes"] == {"200": 10}

        # the same name in the namespace-qualified forms
        p = subprocess.run([sys.executable, "-m", "console.cli", "siege", "-c1", "-r2", "--json",
                            f"http://{name}.default.svc.cluster.local/"], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and json.loads(p.stdout)["transactions"] == 2, p.stderr

        # a Service that does not exist: one clear line, exit 2
        p = subprocess.run([sys.executable, "-m", "console.cli", "siege", "-c1", "-r1",
                            "http://nosuch:8080/"], env=env, cwd=REPO, capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 2 and "service nosuch not found in namespace default" in p.stderr
        assert p.stderr.count("\n") == 1
    finally:
        core.delete_namespaced_service(name, "default")   # answered with the Service
        core.delete_namespaced_pod(name, "default", _preload_content=False)

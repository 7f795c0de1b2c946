"""Labs L3 and L7 and the bad-image rollout, typed as written, against
`kubelab cluster` over real HTTP (kubectl + the official client), at --speed 25."""

import pytest

from kubelet_helpers import http, lab_cluster
from waits import wait_for

LIVENESS_EXEC = """
apiVersion: v1
kind: Pod
metadata:
  labels:
    test: liveness
  name: {name}
spec:
  containers:
  - name: liveness
    image: k8s.gcr.io/busybox
    args:
    - /bin/sh
    - -c
    - touch /tmp/healthy; sleep {sleep}; rm -rf /tmp/healthy; sleep 600
    livenessProbe:
      exec:
        command:
        - cat
        - /tmp/healthy
{probe}
"""

ORDER_LIVENESS = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: order
  labels: {app: order}
spec:
  replicas: 1
  selector:
    matchLabels: {app: order}
  template:
    metadata:
      labels: {app: order}
    spec:
      containers:
      - name: order
        image: ghcr.io/acmexii/order-liveness:latest
        ports:
        - containerPort: 8080
        livenessProbe:
          httpGet:
            path: '/actuator/health'
            port: 8080
          initialDelaySeconds: 120
          timeoutSeconds: 2
          periodSeconds: 5
          failureThreshold: 5
"""


@pytest.fixture(scope="module")
def lab():
    with lab_cluster(speed=25) as lab:
        yield lab


def cs(lab, name):
    p = lab.pod(name)
    return p.status.container_statuses[0] if p and p.status.container_statuses else None


def test_l3_liveness_exec_restarts_with_the_events_kubelet_writes(lab):
    probe = "      initialDelaySeconds: 5\n      periodSeconds: 5"
    lab.kubectl("apply", "-f", "-", input=LIVENESS_EXEC.format(name="liveness-exec", sleep=30,
                                                               probe=probe))
    wait_for(lambda: (c := cs(lab, "liveness-exec")) and c.ready, what="Running 1/1")
    wait_for(lambda: (c := cs(lab, "liveness-exec")) and c.restart_count >= 2, timeout=180,
             what="two restarts")
    out = lab.kubectl("describe", "po", "liveness-exec").stdout
    assert "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory" in out
    assert "Container liveness failed liveness probe, will be restarted" in out
    assert "Exit Code:    137" in out and "Reason:       Error" in out
    row = lab.kubectl("get", "po", "liveness-exec", "--no-headers").stdout.split()
    assert row[0] == "liveness-exec" and row[2] == "Running" and int(row[3]) >= 2
    logs = lab.kubectl("logs", "liveness-exec").stdout
    assert logs == ""      # the script writes nothing


def test_l3_002_variant_reaches_crash_loop_back_off(lab):
    probe = ("      initialDelaySeconds: 3\n      timeoutSeconds: 2\n      periodSeconds: 5\n"
             "      failureThreshold: 5")
    lab.kubectl("apply", "-f", "-", input=LIVENESS_EXEC.format(name="liveness-002", sleep=10,
                                                               probe=probe))
    wait_for(lambda: (c := cs(lab, "liveness-002")) and c.state.waiting
             and c.state.waiting.reason == "CrashLoopBackOff", timeout=240, every=0.05,
             what="CrashLoopBackOff")
    assert any(r == "BackOff" and m.startswith("Back-off restarting failed container liveness")
               for r, m in lab.events("liveness-002"))


def test_l3_http_liveness_actuator_down_through_the_service_restarts_the_pod(lab):
    lab.kubectl("apply", "-f", "-", input=ORDER_LIVENESS)
    lab.kubectl("expose", "deploy", "order", "--type=LoadBalancer", "--port=8080")

    def external_ip():
        row = lab.kubectl("get", "svc", "order", "--no-headers").stdout.split()
        return row if row[3] != "<pending>" else None
    row = wait_for(external_ip, what="EXTERNAL-IP")
    assert row[1] == "LoadBalancer" and row[4].startswith("8080:3")
    # the lab types http PUT http://<EXTERNAL-IP>:8080/actuator/down: an address of its own
    assert row[3].startswith("127.") and row[3] != "127.0.0.1"
    addr = f"{row[3]}:8080"
    wait_for(lambda: http("GET", addr, "/actuator/health")[0] == 200, timeout=120, what="booted")
    assert http("PUT", addr, "/actuator/down")[0] == 200
    assert http("GET", addr, "/actuator/health")[0] == 503
    pod = lab.pods(selector="app=order")[0].metadata.name
    wait_for(lambda: (c := cs(lab, pod)) and c.restart_count >= 1, timeout=240, what="restart")
    wait_for(lambda: http("GET", addr, "/actuator/health")[0] == 200, timeout=120,
             what="healthy again")
    evs = lab.events(pod)
    assert ("Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 503") in evs
    assert "Started OrderApplication in" in lab.kubectl("logs", "deploy/order").stdout
    assert "Commencing graceful shutdown" in lab.kubectl("logs", pod, "--previous").stdout
    assert ("Killing", "Container order failed liveness probe, will be restarted") in evs
    assert len(lab.pods(selector="app=order")) == 1


def test_l7_killed_app_and_deleted_pod_are_replaced(lab):
    lab.kubectl("create", "deployment", "dpy-order", "--image=jinyoung/order:stable",
                "--replicas=2", "--port=8080")
    lab.kubectl("expose", "deploy", "dpy-order", "--port=8080")
    addr = wait_for(lambda: lab.service_address("dpy-order", 8080), what="host port")
    wait_for(lambda: len([p for p in lab.pods(selector="app=dpy-order")
                          if p.status.container_statuses and p.status.container_statuses[0].ready]) == 2,
             what="2 ready pods")
    # no readiness probe: Ready while the app still boots, so wait until both have booted
    # (the Service picks either for the shutdown below)
    wait_for(lambda: all("Started OrderApplication in" in lab.kubectl("logs", p.metadata.name).stdout
                         for p in lab.pods(selector="app=dpy-order")), timeout=120, what="booted")
    wait_for(lambda: http("GET", addr, "/orders")[0] == 200, timeout=120, what="serving")
    # the app exits by itself: the container restarts, the pod stays
    assert http("POST", addr, "/actuator/shutdown")[0] == 200
    wait_for(lambda: any((p.status.container_statuses[0].restart_count or 0) >= 1
                         for p in lab.pods(selector="app=dpy-order")), what="container restarted")
    killed = next(p for p in lab.pods(selector="app=dpy-order")
                  if p.status.container_statuses[0].restart_count)
    last = killed.status.container_statuses[0].last_state.terminated
    assert last.exit_code == 0 and last.reason == "Completed"
    # a deleted pod is replaced by the ReplicaSet
    victim = lab.pods(selector="app=dpy-order")[0].metadata.name
    lab.kubectl("delete", "pod", victim)
    wait_for(lambda: victim not in [p.metadata.name for p in lab.pods(selector="app=dpy-order")]
             and len(lab.pods(selector="app=dpy-order")) == 2, timeout=120, what="replacement")
    dep = lab.apps.read_namespaced_deployment("dpy-order", "default")
    assert dep.spec.replicas == 2


def test_l7_hostname_app_answers_with_its_pod_and_killing_flask_restarts_it(lab):
    """Document 003: deployment.yaml + service.yaml, the app answers with its pod's name
    and address; `ps ax | grep flask` inside, `kill -9` the serving flask: the
    container stops and comes back."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[2] / "manifests" / "l7"
    lab.kubectl("apply", "-f", str(root / "deployment.yaml"))
    lab.kubectl("apply", "-f", str(root / "service.yaml"))
    wait_for(lambda: len([p for p in lab.pods(selector="app=hostname") if p.status.container_statuses
                          and p.status.container_statuses[0].ready]) == 3, timeout=120, what="3 ready")
    addr = wait_for(lambda: lab.service_address("svc-hname", 80), what="host port")
    status, text = wait_for(lambda: (lambda r: r[0] == 200 and r)(http("GET", addr, "/")), what="answer")
    pods = {p.metadata.name: p.status.pod_ip for p in lab.pods(selector="app=hostname")}
    assert any(text == f"<p>Hostname: {n}</p><p>IPv4 Address: {ip}</p>\n" for n, ip in pods.items()), text
    victim = sorted(pods)[0]
    ps = lab.kubectl("exec", victim, "--", "/bin/bash", "-c", "ps ax | grep flask").stdout
    flask = [line.split() for line in ps.splitlines() if "flask run" in line and "grep" not in line]
    assert [f[0] for f in flask][:1] == ["1"] and len(flask) == 2, ps      # the reloader and its server
    lab.kubectl("exec", victim, "--", "kill", "-9", "1")                   # PID 1: ignored
    assert lab.pod(victim).status.container_statuses[0].restart_count == 0
    lab.kubectl("exec", victim, "--", "kill", "-9", flask[1][0])
    wait_for(lambda: (lab.pod(victim).status.container_statuses[0].restart_count or 0) == 1,
             what="the container restarted")
    last = lab.pod(victim).status.container_statuses[0].last_state.terminated
    assert (last.exit_code, last.reason) == (247, "Error")
    assert "* Debugger is active!" in lab.kubectl("logs", victim, "--previous").stdout


def test_bad_image_stalls_the_rollout_and_undo_recovers(lab):
    lab.kubectl("create", "deployment", "web", "--image=nginx:1.17.0", "--replicas=2")
    wait_for(lambda: lab.apps.read_namespaced_deployment("web", "default").status.ready_replicas == 2,
             what="2 ready")
    lab.kubectl("set", "image", "deployment/web", "nginx=nginx:doesnotexist")
    wait_for(lambda: any((c := p.status.container_statuses) and c[0].state.waiting
                         and c[0].state.waiting.reason == "ImagePullBackOff"
                         for p in lab.pods(selector="app=web")), timeout=120, what="ImagePullBackOff")
    row = [r for r in lab.kubectl("get", "po", "-l", "app=web", "--no-headers").stdout.splitlines()
           if "ImagePullBackOff" in r or "ErrImagePull" in r]
    assert row and row[0].split()[1] == "0/1"
    status = lab.kubectl("rollout", "status", "deployment/web", "--timeout=2s", check=False)
    assert status.returncode != 0        # stalled
    assert lab.apps.read_namespaced_deployment("web", "default").status.available_replicas >= 1
    lab.kubectl("rollout", "undo", "deployment/web")
    wait_for(lambda: all(p.spec.containers[0].image == "nginx:1.17.0" and p.status.container_statuses
                         and p.status.container_statuses[0].ready
                         for p in lab.pods(selector="app=web")) and len(lab.pods(selector="app=web")) == 2,
             timeout=120, what="undo recovered")
    assert lab.kubectl("rollout", "status", "deployment/web", "--timeout=60s").returncode == 0

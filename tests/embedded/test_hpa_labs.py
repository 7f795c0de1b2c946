"""Labs L1 and L5 (HPA scale-out) as the documents type them, and the HPA's bad
input, against a private embedded cluster at --speed with kubectl. Load comes
from inside the cluster as in the labs: `kubectl exec siege -- siege ...` (the
run is shorter than the documents' 40 s: siege keeps real time, the cluster's
clock runs --speed times faster)."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from kubehelp import KUBECTL, Watch, run_kubectl
from waits import wait_for

REPO = Path(__file__).resolve().parents[2]
SPEED = 20

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed on this machine")


SIEGE_POD = """
apiVersion: v1
kind: Pod
metadata:
    name: siege
spec:
    containers:
    - name: siege
      image: apexacme/siege-nginx
"""


class Siege:
    """`kubectl exec siege -- siege ARGS` in the background; output to a file (the -v
    lines are many)."""

    def __init__(self, c, tmp_path, *args, ns: str = "default"):
        self.out = open(tmp_path / f"siege-{ns}.out", "w+")
        self.proc = subprocess.Popen([KUBECTL, "exec", "-n", ns, "siege", "--", "siege", *args],
                                     env=c.env(), stdout=self.out, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 180) -> str:
        self.proc.wait(timeout)
        self.out.seek(0)
        return self.out.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.out.close()


def siege_pod(c, ns: str = "default") -> None:
    assert run_kubectl(c, "apply", "-n", ns, "-f", "-", input=SIEGE_POD).returncode == 0
    wait_for(lambda: run_kubectl(c, "exec", "-n", ns, "siege", "--", "true").returncode == 0,
             what="the siege pod to run")


def hpa(c, name: str, ns: str = "default") -> dict:
    p = run_kubectl(c, "get", "hpa", name, "-n", ns, "-o", "json")
    return json.loads(p.stdout) if p.returncode == 0 else {}


def targets(c, name: str, ns: str = "default") -> tuple[str, int]:
    """(TARGETS, REPLICAS) as `kubectl get hpa` prints them."""
    row = run_kubectl(c, "get", "hpa", name, "-n", ns, "--no-headers").stdout.split()
    # NAME REFERENCE TARGETS(2 words) MINPODS MAXPODS REPLICAS AGE
    return " ".join(row[2:4]), int(row[6])


def percent(target: str) -> int | None:
    m = re.match(r"cpu: (\d+)%/", target)
    return int(m.group(1)) if m else None


def condition(h: dict, typ: str) -> dict:
    return next((c for c in (h.get("status") or {}).get("conditions") or []
                 if c["type"] == typ), {})


def events(c, name: str, ns: str = "default") -> list[dict]:
    p = run_kubectl(c, "get", "events", "-n", ns, "-o", "json", "--field-selector",
                    f"involvedObject.name={name},involvedObject.kind=HorizontalPodAutoscaler")
    return json.loads(p.stdout)["items"] if p.returncode == 0 else []


def ready_pods(c, selector: str, n: int, ns: str = "default") -> bool:
    p = run_kubectl(c, "get", "po", "-n", ns, "-l", selector, "--no-headers")
    rows = [r.split() for r in p.stdout.splitlines()]
    return len(rows) == n and all(r[1].split("/")[0] == r[1].split("/")[1] for r in rows)


@pytest.fixture(scope="module")
def lab():
    from console.embedded import launch
    c = launch.start(speed=SPEED, nodes=2, timeout=90)
    yield c
    c.stop()


def test_l1_hpa_scales_order_out_under_siege_and_back_after_the_window(lab, tmp_path):
    c = lab
    assert run_kubectl(c, "apply", "-f", str(REPO / "manifests/order.yaml")).returncode == 0
    siege_pod(c)
    wait_for(lambda: ready_pods(c, "app=order", 2), what="order 2/2 ready")
    p = run_kubectl(c, "exec", "siege", "--", "siege", "-c1", "-t2S", "-v",
                    "http://order:8080/orders")
    assert "HTTP/1.1 200" in p.stdout and "Availability:" in p.stderr   # siege's summary: stderr
    top = wait_for(lambda: (lambda p: p.stdout if "siege" in p.stdout and "order-" in p.stdout
                            else None)(run_kubectl(c, "top", "pods")), what="kubectl top pods")
    assert top.split()[:3] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert ["siege", "0m", "8Mi"] in [line.split() for line in top.splitlines()]   # as in L1
    pods = Watch(c, "po")
    hpas = Watch(c, "hpa")
    try:
        p = run_kubectl(c, "autoscale", "deployment", "order", "--cpu-percent=50", "--min=1",
                        "--max=3")
        assert p.stdout.strip() == "horizontalpodautoscaler.autoscaling/order autoscaled"
        # the first line the watch prints: no metrics yet, no replicas counted
        first = wait_for(lambda: next((ln for ln in hpas.lines if ln.startswith("order")), None),
                         what="the hpa watch line")
        assert first.split()[2:4] == ["cpu:", "<unknown>/50%"] and first.split()[6] == "0"
        wait_for(lambda: percent(targets(c, "order")[0]) is not None, what="first figures")
        idle, replicas = targets(c, "order")
        # idle: far below target (2 replicas, or 1 on a machine slow enough for the window)
        assert percent(idle) < 50 and replicas in (1, 2)

        load = Siege(c, tmp_path, "-c20", "-t10S", "-v", "http://order:8080/orders")
        peak = [0]

        def scaled():
            t, n = targets(c, "order")
            peak[0] = max(peak[0], percent(t) or 0)
            return n == 3 and peak[0] > 100
        wait_for(scaled, timeout=180, what="TARGETS far above 50% and REPLICAS 3")
        out = load.wait()
        assert load.proc.returncode == 0, out[-2000:]
        assert re.search(r"Availability:\s+100.00 %", out), out[-2000:]
        h = hpa(c, "order")
        assert h["status"]["desiredReplicas"] == 3
        assert condition(h, "ScalingActive")["reason"] == "ValidMetricFound"
        rescales = [e["message"] for e in events(c, "order") if e["reason"] == "SuccessfulRescale"]
        assert rescales[0] == ("New size: 3; reason: cpu resource utilization (percentage of "
                               "request) above target")

        # the new pod goes Pending -> ContainerCreating -> Running 0/1 -> 1/1 in the watch
        def lifecycle():
            names = {}
            for ln in pods.lines:
                f = ln.split()
                if len(f) >= 3 and f[0].startswith("order-"):
                    names.setdefault(f[0], []).append((f[1], f[2]))
            return next((seq for seq in names.values() if ("0/1", "Pending") in seq
                         and ("1/1", "Running") in seq), None)
        seq = wait_for(lifecycle, what="a new order pod to go through its lifecycle")
        steps = [s for s in (("0/1", "Pending"), ("0/1", "ContainerCreating"),
                             ("0/1", "Running"), ("1/1", "Running")) if s in seq]
        assert steps == [("0/1", "Pending"), ("0/1", "ContainerCreating"), ("0/1", "Running"),
                         ("1/1", "Running")]
        assert sorted(seq.index(s) for s in steps) == [seq.index(s) for s in steps]

        # after the load: low figures, yet 3 replicas held by the stabilization window...
        def stabilized():
            h = hpa(c, "order")
            low = percent(targets(c, "order")[0]) or 999
            return h if low < 50 and condition(h, "AbleToScale").get("reason") == \
                "ScaleDownStabilized" else None
        held = wait_for(stabilized, timeout=180, what="the scale-down to be stabilized")
        assert held["status"]["currentReplicas"] == 3
        # ...then down to the minimum once it has passed
        wait_for(lambda: targets(c, "order")[1] == 1, timeout=240, what="scale down to 1")
        rescales = [e["message"] for e in events(c, "order") if e["reason"] == "SuccessfulRescale"]
        assert rescales[-1] == "New size: 1; reason: All metrics below target"
        desc = run_kubectl(c, "describe", "hpa", "order").stdout
        assert "resource cpu on pods  (as a percentage of request):" in desc
        assert re.search(r"AbleToScale\s+True", desc) and "SuccessfulRescale" in desc
    finally:
        pods.stop()
        hpas.stop()
        if "load" in locals():
            load.stop()
        run_kubectl(c, "delete", "hpa", "order")
        run_kubectl(c, "delete", "-f", str(REPO / "manifests/order.yaml"))


L5 = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: management, labels: {app: management}}
spec:
  replicas: 2
  selector: {matchLabels: {app: management}}
  template:
    metadata: {labels: {app: management}}
    spec:
      containers:
        - name: management
          image: 496278789073.dkr.ecr.ap-northeast-2.amazonaws.com/ecr-skcc-team2-management:v1
          ports: [{containerPort: 8080}]
          resources:
            limits: {cpu: 500m}
            requests: {cpu: 200m}
---
apiVersion: v1
kind: Service
metadata: {name: management}
spec:
  selector: {app: management}
  ports: [{port: 8080, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: gateway, labels: {app: gateway}}
spec:
  selector: {matchLabels: {app: gateway}}
  template:
    metadata: {labels: {app: gateway}}
    spec:
      containers:
        - name: gateway
          image: 496278789073.dkr.ecr.ap-northeast-2.amazonaws.com/ecr-skcc-team2-gateway:v1
          ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: gateway}
spec:
  selector: {app: gateway}
  ports: [{port: 8080, targetPort: 8080}]
"""


def test_l5_management_scales_to_ten_and_utilization_falls_back(lab, tmp_path):
    c = lab
    ns = "l5"
    run_kubectl(c, "create", "namespace", ns)
    assert run_kubectl(c, "apply", "-n", ns, "-f", "-", input=L5).returncode == 0
    siege_pod(c, ns)
    wait_for(lambda: ready_pods(c, "app=management", 2, ns), what="management 2/2 ready")
    wait_for(lambda: "HTTP/1.1 200" in run_kubectl(
        c, "exec", "-n", ns, "siege", "--", "siege", "-c1", "-r1", "-v",
        "http://gateway:8080/carManagements").stdout, timeout=120, what="the route to serve")
    p = run_kubectl(c, "autoscale", "deploy", "management", "-n", ns, "--min=2", "--max=10",
                    "--cpu-percent=20")
    assert p.returncode == 0, p.stderr
    load = Siege(c, tmp_path, "-r", "2000", "-c", "200", "-v", "http://gateway:8080/carManagements",
                 ns=ns)
    seen = []

    def at_ten():
        t, n = targets(c, "management", ns)
        if percent(t) is not None:
            seen.append(percent(t))
        return n == 10
    try:
        wait_for(at_ten, timeout=240, what="10 replicas")
        assert max(seen) > 100      # far above the 20 % target
        wait_for(lambda: (percent(targets(c, "management", ns)[0]) or 999) < max(seen) / 2,
                 timeout=240, what="utilization to fall back")
    finally:
        load.stop()
        run_kubectl(c, "delete", "namespace", ns, "--wait=false")


NO_TARGET = """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ghost}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ghost}
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
"""


def test_hpa_bad_input_is_reported_as_the_real_controller_reports_it(lab):
    c = lab
    ns = "hpa-bad"
    run_kubectl(c, "create", "namespace", ns)
    try:
        # a target that does not exist: kubectl autoscale refuses, an applied HPA waits
        p = run_kubectl(c, "autoscale", "deployment", "ghost", "-n", ns, "--max=3")
        assert p.returncode == 1
        assert p.stderr.strip() == 'Error from server (NotFound): deployments.apps "ghost" not found'
        assert run_kubectl(c, "apply", "-n", ns, "-f", "-", input=NO_TARGET).returncode == 0
        h = wait_for(lambda: (lambda h: h if condition(h, "AbleToScale") else None)(
            hpa(c, "ghost", ns)), what="the ghost HPA's conditions")
        assert condition(h, "AbleToScale") == {
            **condition(h, "AbleToScale"), "status": "False", "reason": "FailedGetScale",
            "message": "the HPA controller was unable to get the target's current scale: "
                       'deployments.apps "ghost" not found'}
        assert targets(c, "ghost", ns) == ("cpu: <unknown>/50%", 0)
        (ev,) = [e for e in events(c, "ghost", ns) if e["reason"] == "FailedGetScale"]
        assert ev["type"] == "Warning" and ev["message"] == 'deployments.apps "ghost" not found'
        assert ev["source"]["component"] == "horizontal-pod-autoscaler"

        # pods without a cpu request
        assert run_kubectl(c, "create", "deployment", "web", "-n", ns, "--image=nginx").returncode == 0
        wait_for(lambda: ready_pods(c, "app=web", 1, ns), what="web ready")
        assert run_kubectl(c, "autoscale", "deployment", "web", "-n", ns, "--cpu-percent=50",
                           "--max=3").returncode == 0
        h = wait_for(lambda: (lambda h: h if condition(h, "ScalingActive").get("status") == "False"
                              else None)(hpa(c, "web", ns)), timeout=120,
                     what="ScalingActive False")
        pod = run_kubectl(c, "get", "po", "-n", ns, "-l", "app=web", "-o",
                          "jsonpath={.items[0].metadata.name}").stdout
        why = f"missing request for cpu in container nginx of Pod {pod}"

        def reported():
            h = hpa(c, "web", ns)
            return why in condition(h, "ScalingActive").get("message", "") and h
        h = wait_for(reported, timeout=120, what="the missing-request condition")
        assert condition(h, "ScalingActive")["reason"] == "FailedGetResourceMetric"
        assert condition(h, "ScalingActive")["message"] == (
            f"the HPA was unable to compute the replica count: failed to get cpu utilization: {why}")
        assert h["status"]["currentMetrics"] == [{"type": ""}]
        evs = {e["reason"]: e["message"] for e in events(c, "web", ns)}
        assert evs["FailedGetResourceMetric"] == f"failed to get cpu utilization: {why}"
        assert evs["FailedComputeMetricsReplicas"] == (
            "invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource "
            f"metric value: failed to get cpu utilization: {why}")
        assert targets(c, "web", ns) == ("cpu: <unknown>/50%", 1)
        desc = run_kubectl(c, "describe", "hpa", "web", "-n", ns).stdout
        assert "FailedComputeMetricsReplicas" in desc and re.search(r"ScalingActive\s+False", desc)
        # nothing else disturbed: the cluster and its metrics carry on
        assert run_kubectl(c, "top", "pods", "-n", ns).returncode == 0
        assert os.path.exists(c.kubeconfig) and c.proc.poll() is None
    finally:
        run_kubectl(c, "delete", "namespace", ns, "--wait=false")

"""Lab L2 over real HTTP: a rollout stable -> canary under steady load loses
requests without a readinessProbe, and none with the documented one."""

import threading

import pytest

from console.embedded import launch
from kubehelp import SPEED_FOR_WINDOWS
from kubelet_helpers import Lab, http
from waits import wait_for

SPEED = SPEED_FOR_WINDOWS    # a boot window: see tests/kubehelp.py
RATE = 1.0 * SPEED          # "1 request/s" of simulated time, in real requests per second

DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: order
  labels: {{app: order}}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: order}}
  template:
    metadata:
      labels: {{app: order}}
    spec:
      containers:
      - name: order
        image: jinyoung/order:{tag}
        ports:
        - containerPort: 8080
{probe}
---
apiVersion: v1
kind: Service
metadata:
  name: order
  labels: {{app: order}}
spec:
  ports:
  - port: 8080
    targetPort: 8080
  selector:
    app: order
"""

READINESS = """        readinessProbe:
          httpGet:
            path: '/orders'
            port: 8080
          initialDelaySeconds: 10
          timeoutSeconds: 2
          periodSeconds: 5
          failureThreshold: 10"""


class Load:
    """siege -c1 --delay: one request at a time, a fresh connection each."""

    def __init__(self, address: str):
        self.address = address
        self.ok = self.failed = 0
        self.versions: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            status, body = http("GET", self.address, "/orders", timeout=5)
            if status == 200:
                self.ok += 1
                self.versions.append("canary" if '"canary"' in body else "stable")
            else:
                self.failed += 1
            self._stop.wait(1 / RATE)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


@pytest.fixture(scope="module")
def lab():
    running = launch.start(speed=SPEED, nodes=2, timeout=90)
    try:
        yield Lab(running)
    finally:
        running.stop()


def rolled_out(lab, tag: str) -> bool:
    pods = lab.pods(selector="app=order")
    return (len(pods) == 1 and pods[0].metadata.deletion_timestamp is None
            and pods[0].spec.containers[0].image.endswith(f":{tag}")
            and bool(pods[0].status.container_statuses)
            and pods[0].status.container_statuses[0].ready)


def roll(lab, load: Load, tag: str, probe: str) -> None:
    lab.kubectl("apply", "-f", "-", input=DEPLOY.format(tag=tag, probe=probe))
    wait_for(lambda: rolled_out(lab, tag), timeout=180, what=f"rollout to {tag}")
    # keep the load on until the new version has answered a few times
    seen = len(load.versions)
    wait_for(lambda: load.versions[seen:].count(tag) >= 5, timeout=60, what=f"{tag} answering")


def test_l2_rollout_loses_requests_without_readiness_and_none_with_it(lab):
    lab.kubectl("apply", "-f", "-", input=DEPLOY.format(tag="stable", probe=""))
    addr = wait_for(lambda: lab.service_address("order", 8080), what="host port")
    wait_for(lambda: http("GET", addr, "/orders")[0] == 200, timeout=120, what="stable serving")

    with Load(addr) as without:
        roll(lab, without, "canary", probe="")
    print("without readiness:", without.ok, "ok", without.failed, "failed")
    assert without.failed > 0, (without.ok, without.failed)
    assert without.ok > 0

    with Load(addr) as with_probe:
        roll(lab, with_probe, "stable", probe=READINESS)
    print("with readiness:", with_probe.ok, "ok", with_probe.failed, "failed")
    assert with_probe.failed == 0, (with_probe.ok, with_probe.failed)
    assert with_probe.ok > 20
    events = lab.kubectl("get", "events", "--field-selector", "reason=Unhealthy").stdout
    assert "Readiness probe failed: Get \"http://10.244." in events

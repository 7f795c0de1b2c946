"""The labs' siege pod, driven with kubectl as the documents type it: siege's -v
lines and summary from inside the cluster, an interactive bash with ^C, HTTPie's
`http`, and `kill 1` restarting a container (L7 / document 003)."""

import os
import re
import shutil
import subprocess
import time

import psutil
import pytest

from kubelet_helpers import SIEGE_MANIFEST, Lab, lab_cluster
from kubehelp import KUBECTL
from waits import wait_for

pytestmark = pytest.mark.kubectl



def siege_children(pid: int) -> list[psutil.Process]:
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for k in kids:
        try:
            if k.status() != psutil.STATUS_ZOMBIE and "siege" in k.cmdline():
                out.append(k)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.fixture(scope="module")
def lab():
    with lab_cluster() as lab:
        lab.kubectl("create", "deployment", "order", "--image=ghcr.io/acmexii/order-liveness:latest",
                    "--port=8080")
        lab.kubectl("expose", "deploy", "order", "--port=8080")
        lab.kubectl("apply", "-f", SIEGE_MANIFEST)
        wait_for(lambda: lab.kubectl("exec", "siege", "--", "curl", "-sf",
                                     "http://order:8080/orders", check=False).returncode == 0,
                 timeout=180, what="order answering from the siege pod")
        yield lab


def test_siege_in_the_pod_prints_its_lines_and_summary(lab):
    r = lab.kubectl("exec", "siege", "--", "siege", "-c1", "-t2S", "-v", "http://order:8080/orders")
    lines = r.stdout.splitlines()
    assert lines and all(re.fullmatch(r"HTTP/1\.1 200 +\d+\.\d\d secs: +\d+ bytes ==> GET  /orders", l)
                         for l in lines), r.stdout[:500]
    assert "The server is now under siege..." in r.stderr
    assert "Lifting the server siege..." in r.stderr
    assert "Availability:\t\t      100.00 %" in r.stderr
    hits = int(r.stderr.split("Transactions:")[1].split("hits")[0])
    assert hits == len(lines)
    # in-cluster names resolve from the pod's namespace; an unknown one fails its requests
    r = lab.kubectl("exec", "siege", "--", "siege", "-c1", "-r2", "http://nosuch:8080/", check=False)
    assert "Availability:\t\t        0.00 %" in r.stderr and "[error] socket" in r.stderr


def test_siege_streams_and_dies_with_the_exec_session(lab):
    proc = subprocess.Popen([KUBECTL, "exec", "siege", "--", "siege", "-c1", "-v",
                             "http://order:8080/orders"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=lab.c.env())
    try:
        # no -t and no -r: it never ends by itself, so these lines were streamed
        assert proc.stdout.readline().startswith(b"HTTP/1.1 200")
        assert proc.stdout.readline().startswith(b"HTTP/1.1 200")
        assert siege_children(lab.c.pid)
    finally:
        proc.kill()
        proc.wait(30)
    wait_for(lambda: not siege_children(lab.c.pid), what="the engine gone with the session")
    ps = lab.kubectl("exec", "siege", "--", "ps", "ax").stdout
    assert "siege -c1" not in ps


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a pseudo-terminal")
def test_interactive_bash_siege_ctrl_c_and_exit(lab):
    proc = subprocess.Popen(["script", "-qc", f"{KUBECTL} exec -it siege -- /bin/bash", "/dev/null"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=lab.c.env())
    out = b""

    seen = 0

    def read_until(token: bytes, timeout: float = 90) -> bool:
        """The token in what came after the last one found."""
        nonlocal out, seen
        deadline = time.monotonic() + timeout
        while token not in out[seen:] and time.monotonic() < deadline:
            chunk = proc.stdout.read1(65536)
            if not chunk:
                break
            out += chunk
        if token not in out[seen:]:
            return False
        seen = out.index(token, seen) + len(token)
        return True

    def type_(text: bytes) -> None:
        proc.stdin.write(text)
        proc.stdin.flush()
    try:
        assert read_until(b"root@siege:/# ")
        type_(b"siege -c2 -v http://order:8080/orders\r")
        assert read_until(b"==> GET  /orders")
        type_(b"\x03")
        assert read_until(b"Lifting the server siege...")
        assert read_until(b"Shortest transaction:")
        assert read_until(b"root@siege:/# ", 60)
        type_(b"http PUT order:8080/actuator/down\r")
        assert read_until(b'"status": "DOWN"')
        type_(b"http order:8080/actuator/health\r")
        assert read_until(b"HTTP/1.1 503 Service Unavailable")
        type_(b"http PUT order:8080/actuator/up\r")
        assert read_until(b'"status": "UP"')
        type_(b"exit\r")
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert b"HTTP/1.1 200" in out and b"^C" in out


def test_kill_1_restarts_the_container_and_kill_9_1_cannot(lab):
    pod = lab.pods(selector="app=order")[0].metadata.name
    ps = lab.kubectl("exec", pod, "--", "ps", "ax").stdout.splitlines()
    assert ps[0] == "    PID TTY      STAT   TIME COMMAND"
    assert re.match(r"\s+1 \?\s+Ssl\s+\d+:\d\d java -Xmx400M .* -jar /app.jar", ps[1]), ps
    # from inside the container, init only gets the signals it handles: not SIGKILL
    assert lab.kubectl("exec", pod, "--", "kill", "-9", "1").returncode == 0
    assert lab.kubectl("exec", pod, "--", "ps", "ax").returncode == 0
    assert (lab.pod(pod).status.container_statuses[0].restart_count or 0) == 0
    # a JVM handles SIGTERM: it shuts down, exits 143, and the kubelet restarts it
    assert lab.kubectl("exec", pod, "--", "kill", "1").returncode == 0
    wait_for(lambda: (lab.pod(pod).status.container_statuses[0].restart_count or 0) == 1,
             what="restart counted")
    cs = lab.pod(pod).status.container_statuses[0]
    assert cs.last_state.terminated.exit_code == 143 and cs.last_state.terminated.reason == "Error"
    out = lab.kubectl("describe", "pod", pod).stdout
    assert re.search(r"Normal\s+Started\s+\S+ \(x2 over \S+\)\s+kubelet\s+Started container order",
                     out), out
    assert "Last State:     Terminated" in out and "Exit Code:    143" in out
    assert "Commencing graceful shutdown" in lab.kubectl("logs", pod, "--previous").stdout


def test_the_engine_dies_with_the_cluster(start_cluster):
    c = start_cluster()
    lab = Lab(c)
    lab.kubectl("apply", "-f", SIEGE_MANIFEST)
    lab.kubectl("wait", "--for=condition=Ready", "pod/siege", "--timeout=120s")
    proc = subprocess.Popen([KUBECTL, "exec", "siege", "--", "siege", "-c1", "-v",
                             "http://localhost/"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=c.env())
    try:
        assert proc.stdout.readline().startswith(b"HTTP/1.1 200")    # nginx in the pod itself
        kids = siege_children(c.pid)
        assert kids
        os.kill(c.pid, 9)            # no clean stop: the kernel must take the engine down too
        c.proc.wait(30)
        wait_for(lambda: not any(k.is_running() and k.status() != psutil.STATUS_ZOMBIE
                                 for k in kids), what="the engine gone with the cluster")
    finally:
        proc.kill()
        proc.wait(30)

"""kubectl exec over WebSocket (kubectl 1.30+): commands, exit codes, stdin, a tty."""

import shutil
import subprocess
import time
import uuid

import pytest

from kubehelp import KUBECTL
from waits import wait_for

pytestmark = pytest.mark.kubectl


@pytest.fixture
def busybox(kubectl):
    ns = f"ex-{uuid.uuid4().hex[:6]}"
    assert kubectl("create", "namespace", ns).returncode == 0
    r = kubectl("run", "bb", "-n", ns, "--image=busybox", "--",
                "sh", "-c", "touch /tmp/healthy; sleep 600")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: "1/1     Running" in kubectl("get", "pod", "bb", "-n", ns).stdout,
             what="busybox Running")
    return ns


def test_exec_commands_and_exit_codes(kubectl, busybox):
    ns = busybox
    r = kubectl("exec", "bb", "-n", ns, "--", "cat", "/tmp/healthy")
    assert r.returncode == 0 and r.stdout == ""
    r = kubectl("exec", "bb", "-n", ns, "--", "cat", "/nope")
    assert r.returncode == 1
    assert "can't open '/nope'" in r.stdout + r.stderr
    assert "command terminated with exit code 1" in r.stderr
    r = kubectl("exec", "bb", "-n", ns, "--", "sh", "-c", "echo hi; ls /tmp; exit 3")
    assert r.returncode == 3 and r.stdout.splitlines()[:2] == ["hi", "healthy"]
    r = kubectl("exec", "-i", "bb", "-n", ns, "--", "sh", input="echo from-stdin\nrm /tmp/healthy\n")
    assert r.returncode == 0 and r.stdout.strip() == "from-stdin"
    assert kubectl("exec", "bb", "-n", ns, "--", "cat", "/tmp/healthy").returncode == 1
    r = kubectl("exec", "ghost", "-n", ns, "--", "true")
    assert r.returncode == 1 and 'pods "ghost" not found' in r.stderr


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a pseudo-terminal")
def test_exec_with_a_tty_echoes_and_runs_lines(cluster, busybox):
    ns = busybox
    proc = subprocess.Popen(["script", "-qc", f"{KUBECTL} exec -it bb -n {ns} -- sh", "/dev/null"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=cluster.env())
    out = b""
    try:
        def read_until(token: bytes):
            nonlocal out
            deadline = time.monotonic() + 60
            while token not in out and time.monotonic() < deadline:
                chunk = proc.stdout.read1(4096)
                if not chunk:
                    break
                out += chunk
            return token in out
        assert read_until(b"/ # ")
        proc.stdin.write(b"echo tty-$((1+2))\r")
        proc.stdin.flush()
        assert read_until(b"tty-3\r\n/ # ")
        proc.stdin.write(b"exit\r")
        proc.stdin.flush()
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert b"echo tty-$((1+2))" in out  # typed characters are echoed

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


def test_output_streams_while_the_command_runs_and_stdin_streams_in(cluster, busybox):
    ns = busybox
    proc = subprocess.Popen([KUBECTL, "exec", "-i", "bb", "-n", ns, "--", "sh", "-c",
                             "echo ready; read x; echo got $x; cat"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=cluster.env())
    try:
        assert proc.stdout.readline() == b"ready\n"      # before the command has its input
        assert proc.poll() is None
        proc.stdin.write(b"one\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"got one\n"
        proc.stdin.write(b"two\n")
        proc.stdin.close()                               # end of input ends `cat`
        assert proc.stdout.read() == b"two\n"
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_binary_stdout_comes_back_byte_for_byte(cluster, busybox):
    import gzip
    data = bytes(range(256)) * 64
    r = subprocess.run([KUBECTL, "exec", "-i", "bb", "-n", busybox, "--", "gzip", "-c"],
                       input=data, capture_output=True, env=cluster.env(), timeout=60)
    assert r.returncode == 0, r.stderr
    assert gzip.decompress(r.stdout) == data
    r = subprocess.run([KUBECTL, "exec", "bb", "-n", busybox, "--", "sh", "-c",
                        "echo hello | gzip"], capture_output=True, env=cluster.env(), timeout=60)
    assert gzip.decompress(r.stdout) == b"hello\n"


def test_unknown_commands_fail_as_on_a_real_node(kubectl, busybox):
    r = kubectl("exec", "bb", "-n", busybox, "--", "nosuch", "--flag")
    assert r.returncode == 1
    assert r.stderr.startswith("error: Internal error occurred: error executing command in "
                               "container: failed to exec in container: failed to start exec \"")
    assert ('OCI runtime exec failed: exec failed: unable to start container process: exec: '
            '"nosuch": executable file not found in $PATH: unknown') in r.stderr
    r = kubectl("exec", "bb", "-n", busybox, "--", "bash")     # busybox has no bash
    assert r.returncode == 1 and 'exec: "bash": executable file not found' in r.stderr
    r = kubectl("exec", "bb", "-n", busybox, "--", "sh", "-c", "nosuch")
    assert r.returncode == 127 and "sh: nosuch: not found" in r.stdout + r.stderr
    assert "command terminated with exit code 127" in r.stderr


def test_the_official_client_streams_stdin_resizes_and_gets_the_exit_code(api, busybox):
    import json as _json

    from kubernetes import client
    from kubernetes.stream import stream
    core = client.CoreV1Api(api)
    ws = stream(core.connect_get_namespaced_pod_exec, "bb", busybox,
                command=["sh", "-c", "read line; echo got:$line; exit 4"],
                stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
    try:
        ws.write_stdin("hello\n")                      # text frames, as this client writes
        ws.run_forever(timeout=60)
        assert ws.read_stdout() == "got:hello\n"
        assert ws.returncode == 4
    finally:
        ws.close()
    ws = stream(core.connect_get_namespaced_pod_exec, "bb", busybox, command=["sh"],
                stdin=True, stdout=True, stderr=False, tty=True, _preload_content=False)
    try:
        ws.write_channel(4, _json.dumps({"Width": 132, "Height": 43}))
        ws.write_stdin("stty size\r")
        out = ""
        deadline = time.monotonic() + 60
        while "43 132" not in out and time.monotonic() < deadline:
            ws.update(timeout=1)
            out += ws.read_stdout(timeout=0) or ""
        assert "43 132" in out
        ws.write_stdin("exit\r")
        ws.run_forever(timeout=60)
        assert ws.returncode == 0
    finally:
        ws.close()

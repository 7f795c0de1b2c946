"""`kubectl exec POD [-c C] -- COMMAND` through the API (pods/exec over WebSocket).

Output is read as it comes (`on_output` sees each chunk: a siege run's -v lines
arrive while it runs); the exit code comes from the error channel's Status as
kubectl reads it ("command terminated with exit code N"). Each call uses an
ApiClient of its own: the official client's `stream()` swaps the client's
transport while it runs, which would break the informers sharing the console's.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from dataclasses import dataclass

from console.cluster.actions import Result, action

ERROR = 3          # the channel of the command's final Status


@dataclass
class ExecResult:
    exit_code: int | None      # None: still running when the timeout came (or stopped)
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def argv_of(command: str | list[str]) -> list[str]:
    """A list as is; a string split as a shell would (`printenv CONTURY`)."""
    return list(command) if isinstance(command, (list, tuple)) else shlex.split(command)


def pod_of(conn, target: str) -> str:
    """kubectl's exec target: a pod name, pod/NAME, or deploy/NAME (its first running pod,
    as `kubectl exec deploy/x` picks one through the Deployment's selector)."""
    from console.cluster import rest
    kind, sep, name = target.partition("/")
    if not sep:
        return target
    kind = rest.kind_of(kind)
    if kind == "Pod":
        return name
    if kind not in ("Deployment", "ReplicaSet"):
        raise LookupError(f"cannot exec into {target}: a pod or a deployment, please")
    obj = rest.get(conn.api, kind, conn.namespace, name)
    labels = (obj["spec"].get("selector") or {}).get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    body = rest.call(conn.api, "GET", rest.path_for("Pod", conn.namespace),
                     query=[("labelSelector", selector)])
    running = sorted((p for p in body.get("items") or []
                      if (p.get("status") or {}).get("phase") == "Running"
                      and not p["metadata"].get("deletionTimestamp")),
                     key=lambda p: p["metadata"].get("creationTimestamp") or "")
    if not running:
        raise LookupError(f"no running pod of {target}")
    return running[0]["metadata"]["name"]


def run(conn, pod: str, command: str | list[str], container: str | None = None,
        timeout: float = 60.0, on_output=None, stop: threading.Event | None = None,
        stdin: str | None = None, interrupt: threading.Event | None = None) -> ExecResult:
    """Run `command` in `pod` (or deploy/NAME) until it ends, `timeout` passes or `stop` is set.

    interrupt: run on a terminal (`kubectl exec -it`: stdout and stderr arrive as one
    stream) and, when it is set, type ^C once, so the command ends as it would for
    a person (siege then prints its summary); the output is still read to the end."""
    from kubernetes import client
    from kubernetes.stream import stream

    pod = pod_of(conn, pod)
    tty = interrupt is not None
    api = client.ApiClient(conn.api.configuration)
    try:
        kw = {"container": container} if container else {}
        resp = stream(client.CoreV1Api(api).connect_get_namespaced_pod_exec, pod, conn.namespace,
                      command=argv_of(command), stderr=True,
                      stdin=stdin is not None or tty, stdout=True,
                      tty=tty, _preload_content=False, **kw)
        if stdin is not None:
            resp.write_stdin(stdin)
            resp.close_channel(0)
        out, err = [], []
        deadline = time.monotonic() + timeout
        typed = False
        status = ""
        while resp.is_open() and time.monotonic() < deadline and not (stop and stop.is_set()):
            if tty and interrupt.is_set() and not typed:
                resp.write_stdin("\x03")
                typed = True
            resp.update(timeout=0.25)
            status += resp.read_channel(ERROR, timeout=0)   # read_all() empties it too
            _take(resp, tty, out, err, on_output)
        if resp.is_open():
            resp.close()
            _take(resp, tty, out, err, on_output)
            return ExecResult(None, "".join(out), "".join(err))
        # a channel read updates the client too, and may have brought the last
        # output with the close
        status += resp.read_channel(ERROR, timeout=0)
        _take(resp, tty, out, err, on_output)
        return ExecResult(exit_code(status), "".join(out), "".join(err))
    finally:
        api.close()


def exit_code(status: str) -> int:
    """The exit code in the error channel's Status, as kubectl reads it."""
    if not status.strip():
        raise ConnectionError("the exec stream ended without the command's exit status")
    obj = json.loads(status)
    if obj.get("status") == "Success":
        return 0
    for cause in (obj.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause["message"])
    raise RuntimeError(obj.get("message") or status)


def _take(resp, tty: bool, out: list, err: list, on_output) -> None:
    """What has arrived. A terminal's one stream is taken with read_all(), which
    reads nothing new from the socket and empties the client's copy of all output
    (kept for as long as the command runs: a long siege -v run would pile up)."""
    if tty:
        parts = ((out, resp.read_all()),)
    else:
        parts = ((out, resp.read_stdout(timeout=0)), (err, resp.read_stderr(timeout=0)))
    for chunks, text in parts:
        if text:
            chunks.append(text)
            if on_output:
                on_output(text)


@action
def exec_command(conn, pod: str, command, container: str | None = None,
                 timeout: float = 60.0) -> Result:
    """As `kubectl exec`: a non-zero exit is a failure, with the output shown."""
    res = run(conn, pod, command, container, timeout)
    data = {"exitCode": res.exit_code, "stdout": res.stdout, "stderr": res.stderr}
    text = res.output.strip()
    if res.exit_code is None:
        return Result(False, f"exec in {pod}: still running after {timeout:g}s", data=data)
    if res.exit_code != 0:
        return Result(False, f"command terminated with exit code {res.exit_code}"
                      + (f": {text.splitlines()[-1][:200]}" if text else ""), data=data)
    return Result(True, text[:300] or f"exec in {pod}: exit 0", data=data)

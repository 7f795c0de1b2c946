"""Start `kubelab cluster` as a child process from Python and wait until it is ready.

    with launch.start(speed=20) as c:
        subprocess.run(["kubectl", "get", "po"], env={**os.environ, "KUBECONFIG": str(c.kubeconfig)})

    c = launch.start(data=tmp_path / "etcd")     # objects kept there across restarts
    c.kill()                                    # SIGKILL, as a crash would
    c = launch.start(data=tmp_path / "etcd", kubeconfig=c.kubeconfig)   # same objects, port, token
    c.drop_watches(); c.compact()               # api/admin.py's test hooks
"""

import base64
import json
import os
import ssl
import urllib.request
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import yaml


class LaunchError(RuntimeError):
    """The cluster process did not come up; `log` is the file its stderr went to."""

    def __init__(self, message: str, log: Path | None = None):
        super().__init__(message)
        self.log = log


class RunningCluster:
    def __init__(self, proc: subprocess.Popen, kubeconfig: Path, log_path: Path, tmp=None):
        self.proc = proc
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self._tmp = tmp
        cfg = yaml.safe_load(kubeconfig.read_text())
        self.server: str = cfg["clusters"][0]["cluster"]["server"]
        self.token: str = cfg["users"][0]["user"]["token"]

    @property
    def pid(self) -> int:
        return self.proc.pid

    def env(self) -> dict:
        """os.environ with KUBECONFIG pointing at this cluster."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def admin(self, what: str, **query) -> dict:
        """POST /kubelab/admin/<what> with the administrator's token (api/admin.py)."""
        cfg = yaml.safe_load(self.kubeconfig.read_text())
        ca = base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).decode()
        ctx = ssl.create_default_context(cadata=ca)
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        req = urllib.request.Request(f"{self.server}/kubelab/admin/{what}" + (f"?{qs}" if qs else ""),
                                     method="POST", data=b"",
                                     headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
            return json.loads(resp.read())

    def drop_watches(self, reset: bool = False) -> int:
        """End every watch (reset: cut the connections); returns how many."""
        return self.admin("drop-watches", **({"reset": "1"} if reset else {}))["dropped"]

    def compact(self) -> str:
        """Forget the watch history: resumes from older resourceVersions get 410."""
        return self.admin("compact")["resourceVersion"]

    def kill(self) -> int | None:
        """SIGKILL, as a crash or an OOM kill would end it (nothing is flushed)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        return self.stop()

    def stop(self, timeout: float = 15) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(speed: float = 1.0, nodes: int = 2, kubeconfig: str | Path | None = None,
          version: str | None = None, port: int = 0, timeout: float = 60,
          extra: list[str] | None = None, env: dict | None = None,
          data: str | Path | None = None, users: list[str] | None = None,
          metrics: bool = True, max_pods: int | None = None) -> RunningCluster:
    """Start a cluster process; returns once it printed its KUBECONFIG line.

    data: --data DIR (objects kept across restarts); users: --user NAME=ROLE[:NS] each;
    metrics False: --no-metrics; max_pods: --max-pods (each node's pod capacity)."""
    tmp = None
    if kubeconfig is None:
        tmp = tempfile.TemporaryDirectory(prefix="kubelab-")
        kubeconfig = Path(tmp.name) / "kubeconfig"
    kubeconfig = Path(kubeconfig).absolute()
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    log_path = kubeconfig.with_name(kubeconfig.name + ".log")
    cmd = [sys.executable, "-m", "console.cli", "cluster", "--speed", str(speed),
           "--nodes", str(nodes), "--port", str(port), "--kubeconfig", str(kubeconfig)]
    if version:
        cmd += ["--version", version]
    if data is not None:
        cmd += ["--data", str(data)]
    for user in users or ():
        cmd += ["--user", user]
    if not metrics:
        cmd.append("--no-metrics")
    if max_pods is not None:
        cmd += ["--max-pods", str(max_pods)]
    cmd += extra or []
    root = Path(__file__).resolve().parents[2]
    # PYTHONSAFEPATH: `-m` would put the working directory first on sys.path, and
    # a kubelab checkout there (another worktree) would be the server run instead
    env = {**os.environ, **(env or {}), "KUBELAB_EXIT_WITH_PARENT": str(os.getpid()),
           "PYTHONSAFEPATH": "1", "PYTHONPATH": os.pathsep.join(
        p for p in (str(root), os.environ.get("PYTHONPATH", "")) if p)}
    log_file = open(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log_file, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    log_file.close()
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline().decode()),
                              daemon=True)
    reader.start()
    reader.join(timeout)
    text = line[0].strip() if line else ""
    if not text.startswith("KUBECONFIG="):
        if line and not text:  # stdout ended: the process is exiting, let it say how
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
        if tmp is not None:
            tmp.cleanup()
        if not line:  # still silent when the time was up (killed just above)
            why = f"not ready within {timeout:g}s"
        elif not text:  # its stdout ended: it exited before the line
            why = f"exited with {proc.returncode}"
        else:
            why = f"printed {text!r}"
        raise LaunchError(f"kubelab cluster {why}\n{tail}", log_path)
    # Keep draining stdout so the child never blocks on a full pipe.
    threading.Thread(target=lambda: [None for _ in iter(proc.stdout.readline, b"")],
                     daemon=True).start()
    return RunningCluster(proc, Path(text.split("=", 1)[1]), log_path, tmp)

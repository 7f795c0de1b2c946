"""Helpers shared by tests (importable by name: a module called `conftest`
is ambiguous once several directories have one)."""

import os
import shutil
import subprocess
import threading

import pytest

KUBECTL = shutil.which("kubectl") or ("/usr/bin/kubectl" if os.path.exists("/usr/bin/kubectl") else None)


def run_kubectl(c, *args, binary: str | None = None, input: str | None = None,
                timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess:
    binary = binary or KUBECTL
    if binary is None or not os.path.exists(binary):
        pytest.skip("kubectl is not installed on this machine")
    return subprocess.run([binary, *args], env=c.env(), input=input, capture_output=True,
                          text=True, timeout=timeout, check=check)


def api_client(c):
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(c.kubeconfig), client_configuration=cfg)
    return client.ApiClient(cfg)


# Lab L2's downtime is the 25 s an app takes to boot. At --speed 20 that is 1.25 s of
# real time, and on a starved 2-core machine the cluster's own lag (the endpoints
# update, the probe that finds the app listening) can exceed it: the window closes
# and a run without the readinessProbe sees 100 %. At 8 it is 3 s real, which held
# under a load average of 12 (kubelab run, 5 of 5).
SPEED_FOR_WINDOWS = 8


class Watch:
    """`kubectl get <what> -w` in the background, its lines collected."""

    def __init__(self, c, *args):
        """c: a RunningCluster; args: what to get (`po`, `hpa order`, ...)."""
        self.proc = subprocess.Popen([KUBECTL, "get", *args, "-w"], env=c.env(), text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.thread.join(10)

"""Shared fixtures: an embedded cluster over real HTTPS on 127.0.0.1.

cluster        one RunningCluster for the session (--speed 20, 2 nodes)
start_cluster  factory for a private one (stopped at teardown)
kubectl        run /usr/bin/kubectl against `cluster` (skipped when absent)
api            kubernetes.client.ApiClient for `cluster`
"""

import os
import shutil
import subprocess

import pytest

from console.embedded import launch

KUBECTL = shutil.which("kubectl") or ("/usr/bin/kubectl" if os.path.exists("/usr/bin/kubectl") else None)


@pytest.fixture(scope="session")
def cluster():
    c = launch.start(speed=20, nodes=2, timeout=90)
    yield c
    c.stop()


@pytest.fixture
def start_cluster():
    started = []

    def start(**kw):
        kw.setdefault("speed", 20)
        kw.setdefault("timeout", 90)
        c = launch.start(**kw)
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop()


def run_kubectl(c, *args, binary: str | None = None, input: str | None = None,
                timeout: float = 60, check: bool = False) -> subprocess.CompletedProcess:
    binary = binary or KUBECTL
    if binary is None or not os.path.exists(binary):
        pytest.skip("kubectl is not installed on this machine")
    return subprocess.run([binary, *args], env=c.env(), input=input, capture_output=True,
                          text=True, timeout=timeout, check=check)


@pytest.fixture
def kubectl(cluster):
    """kubectl("get", "po", input=None, binary=None) -> CompletedProcess."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine")

    def run(*args, **kw):
        return run_kubectl(cluster, *args, **kw)
    return run


def api_client(c):
    from kubernetes import client, config

    cfg = client.Configuration()
    config.load_kube_config(config_file=str(c.kubeconfig), client_configuration=cfg)
    return client.ApiClient(cfg)


@pytest.fixture
def api(cluster):
    a = api_client(cluster)
    yield a
    a.close()

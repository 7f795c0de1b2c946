"""Shared fixtures: an embedded cluster over real HTTPS on 127.0.0.1.

cluster        one RunningCluster for the session (--speed 20, 2 nodes)
start_cluster  factory for a private one (stopped at teardown)
kubectl        run /usr/bin/kubectl against `cluster` (skipped when absent)
api            kubernetes.client.ApiClient for `cluster`
"""

import pytest

from console.embedded import launch
from kubehelp import KUBECTL, api_client, run_kubectl


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


@pytest.fixture
def kubectl(cluster):
    """kubectl("get", "po", input=None, binary=None) -> CompletedProcess."""
    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine")

    def run(*args, **kw):
        return run_kubectl(cluster, *args, **kw)
    return run


@pytest.fixture
def api(cluster):
    a = api_client(cluster)
    yield a
    a.close()

"""Shared fixtures: an embedded cluster over real HTTPS on 127.0.0.1.

cluster        one RunningCluster for the session (--speed 20, 2 nodes)
cluster_speed8 another, at --speed 8, for labs whose outcome is a window of a few
               cluster seconds (started only if a test asks for it)
start_cluster  factory for a private one (stopped at teardown)
kubectl        run /usr/bin/kubectl against `cluster` (skipped when absent)
api            kubernetes.client.ApiClient for `cluster`
"""

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from console.embedded import launch, seal
from kubehelp import KUBECTL, SPEED_FOR_WINDOWS, api_client, run_kubectl


# The fuzz suites (tests/*/test_fuzz_*.py): the same examples every run (derandomized,
# no example database), no per-example deadline on a busy 2-core box, bounded counts.
settings.register_profile("kubelab", derandomize=True, database=None, deadline=None,
                          max_examples=150, print_blob=False,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture])
settings.register_profile("kubelab-deep", parent=settings.get_profile("kubelab"),
                          derandomize=False, max_examples=3000)  # --hypothesis-profile=kubelab-deep
settings.load_profile("kubelab")


def pytest_configure(config):
    # Every store in the run, in this process and in the clusters it starts (they
    # inherit the environment), checks that no stored object is changed in place.
    if seal.ENV not in os.environ:
        report = Path(tempfile.mkdtemp(prefix="kubelab-seal-")) / "changed-in-place.txt"
        os.environ[seal.ENV] = str(report)


def pytest_sessionfinish(session, exitstatus):
    report = Path(os.environ.get(seal.ENV, ""))
    if report.is_file() and report.read_text().strip():
        print(f"\nstored objects changed in place ({report}):\n{report.read_text()}")
        session.exitstatus = 1


@pytest.fixture(scope="session")
def cluster():
    c = launch.start(speed=20, nodes=2, timeout=90)
    yield c
    c.stop()


@pytest.fixture(scope="session")
def cluster_speed8():
    c = launch.start(speed=SPEED_FOR_WINDOWS, nodes=2, timeout=90)
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

"""What a restricted user may do, asked of the API (access.py), against the embedded
cluster's `--user` tokens: the catalogue actions refused and why, on the bus; the
API's 403 naming verb, resource and namespace when one is tried anyway; and the
metrics-server install action on a cluster started --no-metrics."""

from pathlib import Path

import pytest

from console import bus
from console.cluster import actions, metrics, rest
from console.cluster.access import Access
from console.cluster.connect import from_kubeconfig
from console.cluster.session import Session
from tests.cluster.helpers import wait_for

COMPONENTS = Path(__file__).parent / "data" / "metrics-server-components.yaml"


@pytest.fixture(scope="module")
def users():
    from console.embedded import launch
    c = launch.start(speed=20, users=["viewer=view", "dev=edit:default"], extra=["--no-metrics"])
    admin = from_kubeconfig(str(c.kubeconfig))
    assert actions.apply(admin, "manifests/order.yaml").ok
    yield c
    admin.close()
    c.stop()


def session_as(c, context: str) -> Session:
    return Session(from_kubeconfig(str(c.kubeconfig), context=context))


def test_a_viewer_is_refused_every_change_and_told_why(users):
    s = session_as(users, "kubelab-viewer")
    sub = s.bus.subscribe()
    try:
        refused = s.check_access()
        ev = next(e for e in sub.get_batch(timeout=5) if isinstance(e, bus.Permissions))
        assert ev.user == "viewer" and ev.namespace == "default" and ev.refused == refused
        assert refused["scale"] == "cannot patch deployments.apps in namespace default"
        assert refused["deletePod"] == "cannot delete pods in namespace default"
        assert refused["autoscale"].startswith("cannot create horizontalpodautoscalers.autoscaling")
        assert "metrics.install" in refused and "load.start" not in refused
        # tried anyway: the API's own words name the verb, the resource and the namespace
        res = s.act("scale", deployment="order", by=1)
        assert not res.ok
        assert res.message == ('deployments.apps "order" is forbidden: User "viewer" cannot patch '
                               'resource "deployments" in API group "apps" in the namespace '
                               '"default"')
    finally:
        s.close()


def test_edit_in_one_namespace_is_allowed_there_only(users):
    s = session_as(users, "kubelab-dev")
    try:
        refused = s.check_access()
        # edit covers the lab's own kinds; Istio's and an add-on's cluster objects are not in it
        assert set(refused) == {"metrics.install", "mesh.circuitBreaker", "mesh.retries",
                                "mesh.delay", "mesh.abort", "mesh.clear"}
        assert refused["metrics.install"] == ("cannot create apiservices.apiregistration.k8s.io "
                                              "at the cluster scope")
        s.switch(namespace="kube-system")
        refused = s.check_access()
        assert refused["scale"] == "cannot patch deployments.apps in namespace kube-system"
    finally:
        s.close()


def test_the_administrator_is_refused_nothing(users):
    s = session_as(users, "kubelab")
    try:
        assert s.check_access() == {}
        a = Access(s.conn)
        assert a.can("delete", "nodes", namespace=None) == (True, "")
    finally:
        s.close()


def test_metrics_server_installs_from_a_local_manifest_and_its_rollout_shows(users):
    s = session_as(users, "kubelab")
    sub = s.bus.subscribe()
    try:
        m = metrics.fetch(s.conn.api, "default")
        assert not m.available and m.hint == "error: Metrics API not available"
        assert m.why.startswith("metrics-server is not installed (no APIService "
                                "v1beta1.metrics.k8s.io): the HPA cannot read CPU")
        res = s.act("metrics.install", source=str(COMPONENTS), timeout=300)
        assert res.ok, res.message
        assert "serviceaccount/metrics-server created" in res.message
        assert "apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io created" in res.message
        assert 'deployment "metrics-server" successfully rolled out' in res.message
        assert "apiservice v1beta1.metrics.k8s.io is Available" in res.message
        seen = [e.message for e in sub.get_batch(timeout=1) if isinstance(e, bus.ActionProgress)]
        assert any(t.startswith('Waiting for deployment "metrics-server" rollout to finish')
                   for t in seen), seen
        wait_for(lambda: metrics.fetch(s.conn.api, "default").available, 120, "pod metrics")
        assert rest.get(s.conn.api, "ClusterRole", "", "system:aggregated-metrics-reader")
        # again, from the session's copy (--metrics-manifest): unchanged, done at once
        s.metrics_manifest = str(COMPONENTS)
        again = s.act("metrics.install", timeout=60)
        assert again.ok and "deployment.apps/metrics-server unchanged" in again.message
    finally:
        s.close()


def test_a_manifest_that_cannot_be_read_is_one_line(users, tmp_path):
    s = session_as(users, "kubelab")
    try:
        res = s.act("metrics.install", source=str(tmp_path / "nope.yaml"))
        assert not res.ok and "nope.yaml" in res.message and "No such file" in res.message
        res = s.act("metrics.install", source="http://127.0.0.1:9/components.yaml")
        assert not res.ok and res.message.startswith("http://127.0.0.1:9/components.yaml: "
                                                     "cannot fetch the manifest")
        assert "metrics.install: {source: FILE}" in res.message
    finally:
        s.close()


def test_a_metrics_server_whose_pod_is_not_ready_is_named_with_its_pod(start_cluster, tmp_path):
    """Installed, its APIService not Available because its pod does not start: the
    pane says which pod and what state it is in, not only the APIService's reason."""
    c = start_cluster(metrics=False)
    broken = tmp_path / "components.yaml"
    text = COMPONENTS.read_text()
    image = next(line.split("image:", 1)[1].strip() for line in text.splitlines() if "image:" in line)
    broken.write_text(text.replace(image, "registry.example.invalid/metrics-server:nope"))
    s = Session(from_kubeconfig(str(c.kubeconfig)))
    try:
        res = s.act("metrics.install", source=str(broken), timeout=5)
        assert not res.ok
        why = wait_for(lambda: (lambda m: not m.available and "Pull" in m.why and m.why)(
            metrics.fetch(s.conn.api, "default")), 60, "the pod's pull failure in the explanation")
        assert why.startswith("metrics-server (kube-system/metrics-server) is not ready yet: "
                              "0 of 1 pods ready (metrics-server-"), why
        assert "until its APIService v1beta1.metrics.k8s.io is Available, the HPA cannot read CPU" in why
    finally:
        s.close()

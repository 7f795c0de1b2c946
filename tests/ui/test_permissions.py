"""The console with partial permissions and with no Metrics API, on the embedded
cluster started with a restricted user and --no-metrics: keys the user may not use
are greyed out and say why; the HPA pane explains the missing Metrics API and M
installs metrics-server from a local copy of its manifest, showing its rollout."""

from pathlib import Path

import pytest

from console.cluster import actions, rest
from console.cluster.connect import from_kubeconfig
from console.cluster.session import Session
from console.ui.app import KubelabApp
from tests.cluster.helpers import wait_for
from tests.ui.feed import until

COMPONENTS = Path(__file__).parents[1] / "cluster" / "data" / "metrics-server-components.yaml"


@pytest.fixture(scope="module")
def restricted():
    from console.embedded import launch
    c = launch.start(speed=20, users=["viewer=view"], extra=["--no-metrics"])
    admin = from_kubeconfig(str(c.kubeconfig))
    assert actions.apply(admin, "manifests/order.yaml").ok
    yield c
    admin.close()
    c.stop()


async def test_a_viewer_sees_the_keys_it_may_not_use_greyed_out(restricted):
    session = Session(from_kubeconfig(str(restricted.kubeconfig), context="kubelab-viewer"))
    app = KubelabApp(session=session)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "scale" in app.refused, 60)
        assert app.refused["deletePod"] == "cannot delete pods in namespace default"
        assert app.check_action("do", ("scale", {"by": 1})) is None      # shown greyed
        assert app.check_action("do", ("load.start", {})) is True
        await until(pilot, lambda: app.deployment == "order", 60)
        await pilot.press("plus")                                       # does nothing
        await pilot.pause()
        dep = rest.get(session.conn.api, "Deployment", "default", "order")
        assert dep["spec"]["replicas"] == 2
        await pilot.press("question_mark")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        lines = dict(app.screen.keys)
        assert lines["+"] == "Scale +1 — cannot patch deployments.apps in namespace default"
        assert lines["l"] == "Load"
        await pilot.press("escape")
        await pilot.press("q")
    session.close()


async def test_the_lab_picker_says_where_metrics_server_comes_from(restricted):
    """Before the install below: the labs that need the Metrics API say how to get it."""
    from console.ui.screens.picker import LabPicker
    session = Session(from_kubeconfig(str(restricted.kubeconfig)))
    app = KubelabApp(session=session, picker=True, scenarios=Path(__file__).parents[2] / "scenarios")
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LabPicker))

        def l1() -> str:
            return next((str(o.prompt) for o in app.screen.query_one("#labs").options
                         if str(o.prompt).startswith("L1")), "")
        await until(pilot, lambda: "not (yet) on this cluster" in l1(), 60)
        assert "(f, then M, installs metrics-server)" in l1()
        await pilot.press("q")
    session.close()


async def test_the_hpa_pane_explains_no_metrics_and_M_installs_metrics_server(restricted):
    session = Session(from_kubeconfig(str(restricted.kubeconfig)))
    app = KubelabApp(session=session)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "metrics-server is not installed"
                    in str(app.query_one("#hpa-table").content), 60)
        assert "TARGETS stay <unknown>" in str(app.query_one("#hpa-table").content)
        app.act("metrics.install", source=str(COMPONENTS))
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")   # a real cluster
        await pilot.press("y")
        await until(pilot, lambda: session.state.metrics.available, 180)
        await until(pilot, lambda: "not installed" not in str(app.query_one("#hpa-table").content), 60)
        await pilot.press("q")
    session.close()
    wait_for(lambda: rest.get(session.conn.api, "APIService", "", "v1beta1.metrics.k8s.io"), 5)

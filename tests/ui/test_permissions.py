"""The console with partial permissions and with no Metrics API, on the embedded
cluster started with a restricted user and --no-metrics: keys the user may not use
are greyed out and say why; the HPA pane explains the missing Metrics API and M
installs metrics-server from a local copy of its manifest (offered in its dialog),
showing its rollout."""

from pathlib import Path

import pytest
import yaml

from console import bus
from console.cluster import actions, rest
from console.cluster.connect import from_kubeconfig
from console.cluster.session import Session
from console.ui.app import KubelabApp
from tests.cluster.helpers import wait_for
from tests.ui.feed import until

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


def components(folder: Path) -> Path:
    """The embedded cluster's own metrics-server manifest, as a local copy of components.yaml."""
    from console.embedded.metrics import manifests
    path = folder / "components.yaml"
    path.write_text(yaml.safe_dump_all([obj for _, obj in manifests.OBJECTS]))
    return path


def test_a_metrics_manifest_option_that_will_not_do_exits_2(tmp_path, capsys):
    from console import cli
    (tmp_path / "order.yaml").write_text((Path(__file__).parents[2] / "manifests/order.yaml").read_text())
    for bad, said in ((tmp_path / "nope.yaml", "No such file or directory"),
                      (tmp_path / "order.yaml", "not metrics-server's manifest: no APIService "
                                                "v1beta1.metrics.k8s.io in it")):
        assert cli.main(["--metrics-manifest", str(bad)]) == 2
        err = capsys.readouterr().err
        assert f"--metrics-manifest: {bad}: {said}" in err and "Traceback" not in err
        lab = str(Path(__file__).parents[2] / "scenarios" / "l1-hpa-scale-out.yaml")
        assert cli.main(["run", "--metrics-manifest", str(bad), lab]) == 2
        assert f"--metrics-manifest: {bad}: {said}" in capsys.readouterr().err


async def test_the_hpa_pane_explains_no_metrics_and_M_installs_metrics_server(restricted, tmp_path,
                                                                             monkeypatch):
    """M on an air-gapped jump host: the copy of components.yaml in the working directory
    is offered; a path that is not there, or not metrics-server's, is explained in the dialog."""
    from textual.widgets import Input, OptionList, Static
    monkeypatch.chdir(tmp_path)
    copy = components(tmp_path)
    session = Session(from_kubeconfig(str(restricted.kubeconfig)))
    progress = session.bus.subscribe(merge=False)
    app = KubelabApp(session=session)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "metrics-server is not installed"
                    in str(app.query_one("#hpa-table").content), 60)
        assert "TARGETS stay <unknown>" in str(app.query_one("#hpa-table").content)
        assert "M installs metrics-server (its published manifest, or a local copy)" \
            in str(app.query_one("#hpa-table").content)
        await pilot.press("M")
        await until(pilot, lambda: type(app.screen).__name__ == "PickDialog")
        dialog = app.screen
        options = dialog.query_one("#choices", OptionList)
        offered = [(o.id, str(o.prompt)) for o in options.options]
        assert offered[0] == (str(copy), "components.yaml  (metrics-server v0.7.2, 3 objects)")
        assert offered[-1][0] == "https://github.com/kubernetes-sigs/metrics-server/releases/" \
                                 "latest/download/components.yaml"

        def said() -> str:
            return str(dialog.query_one("#dialog-error", Static).content)
        free = dialog.query_one("#free", Input)
        for typed, why in (("no-such.yaml", f"{Path(__file__).parents[2] / 'manifests'}/no-such.yaml: "
                                            "No such file or directory"),
                           ("order.yaml", "manifests/order.yaml: not metrics-server's manifest: no "
                                          "APIService v1beta1.metrics.k8s.io in it (it holds "
                                          "Deployment, Service)")):
            free.value = typed
            free.focus()
            await pilot.press("enter")
            await until(pilot, lambda: why in said())
            assert app.screen is dialog
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        await until(pilot, lambda: type(app.screen).__name__ == "ConfirmDialog")   # a real cluster
        await pilot.press("y")
        lines = []

        def said_so(text: str) -> bool:       # the rollout's lines, as the action publishes them
            lines.extend(e.message for e in progress.get_batch(timeout=0)
                         if isinstance(e, bus.ActionProgress))
            return text in lines
        await until(pilot, lambda: said_so("apiservice v1beta1.metrics.k8s.io is Available"), 180)
        await until(pilot, lambda: session.state.metrics.available, 180)
        await until(pilot, lambda: "not installed" not in str(app.query_one("#hpa-table").content), 60)
        await pilot.press("q")
    progress.close()
    session.close()
    assert any(t.startswith('Waiting for deployment "metrics-server" rollout to finish') for t in lines)
    wait_for(lambda: rest.get(session.conn.api, "APIService", "", "v1beta1.metrics.k8s.io"), 5)

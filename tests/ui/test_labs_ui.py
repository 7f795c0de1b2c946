"""The console and the labs (Pilot): the picker opens and quits; play mode advances on its
own and the panes show the lab's outcome; learner mode fails the check with the hint
while the step is not done, then passes once the learner acts (elsewhere, as kubectl)."""

from pathlib import Path

from console.cluster import connect, rest
from console.cluster.session import Session
from console.scenario.requires import Unmet
from console.ui.app import KubelabApp
from console.ui.screens.picker import LabPicker
from tests.cluster.helpers import namespace_conn
from tests.ui.feed import until
from kubehelp import SPEED_FOR_WINDOWS

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


def pane(app) -> str:
    return str(app.scenario_pane.render())


async def test_the_picker_lists_the_labs_and_q_quits():
    app = KubelabApp(watch=False, picker=True, scenarios=SCENARIOS)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LabPicker))
        picker = app.screen
        text = " ".join(str(o.prompt) for o in picker.query_one("#labs").options)
        for lab in ("L2", "L3", "L6", "L7", "Free play"):
            assert lab in text
        shown = [b.binding.action for b in app.active_bindings.values() if b.binding.show and b.enabled]
        assert "quit" in [b.split("(")[0] for b in shown] and not any("do(" in b for b in shown)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, 10)


async def test_free_play_from_the_picker_is_todays_console():
    app = KubelabApp(watch=False, picker=True, scenarios=SCENARIOS)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LabPicker))
        await pilot.press("f")
        await until(pilot, lambda: type(app.screen).__name__ == "Screen")
        assert app.offer_allowed and not app.scenario_running


async def test_play_advances_on_its_own_and_the_panes_show_the_outcome(cluster_speed8):
    conn = namespace_conn(cluster_speed8, "play")
    app = KubelabApp(session=Session(conn, speed=SPEED_FOR_WINDOWS),
                     play=SCENARIOS / "l2-zero-downtime.yaml", pace=0)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.scenario_pane.outcome, 240)
        assert app.scenario_pane.outcome == "passed", pane(app)
        assert set(app.scenario_pane.status.values()) == {"passed"}
        text = pane(app)
        assert "✓ with-readiness" in text and "availability 100.00 %" in text
        assert "Load finished" in str(app.load_pane.border_title)
        await until(pilot, lambda: "Availability:" in str(app.query_one("#load-summary").content))
        assert "100.00 %" in str(app.query_one("#load-summary").content)
        assert "jinyoung/order:stable" in str(app.rollout_pane.render())   # the outcome stays
    app.runner_thread.join(90)
    assert not rest.exists(conn.api, "Deployment", conn.namespace, "order")    # cleaned up


async def test_learner_mode_checks_hints_and_passes_once_the_learner_acts(cluster):
    conn = namespace_conn(cluster, "learn")
    app = KubelabApp(session=Session(conn, speed=20))
    async with app.run_test(size=(120, 36)) as pilot:
        app.start_scenario(SCENARIOS / "l7-basics.yaml", "learner")
        await until(pilot, lambda: app.scenario_pane.current is not None
                    and app.scenario_pane.current.step == "run-pod", 90)
        assert "kubectl run nginx-pod --image=nginx" in pane(app)
        assert app.check_lab("check") and app.check_lab("hint") and app.check_lab("solve")
        await pilot.press("c")
        await until(pilot, lambda: "✗ pods nginx-pod ready" in pane(app), 30)
        assert "Hint: kubectl run nginx-pod --image=nginx" in pane(app)
        assert app.scenario_pane.status["run-pod"] == "running"
        # the learner does it in another terminal (what kubectl run creates)
        rest.create_or_update(conn.api, {"apiVersion": "v1", "kind": "Pod",
                                         "metadata": {"name": "nginx-pod", "labels": {"run": "nginx-pod"}},
                                         "spec": {"containers": [{"name": "nginx-pod", "image": "nginx"}]}},
                              conn.namespace)
        await until(pilot, lambda: app.scenario_pane.status["run-pod"] == "passed", 60)
        assert app.scenario_pane.current.step == "deployment"
        await pilot.press("s")              # solve: the console does this one
        await until(pilot, lambda: app.scenario_pane.status["deployment"] == "passed", 60)
        app.stop_scenario()
    app.runner_thread.join(90)
    assert not rest.exists(conn.api, "Pod", conn.namespace, "nginx-pod")      # cleaned up


async def test_where_kubectl_reaches_this_cluster_is_said_in_the_picker_help_and_a_lab(cluster):
    """A lab's commands are typed in another terminal: the console says what makes
    kubectl talk to its cluster (the test cluster's kubeconfig is not kubectl's own)."""
    conn = namespace_conn(cluster, "env")
    want = connect.kubectl_env(conn)
    assert want.startswith("export KUBECONFIG=") and str(cluster.kubeconfig).split("/")[-1] in want
    told = []
    app = KubelabApp(session=Session(conn, speed=20), picker=True, scenarios=SCENARIOS)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LabPicker))
        assert want in str(app.screen.query_one("#picker-kubectl").content)
        await pilot.press("f")
        await until(pilot, lambda: type(app.screen).__name__ == "Screen")
        await pilot.press("question_mark")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        assert any(want in str(s.content) for s in app.screen.query("Static"))
        await pilot.press("escape")
        notify = app.notify
        app.notify = lambda message, **kw: (told.append((kw.get("title"), message)), notify(message, **kw))
        app.start_scenario(SCENARIOS / "l7-basics.yaml", "learner")
        assert ("kubectl in another terminal", want) in told
        app.stop_scenario(wait=60)


def test_kubectl_env_is_empty_for_kubectls_own_kubeconfig(tmp_path, monkeypatch):
    path = tmp_path / "config"
    path.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("KUBECONFIG", str(path))
    conn = type("Conn", (), {"kubeconfig": str(path)})()
    assert connect.kubectl_env(conn) == ""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG")
    conn.kubeconfig = str(tmp_path / "a b" / "kc")
    assert connect.kubectl_env(conn) == "export KUBECONFIG=~/'a b/kc'"


async def test_the_picker_says_metrics_server_is_starting_rather_than_offering_to_install_it():
    app = KubelabApp(watch=False, picker=True, scenarios=SCENARIOS)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LabPicker))
        picker = app.screen
        l1 = next(path for code, path, *_ in picker.items if code == "L1")
        picker.unmet[str(l1)] = {"metrics": Unmet("metrics-server is not ready yet: 0 of 1 pods "
                                                  "ready (metrics-server-x: Running 0/1)",
                                                  starting="0 of 1 pods ready")}
        text = " ".join(str(o.prompt) for o in picker.options())
        assert "needs metrics — metrics-server is starting here (0 of 1 pods ready)" in text
        assert "(f, then M, installs metrics-server)" not in text
        picker.unmet[str(l1)] = {"metrics": Unmet("error: Metrics API not available")}
        text = " ".join(str(o.prompt) for o in picker.options())
        assert "not (yet) on this cluster: error: Metrics API not available" in text
        assert "(f, then M, installs metrics-server)" in text

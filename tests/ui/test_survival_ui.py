"""The console under an API server that is killed and restarted (--data): the status
line dates the data while it reconnects, says when it is live again, and the pods
table converges to what `kubectl get po` shows, one row per pod."""

import pytest
from kubehelp import run_kubectl

from console.cluster import actions
from console.cluster.connect import from_kubeconfig
from console.embedded import launch
from console.ui.app import KubelabApp
from console.ui.panes.pods import PodsTable
from tests.ui.feed import until

pytestmark = pytest.mark.kubectl


def table(app) -> dict[str, str]:
    rows = list(app.query_one(PodsTable).printed.values())
    names = [r.name for r in rows]
    assert len(names) == len(set(names)), f"duplicated rows: {names}"
    return {r.name: f"{r.ready} {r.status}" for r in rows}


def kubectl_table(c) -> dict[str, str]:
    out = run_kubectl(c, "get", "po", "--no-headers").stdout
    return {f[0]: f"{f[1]} {f[2]}" for f in (line.split() for line in out.splitlines()) if f}


async def test_the_console_through_an_api_server_restart(tmp_path):
    data, kc = tmp_path / "data", tmp_path / "kubeconfig"
    c = launch.start(speed=20, data=data, kubeconfig=kc)
    try:
        assert actions.apply(from_kubeconfig(str(kc)), "manifests/order.yaml").ok
        app = KubelabApp(from_kubeconfig(str(kc)))
        async with app.run_test(size=(120, 36)) as pilot:
            status = app.query_one("#status")
            await until(pilot, lambda: table(app) == kubectl_table(c) and len(table(app)) == 2
                        and all(v == "1/1 Running" for v in table(app).values()), 120)
            before = set(table(app))
            c.kill()
            await until(pilot, lambda: "data from" in str(status.render()), 60)
            c = launch.start(speed=20, data=data, kubeconfig=kc)
            await until(pilot, lambda: app._down_since is None and "● live" in str(status.render()), 90)
            # the same pods, restarted by their node, and nothing twice
            await until(pilot, lambda: table(app) == kubectl_table(c)
                        and all(v == "1/1 Running" for v in table(app).values()), 120)
            assert set(table(app)) == before
            await pilot.press("q")
    finally:
        c.stop()

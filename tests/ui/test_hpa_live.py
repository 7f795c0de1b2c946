"""The console's HPA pane on the embedded cluster's real metrics: the order workload,
`a` (autoscale min 1 max 3 at 50 %), `l` (load): targets climb far above 50 % and
the replicas to the maximum, as in lab L1."""

import io
import re

from rich.console import Console

from console.ui.app import KubelabApp
from console.ui.panes.pods import PodsTable
from tests.cluster.helpers import answers, namespace_conn
from tests.ui.feed import until


def running(app, n):
    r = list(app.query_one(PodsTable).printed.values())
    return len(r) == n and all(x.status == "Running" and x.ready == "1/1" for x in r)


def printed(renderable) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def hpa_rows(app):
    return app.query_one("#hpa").rows


async def test_autoscale_and_load_climb_the_hpa_pane_to_max(cluster):
    conn = namespace_conn(cluster, "hpa-ui")
    app = KubelabApp(conn, load_command="-c20 -t30S http://order:8080/orders")
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: app.workload_offered)
        await pilot.press("w")
        await until(pilot, lambda: running(app, 2), 90)
        await pilot.press("a")
        await until(pilot, lambda: type(app.screen).__name__ == "AutoscaleDialog")
        await pilot.press("enter")
        await until(pilot, lambda: hpa_rows(app), 60)
        await until(pilot, lambda: hpa_rows(app) and hpa_rows(app)[0].utilization is not None, 90)
        await until(pilot, lambda: answers(conn), 90)       # booted, not just Running
        await pilot.press("l")
        await until(pilot, lambda: type(app.screen).__name__ == "LoadDialog")
        await pilot.press("enter")

        def at_max():
            r = hpa_rows(app)
            return r and r[0].replicas == 3 and r[0].at_max and (r[0].utilization or 0) > 100
        await until(pilot, at_max, 120)
        row = hpa_rows(app)[0]
        assert re.fullmatch(r"cpu: \d{3,}%/50%", row.targets)
        pane = app.query_one("#hpa")
        text = printed(pane.query_one("#hpa-table").content)
        assert "AT MAX" in text and row.targets in text
        await until(pilot, lambda: running(app, 3), 120)
        label = printed(pane.query_one("#hpa-replicas-label").content)
        assert label.startswith("replicas ") and "→3" in label and "(min 1, max 3)" in label
        await pilot.press("L")
        await until(pilot, lambda: app.load_results, 60)
        await pilot.press("q")

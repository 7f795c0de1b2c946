"""The Load pane fed by siege inside the lab's siege pod (exec, siege's own -v lines and
summary), and the console saying which way the load goes and why."""

from console.cluster import actions
from console.cluster.session import Session
from console.loadgen import pool
from console.ui.app import KubelabApp
from tests.cluster.helpers import namespace_conn, ready_pods, wait_for
from tests.ui.feed import until


async def test_siege_in_the_pod_fills_the_load_pane(cluster):
    conn = namespace_conn(cluster, "viapod")
    assert actions.apply(conn, "manifests/order.yaml").ok
    assert actions.apply(conn, "manifests/siege.yaml").ok
    wait_for(lambda: len(ready_pods(conn)) == 3, 120, "order x2 and siege ready")
    session = Session(conn)
    session.load_path = "siege-pod"
    app = KubelabApp(session=session, load_command="-c2 -t6S http://order:8080/orders")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("l")
        await until(pilot, lambda: type(app.screen).__name__ == "LoadDialog")
        await pilot.press("enter")
        pane = app.query_one("#load")
        await until(pilot, lambda: "via siege-pod" in str(pane.border_title), 30)
        await until(pilot, lambda: "req/s" in str(app.query_one("#load-figures").content), 90)
        await until(pilot, lambda: "Transactions:" in str(app.query_one("#load-summary").content), 120)
        assert "Load finished via siege-pod" in str(pane.border_title)
        assert "running siege inside pod siege" in session.load.get().route.reason
        assert app.load_results and "Availability:" in app.load_results[0]
        await pilot.press("q")
    session.close(disconnect=False)


async def test_the_load_pane_says_the_run_uses_every_core(cluster):
    """-j defaults to the cores: the console's run is spread over them, and says so."""
    conn = namespace_conn(cluster, "viacores")
    assert actions.apply(conn, "manifests/order.yaml").ok
    wait_for(lambda: len(ready_pods(conn)) == 2, 120, "order x2 ready")
    session = Session(conn)
    app = KubelabApp(session=session, load_command="-c4 -t4S http://order:8080/orders")
    n = min(4, pool.cores())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("l")
        await until(pilot, lambda: type(app.screen).__name__ == "LoadDialog")
        await pilot.press("enter")
        figures = app.query_one("#load-figures")
        await until(pilot, lambda: "req/s" in str(figures.content), 90)
        await until(pilot, lambda: "Transactions:" in str(app.query_one("#load-summary").content), 120)
        assert session.load.get().result["workers"] == n
        assert (f"{n} processes" in str(figures.content)) == (n > 1)
        await pilot.press("q")
    session.close(disconnect=False)

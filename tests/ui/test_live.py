"""Pilot tests against the embedded cluster: a key press changes the cluster and the panes show it."""

from console.cluster import actions, rest
from console.ui.app import KubelabApp
from console.ui.panes.pods import PodsTable
from tests.cluster.helpers import answers, namespace_conn
from tests.ui.feed import until


def rows(app):
    return list(app.query_one(PodsTable).printed.values())


def running(app, n, ready="1/1"):
    r = rows(app)
    return len(r) == n and all(x.status == "Running" and x.ready == ready for x in r)


def deployment(conn):
    return rest.get(conn.api, "Deployment", conn.namespace, "order")


def notes(app):
    return " | ".join(str(n.message) for n in app._notifications)


async def test_keys_change_the_cluster_and_the_panes_show_it(cluster):
    conn = namespace_conn(cluster, "ui")
    app = KubelabApp(conn, load_command="-c2 -t4S --no-keepalive http://order:8080/orders")
    async with app.run_test(size=(120, 36)) as pilot:
        # an empty namespace: the console offers the lab workload, without a modal
        await until(pilot, lambda: app.workload_offered)
        assert type(app.screen).__name__ == "Screen"
        await pilot.press("w")
        await until(pilot, lambda: running(app, 2), 90)
        assert app.deployment == "order"

        await pilot.press("plus")
        await until(pilot, lambda: running(app, 3), 90)
        assert deployment(conn)["spec"]["replicas"] == 3

        app.query_one(PodsTable).focus()
        victim = app.selected_pod()
        await pilot.press("k")
        await until(pilot, lambda: victim not in [r.name for r in rows(app)] and running(app, 3), 90)

        await pilot.press("r")
        await until(pilot, lambda: type(app.screen).__name__ == "PickDialog")
        await pilot.press("tab", *"jinyoung/order:canary", "enter")
        await until(pilot, lambda: app.state.rollout("order").image == "jinyoung/order:canary"
                    and app.state.rollout("order").complete, 90)
        assert "revision 2" in str(app.query_one("#rollout").render())

        await pilot.press("u")
        await until(pilot, lambda: app.state.rollout("order").revision == 3
                    and app.state.rollout("order").image.startswith("ghcr.io/acmexii/order-liveness"), 90)

        await pilot.press("a")
        await until(pilot, lambda: type(app.screen).__name__ == "AutoscaleDialog")
        await pilot.press("enter")
        await until(pilot, lambda: app.state.hpas(), 60)
        await until(pilot, lambda: app.query_one("#hpa").rows
                    and app.query_one("#hpa").rows[0].targets.startswith("cpu: "), 60)

        await until(pilot, lambda: answers(conn), 90)       # booted, not just Running
        await pilot.press("l")
        await until(pilot, lambda: type(app.screen).__name__ == "LoadDialog")
        await pilot.press("enter")
        await until(pilot, lambda: "Transactions:" in str(app.query_one("#load-summary").content), 90)
        assert app.load_results and "Availability:" in app.load_results[0]
        assert "Transactions:" in app.load_results[0] and " 0 hits" not in app.load_results[0]

        # a long run, stopped with L: siege's summary still comes
        app.load_command = "-c2 -t120S --no-keepalive http://order:8080/orders"
        await pilot.press("l")
        await until(pilot, lambda: type(app.screen).__name__ == "LoadDialog")
        await pilot.press("enter")
        await until(pilot, lambda: app.load_pane.last_t >= 1, 60)
        await pilot.press("L")
        await until(pilot, lambda: len(app.load_results) == 2, 60)
        assert app.load_run is None and "Transactions:" in app.load_results[1]

        await pilot.press("f")
        await until(pilot, lambda: type(app.screen).__name__ == "PickDialog")
        await pilot.press("down", "down", "enter")          # readiness break
        await until(pilot, lambda: rows(app) and any(r.ready == "0/1" for r in rows(app)), 90)
        assert "readiness probe now GET" in notes(app)

        # the API's own words, never a traceback
        app.act("delete", kind="hpa", name="nope")
        await until(pilot, lambda: 'horizontalpodautoscalers.autoscaling "nope" not found' in notes(app))
        await pilot.press("q")


async def test_connection_lost_shows_in_the_status_line(start_cluster):
    c = start_cluster(speed=20)
    conn = namespace_conn(c, "lost")
    app = KubelabApp(conn)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.state.link_summary()[0] == "live")
        c.stop()
        await until(pilot, lambda: "reconnecting" in str(app.query_one("#status").render()), 60)
        # first the broken watch ("connection lost: ..."), then the refused reconnects
        await until(pilot, lambda: "cannot reach the API server" in str(app.query_one("#status").render()), 60)
        app.act("scale", deployment="order", replicas=2)    # an action while down: a readable error
        await until(pilot, lambda: "cannot reach the API server" in notes(app), 90)
        assert "Traceback" not in notes(app)


async def test_colon_switches_namespace_and_the_panes_follow(cluster):
    conn = namespace_conn(cluster, "from")
    other = namespace_conn(cluster, "to")
    assert actions.apply(other, "manifests/order.yaml").ok
    app = KubelabApp(conn)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.workload_offered)   # empty: offered, nothing in the way
        await pilot.press("colon")
        await until(pilot, lambda: type(app.screen).__name__ == "PickDialog")
        await pilot.press("tab", *other.namespace, "enter")
        await until(pilot, lambda: app.conn.namespace == other.namespace)
        await until(pilot, lambda: running(app, 2), 90)
        assert other.namespace in str(app.query_one("#status").render())

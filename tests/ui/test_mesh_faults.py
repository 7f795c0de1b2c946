"""The fault menu's mesh entries on the embedded cluster: in an injected namespace
the circuit breaker makes the Load pane show 503s, and removing it ends them."""

import re

from console.cluster import actions, catalogue, rest
from console.ui.app import KubelabApp
from tests.cluster.helpers import namespace_conn
from tests.ui.feed import until
from tests.ui.test_live import answers, notes, running


def codes(app) -> dict[int, int]:
    text = str(app.query_one("#load-figures").content)
    found = re.search(r"codes (.*?)(?:  errors|$)", text)
    if not found:
        return {}
    return {int(k): int(v) for k, v in re.findall(r"(\d+):(\d+)", found.group(1))}


async def pick_fault(pilot, app, name):
    await pilot.press("f")
    await until(pilot, lambda: type(app.screen).__name__ == "PickDialog")
    names = [a.name for a in catalogue.menu("faults")]
    await pilot.press(*["down"] * names.index(name), "enter")


async def test_circuit_breaker_shows_503s_in_the_load_pane_and_clearing_ends_them(cluster):
    conn = namespace_conn(cluster, "mesh")
    rest.patch(conn.api, "Namespace", None, conn.namespace,
               {"metadata": {"labels": {"istio-injection": "enabled"}}}, rest.MERGE)
    assert actions.apply(conn, "manifests/order.yaml").ok
    app = KubelabApp(conn, load_command="-c8 -t300S --failures=10000000 --delay=0.02 "
                                        "http://order:8080/orders")
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: running(app, 2, ready="2/2"), 120)
        await until(pilot, lambda: answers(conn), 120)
        await pilot.press("l")
        await until(pilot, lambda: type(app.screen).__name__ == "LoadDialog")
        await pilot.press("enter")
        await until(pilot, lambda: codes(app).get(200, 0) > 20, 60)
        assert 503 not in codes(app)

        await pick_fault(pilot, app, "mesh.circuitBreaker")
        await until(pilot, lambda: codes(app).get(503, 0) > 20, 60)
        assert "not labelled istio-injection" not in notes(app)      # this one is in the mesh
        dr = rest.get(conn.api, "DestinationRule", conn.namespace, "order-kubelab")
        assert dr["spec"]["trafficPolicy"]["connectionPool"]["tcp"]["maxConnections"] == 1

        await pick_fault(pilot, app, "mesh.clear")
        await until(pilot, lambda: not rest.exists(conn.api, "DestinationRule", conn.namespace,
                                                   "order-kubelab"), 60)
        seen = app.load_pane.last_t
        await until(pilot, lambda: app.load_pane.last_t >= seen + 2, 60)   # a sample from after it
        at_clear = codes(app)
        await until(pilot, lambda: codes(app).get(200, 0) > at_clear.get(200, 0) + 100, 90)
        # at most the requests already on their way when the rule went
        assert codes(app).get(503, 0) <= at_clear.get(503, 0) + 8
        await pilot.press("L")
        await until(pilot, lambda: app.load_run is None, 60)

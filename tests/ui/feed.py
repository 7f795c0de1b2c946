"""Feed the fixed data through the bus and wait until the app has drawn it."""

from console import bus
from tests.ui import data


async def until(pilot, condition, timeout=60.0):
    import time
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


async def feed(app, pilot, with_load=True):
    hpa = [e for e in data.events() if isinstance(e, bus.ObjectChanged) and e.kind == "hpas"]
    rest = [e for e in data.events() if e not in hpa]
    for i, ev in enumerate(hpa):  # one at a time: the bus would merge them
        app.bus.publish(ev)
        await until(pilot, lambda: len(app.state.hpa_history.get("order", ())) == i + 1)
    for ev in rest:
        app.bus.publish(ev)
    await until(pilot, lambda: len(app.query_one("#pods").printed) == 5
                and not app.query_one("#pods").pending
                and len(app.state.events) == 5 and app.state.links.get("services"))
    if with_load:
        app.query_one("#load").started("-c20 -t40S http://order:8080/orders", 40)
        # ProgressBar rounds to its width when updated: let the shown bar get its
        # final width first (a real run's first sample comes a second later).
        await pilot.pause()
        app.bus.publish(data.load_sample())
        await until(pilot, lambda: app.query_one("#load").last_t == 20)
    await pilot.pause()

"""Record a console session on the embedded cluster, replay it headless with no
cluster, and compare what the panes show at each step marker; seek and compare
again."""

import asyncio

import pytest

from console import bus
from console.cluster.session import Session
from console.tape.reader import read_index
from console.tape.recorder import record
from console.ui.app import KubelabApp
from console.ui.replay import ReplayApp
from tests.cluster.helpers import answers, namespace_conn
from tests.tape.panes import panes
from tests.ui.feed import until

SIZE = (120, 36)


def rows(app):
    return list(app.pods_table.printed.values())


def ready(app, n):
    r = rows(app)
    return len(r) == n and all(x.status == "Running" and x.ready == "1/1" for x in r)


def capture_at_markers(app, marks):
    """The panes exactly as a marker leaves them: the batch holding it is applied up
    to the marker, read, then the rest (the cluster goes on meanwhile)."""
    apply = app.apply_batch

    def split(events):
        for i, ev in enumerate(events):
            if isinstance(ev, bus.Marker):
                apply(events[:i + 1])
                marks.append((ev.ts, panes(app, ev.ts)))
                split(events[i + 1:])
                return
        apply(events)
    app.apply_batch = split


async def mark(pilot, app, marks, id_, title):
    """A step marker, as the scenario runner publishes its steps' ends."""
    n = len(marks)
    app.bus.publish(bus.Marker(id=id_, title=title, ok=True))
    await until(pilot, lambda: len(marks) > n)


@pytest.fixture(scope="module")
def recorded(cluster, tmp_path_factory):
    """A tape of a scripted console session and the panes at each of its markers."""
    path = tmp_path_factory.mktemp("tape") / "session.tape"
    marks = []

    async def session_run():
        conn = namespace_conn(cluster, "rec")
        session = Session(conn)
        app = KubelabApp(session=session, merge=False,
                         load_command="-c2 -t3S --no-keepalive http://order:8080/orders")
        rec = record(session.bus, str(path), conn=conn, size=SIZE)
        capture_at_markers(app, marks)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await until(pilot, lambda: app.workload_offered)   # an empty namespace: w applies
                await pilot.press("w")
                await until(pilot, lambda: ready(app, 2), 90)
                await mark(pilot, app, marks, "deployed", "2 pods ready")
                await pilot.press("plus")
                await until(pilot, lambda: ready(app, 3), 90)
                await mark(pilot, app, marks, "scaled", "3 pods ready")
                await until(pilot, lambda: answers(conn), 90)       # booted, not just Running
                await pilot.press("l")
                await until(pilot, lambda: type(app.screen).__name__ == "LoadDialog")
                await pilot.press("enter")
                await until(pilot, lambda: "Transactions:" in str(app.query_one("#load-summary").content), 90)
                await mark(pilot, app, marks, "loaded", "siege's summary")
                await pilot.press("a")
                await until(pilot, lambda: type(app.screen).__name__ == "AutoscaleDialog")
                await pilot.press("enter")
                await until(pilot, lambda: app.hpa_pane.rows, 60)
                await mark(pilot, app, marks, "autoscaled", "an HPA")
                await pilot.press("q")
        finally:
            session.close()
            rec.close({"exit": 0})

    asyncio.run(session_run())
    return path, marks


async def test_replay_shows_what_the_console_showed_at_each_step(recorded):
    path, marks = recorded
    tape = read_index(path)
    assert [m.id for m in tape.markers] == ["deployed", "scaled", "loaded", "autoscaled"]
    app = ReplayApp(tape, speed=float("inf"), pause_at_steps=True, pace=True)
    p = app.player
    async with app.run_test(size=SIZE, notifications=True) as pilot:   # a notice at each step
        for m, (at, live) in zip(tape.markers, marks):
            await until(pilot, lambda: p.step is m and not p.playing, 60)
            await pilot.pause()
            assert abs(tape.start + m.t - at) < 1     # ages are compared at the live moment
            assert panes(app, at) == live
            p.play()
        await until(pilot, lambda: p.ended, 60)
        # seek back to the first step, then forward to the second: the same again
        for i in (1, 0, 3, 2):
            app.player.seek_step(i)
            await until(pilot, lambda: p.step is tape.markers[i] and app.sub.idle, 60)
            await pilot.pause()
            assert panes(app, marks[i][0]) == marks[i][1]


def test_export_writes_an_asciicast_and_a_picture_of_each_step(recorded, tmp_path, capsys):
    from console.cli import main as kubelab
    from tests.tape.castcheck import check
    from tests.tape.panes import svg_lines
    path, marks = recorded
    out = tmp_path / "lab.cast"
    assert kubelab(["replay", str(path), "--export", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    names = ["lab-01-deployed.svg", "lab-02-scaled.svg", "lab-03-loaded.svg", "lab-04-autoscaled.svg"]
    assert printed == [str(out)] + [str(tmp_path / n) for n in names]
    head, events = check(out)
    tape = read_index(path)
    assert (head["width"], head["height"]) == SIZE and head["timestamp"] == int(tape.start)
    assert events and {e[1] for e in events} == {"o", "m"}
    assert [e[2] for e in events if e[1] == "m"] == [f"{m.index + 1}. {m.id}" for m in tape.markers]
    assert events[-1][0] == pytest.approx(tape.duration, abs=1.5)   # the tape's times, not the export's
    assert "\x1b[?1049h" in events[0][2] and "order-" in "".join(e[2] for e in events)
    for name, (_, live) in zip(names, marks):
        screen = "\n".join(svg_lines((tmp_path / name).read_text()))
        for cells in live["pods"]:                     # every pod row as it was, ages included
            assert cells[0] in screen
            row = next(line for line in screen.splitlines() if cells[0] in line)
            assert all(c in row for c in cells[1:4]), (row, cells)   # AGE: the tape's clock
        assert live["rollout"].splitlines()[2] in screen          # updated n/n  ready n/n ...
    loaded = "\n".join(svg_lines((tmp_path / names[2]).read_text()))
    assert "Transactions:" in loaded and "Availability:" in loaded
    autoscaled = "\n".join(svg_lines((tmp_path / names[3]).read_text()))
    assert "REPLICAS" in autoscaled and "step 4/4" in autoscaled

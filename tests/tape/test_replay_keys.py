"""`kubelab replay`'s keys through Textual's Pilot on a tape made without a
cluster: space (play, pause), ] and [, > and < (faster than real time), p, g,
0; what is drawn after a seek is drawn at the seeked-to time; a replay offers
none of the console's actions."""

import math
import time

from console.tape.reader import read_index
from console.ui.replay import ReplayApp
from tests.tape.panes import svg_lines
from tests.tape.synthetic import events, write
from tests.ui.feed import until

SIZE = (120, 36)


def shown(app) -> str:
    """The screen as drawn (an SVG screenshot's lines), nothing settled first."""
    return "\n".join(svg_lines(app.export_screenshot()))


def age_of(screen: str, pod: str) -> str:
    """The AGE cell of `pod`'s row in the Pods pane (NAME READY STATUS RESTARTS AGE)."""
    for line in screen.splitlines():
        cells = line.replace("│", " ").split()
        if pod in cells and cells[cells.index(pod) + 2:][:1] == ["Running"]:
            return cells[cells.index(pod) + 4]
    raise AssertionError(f"no row of {pod}:\n{screen}")


def at_step(p, mark):
    return lambda: p.step is mark and not p.playing and p.line == mark.line


async def test_replay_keys_move_through_the_tape(tmp_path):
    write(tmp_path / "t.tape", events())          # six markers, 5 s apart; pods made at the start
    tape = read_index(tmp_path / "t.tape")
    marks = tape.markers
    app = ReplayApp(tape, step=1)                  # --step 2: paused there, at real speed
    p = app.player
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: at_step(p, marks[1])() and app.sub.idle)
        await pilot.pause()
        # the ages as at step 2 (9.9 s in), not at the clock before the seek
        assert age_of(shown(app), "order-1") == f"{int(marks[1].t)}s"
        await until(pilot, lambda: "❚❚" in shown(app) and "step 2/6 step-2" in shown(app))

        await pilot.press("right_square_bracket")
        await until(pilot, at_step(p, marks[2]))
        await pilot.press("left_square_bracket", "left_square_bracket")
        await until(pilot, at_step(p, marks[0]))
        await until(pilot, lambda: app.sub.idle)
        await pilot.pause()
        assert age_of(shown(app), "order-1") == f"{int(marks[0].t)}s"    # back in time too

        for _ in range(3):
            await pilot.press("greater_than_sign")
        assert p.clock.speed == 8
        await pilot.press("less_than_sign")
        assert p.clock.speed == 4

        await pilot.press("p")                     # pause at each step, then play on
        assert p.pause_at_steps
        await pilot.press("space")                 # (Pilot returns once the app is idle: paused)
        await until(pilot, at_step(p, marks[1]), 60)
        await pilot.press("p", "space")            # through the steps now, 4 times real time
        assert p.playing and "▶ x4" in shown(app)
        pos0 = p.clock.position
        wall0 = time.monotonic()
        await until(pilot, lambda: p.clock.position > pos0 + 2)
        wall1 = time.monotonic()
        pos1 = p.clock.position
        assert pos1 - pos0 >= 3.9 * (wall1 - wall0)          # the tape's time, 4 s a second
        line = p.line
        await until(pilot, lambda: p.line > line)       # and its events come with it

        await pilot.press("space")                 # pause: the clock and the tape stand still
        assert not p.playing
        await until(pilot, lambda: "❚❚" in shown(app))
        held, line = p.clock.position, p.line
        await pilot.pause(0.3)
        assert (p.clock.position, p.line) == (held, line)

        await pilot.press("space")                 # on again, to the end
        await until(pilot, lambda: p.ended, 60)
        assert p.step is marks[-1]
        await until(pilot, lambda: "■ end" in shown(app))   # the bar is redrawn 4 times a second

        await pilot.press("0")                     # the start again, paused
        await until(pilot, lambda: p.line == 1 and p.step is None and app.sub.idle)
        await pilot.pause()
        assert not app.pods_table.printed and not p.playing

        await pilot.press("g")                     # the step picker: down twice, the third step
        await until(pilot, lambda: type(app.screen).__name__ == "PickDialog")
        await pilot.press("down", "down", "enter")
        await until(pilot, at_step(p, marks[2]))
        assert not math.isinf(p.clock.speed)


async def test_a_replay_offers_none_of_the_consoles_actions(tmp_path):
    from console import bus
    evs = [e for e in events(40) if not isinstance(e, bus.LoadSample)]   # no HPA, Deployment, load
    evs[1:1] = [bus.Synced(kind=k, uids=[], ts=evs[0].ts) for k in ("hpas", "deployments")]
    t = evs[-1].ts                                   # a lab whose step has a console key
    evs += [bus.ScenarioStarted(run="r", title="Scaling", mode="play", ts=t,
                                steps=[{"id": "scale", "title": "Three replicas"}]),
            bus.StepStarted(run="r", step="scale", title="Three replicas", ts=t,
                            command="kubectl scale deploy/order --replicas=3", key="+"),
            bus.StepFinished(run="r", step="scale", status="passed", ts=t),
            bus.ScenarioFinished(run="r", status="passed", ts=t)]
    write(tmp_path / "t.tape", evs)
    app = ReplayApp(read_index(tmp_path / "t.tape"), speed=float("inf"), pace=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.player.ended and app.sub.idle)
        await pilot.pause()
        screen = shown(app)
        for idle in ("no HorizontalPodAutoscaler", "no Deployment", "no load running"):
            assert idle in screen
        assert "kubectl scale deploy/order" in screen and "lab passed · 1/1" in screen
        assert "press" not in screen and "cleans up" not in screen, screen
        # a seek back to before the Deployment was made: the pane no longer names it
        from console.cluster.state import Rollout
        app.rollout_pane.show(Rollout("order", 1, "order:v1", 2, 2, 2, 2, True, [(1, "order:v1", 2)]))
        assert app.rollout_pane.border_title == "Rollout deployment/order"
        app.rollout_pane.show(None)
        assert app.rollout_pane.border_title == "Rollout"


async def test_m_marks_a_moment_of_a_recorded_console_and_its_replay_steps_there(tmp_path):
    from console import bus
    from console.tape import format
    from console.tape.recorder import Recorder
    from console.ui.app import KubelabApp
    from tests.tape.synthetic import pod

    for recording in (False, True):
        app = KubelabApp(watch=False, recording=recording)
        rec = Recorder(app.bus, tmp_path / f"{recording}.tape",
                       format.header(width=120, height=36, cluster={"kind": "none"})).start()
        async with app.run_test(size=SIZE) as pilot:
            app.bus.publish(bus.ObjectChanged(kind="pods", type="ADDED", obj=pod(1)))
            app.last_message = "scale: deployment.apps/order scaled to 3"
            await pilot.press("m")
            app.bus.publish(bus.ObjectChanged(kind="pods", type="ADDED", obj=pod(2)))
            await pilot.press("m")
            await pilot.pause()
        rec.close({"exit": 0})
        tape = read_index(tmp_path / f"{recording}.tape")
        if not recording:                          # no tape, no key: m does nothing
            assert tape.markers == []
            continue
        said = "scale: deployment.apps/order scaled to 3"
        assert [(m.id, m.title) for m in tape.markers] == [("mark-1", said), ("mark-2", said)]

    replay = ReplayApp(tape, step=0)               # the first mark: one pod, as then
    async with replay.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: replay.player.step is tape.markers[0] and replay.sub.idle)
        await pilot.pause()
        assert [r.name for r in replay.pods_table.printed.values()] == ["order-1"]
        await pilot.press("m")                     # a replay records nothing: not its key
        await pilot.press("right_square_bracket")
        await until(pilot, lambda: replay.player.step is tape.markers[1] and replay.sub.idle)
        await pilot.pause()
        assert sorted(r.name for r in replay.pods_table.printed.values()) == ["order-1", "order-2"]

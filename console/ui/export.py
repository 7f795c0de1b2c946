"""`kubelab replay TAPE --export OUT.cast`: play a tape headless into an
asciicast v2 file, and beside it one SVG screenshot of the console per step
marker, named after the step (OUT-01-<step>.svg ...): the "what you should
see" pictures of a lab, made from a real run.

The app runs with no terminal: a Textual driver (CastDriver) takes the
escape sequences the console would have written and stamps them with the
tape's clock. The player is paced by the app (each event drawn before the
next) and steps its clock a second at a time between events, so the cast
shows ages moving; its times are the tape's, whatever this machine's speed.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from textual import events
from textual.driver import Driver
from textual.geometry import Size

from console.tape.cast import CastWriter
from console.tape.reader import Tape

ENTER = "\x1b[?1049h\x1b[?25l\x1b[2J\x1b[H"      # alternate screen, cursor hidden, cleared


class CastDriver(Driver):
    """Output to the app's `cast` (a CastWriter) at the tape's time; no input."""

    def __init__(self, app, *, debug: bool = False, mouse: bool = True, size=None):
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self.app, self.size = app, size or (80, 24)

    def write(self, data: str) -> None:
        self.app.cast.output(self.app.player.clock.position, data)

    def start_application_mode(self) -> None:
        self.write(ENTER)
        size = Size(*self.size)
        self.send_message(events.Resize(size, size))

    def disable_input(self) -> None:
        pass

    def stop_application_mode(self) -> None:
        """Nothing: the cast ends on the console's last frame, not on a cleared screen."""


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:60] or "step"


def picture_paths(out: Path, tape: Tape) -> list[Path]:
    """OUT-01-<step id>.svg ... beside OUT.cast, in the order of the markers."""
    stem = out.with_suffix("")
    return [stem.parent / f"{stem.name}-{m.index + 1:02d}-{slug(m.label)}.svg" for m in tape.markers]


async def export(tape: Tape, out: Path, size: tuple[int, int] | None = None,
                 timeout: float = 600.0) -> list[Path]:
    """Write OUT.cast and the step pictures; return the files written."""
    from console.ui.replay import ReplayApp
    width, height = size or tape.size
    app = ReplayApp(tape, speed=float("inf"), pause_at_steps=True, pace=True, tick=1.0)
    app.driver_class = CastDriver
    app.cast = CastWriter(out, width, height, title=app.title, timestamp=tape.start)
    pictures = picture_paths(out, tape)
    written = [out]
    player = app.player
    try:
        async with app.run_test(headless=False, size=(width, height)) as pilot:
            for path, mark in zip(pictures, tape.markers):
                await _until(pilot, lambda: player.ended or (player.step is mark and not player.playing),
                             timeout)
                if player.ended:
                    break
                app.cast.marker(mark.t, f"{mark.index + 1}. {mark.label}")
                await app.settle()
                await pilot.pause()
                app.pods_table.settle()
                await pilot.pause()
                path.write_text(app.picture(f"{mark.index + 1}. {mark.label}"), encoding="utf-8")
                written.append(path)
                player.play()
            await _until(pilot, lambda: player.ended, timeout)
            await app.settle()
            await pilot.pause()
    finally:
        app.cast.close()
    return written


async def _until(pilot, condition, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("the replay did not get there in time")
        await pilot.pause(0.01)

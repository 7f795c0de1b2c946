"""`kubelab replay TAPE`: the console with no cluster, fed by a tape player.

The panes are the live console's (KubelabApp); only the source differs: a
console.tape Player publishes the tape's events on the app's bus, and the
app's clock is the tape's, so ages and log times read as they did when
recorded. Keys: space play/pause, ] / [ next / previous step marker, > / <
faster / slower, g go to a step, p pause at each step, home restart.
"""

from __future__ import annotations

import asyncio
import math
import time

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from console import bus as busmod
from console.tape.player import Player
from console.tape.reader import Tape
from console.ui import keys
from console.ui.app import KubelabApp
from console.ui.screens.dialogs import PickDialog


def clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


def speed_text(speed: float) -> str:
    if math.isinf(speed):
        return "max"
    return f"x{speed:g}" if speed >= 1 else f"x1/{1 / speed:g}"


def mark_text(mark) -> Text:
    out = Text(mark.label, style="bold")
    if mark.ok is True:
        out.append(" ✓", style="bold green")
    elif mark.ok is False:
        out.append(" ✗", style="bold red")
    return out


class Track:
    """The play line: ▶/❚❚, time, a bar with the steps on it, the current step."""

    def __init__(self, player: Player):
        self.player = player

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        p, tape = self.player, self.player.tape
        pos, total = p.clock.position, max(tape.duration, 1e-9)
        state = "■ end" if p.ended else ("▶" if p.playing else "❚❚")
        speed = "" if p.pace else f"{speed_text(p.clock.speed)}  "    # headless: no speed to tell
        head = Text.assemble((f"{state} ", "bold"), speed, clock_text(pos), " ")
        tail = Text.assemble(" ", clock_text(tape.duration))
        marks = tape.markers
        step = p.step
        if marks:
            tail.append(f"  step {step.index + 1 if step else 0}/{len(marks)} ")
            if step is not None:
                tail.append_text(mark_text(step))
        if tape.end is None:
            tail.append("  (cut short)" if tape.truncated else "  (no end)", style="yellow")
        width = max(10, options.max_width - head.cell_len - tail.cell_len)
        cells = ["─"] * width
        done = width if p.ended else min(width, int(width * pos / total))
        for i in range(done):
            cells[i] = "━"
        for m in marks:
            cells[min(width - 1, int(width * m.t / total))] = "◆"
        bar = Text()
        for i, c in enumerate(cells):
            bar.append(c, style="bold yellow" if c == "◆" else ("bold" if i < done else "dim"))
        line = head + bar + tail
        line.no_wrap, line.overflow = True, "ellipsis"
        yield line


class ReplayApp(KubelabApp, inherit_bindings=False):
    BINDINGS = [*App.BINDINGS, *keys.bindings(keys.replay_entries())]
    CSS = "#replay-bar { height: 1; padding: 0 1; background: $boost; }"
    ACTS = False

    def __init__(self, tape: Tape, speed: float = 1.0, pause_at_steps: bool = False,
                 step: int | None = None, pace: bool = False, tick: float | None = None):
        """step: start paused at that marker (0-based); pace: the player waits for
        each event to be drawn (headless exports and tests)."""
        source = busmod.Bus()
        self.player = Player(tape, source, speed=speed, pause_at_steps=pause_at_steps,
                             pace=self.caught_up if pace else None, tick=tick)
        super().__init__(bus=source, now=self.player.clock.now, watch=False)
        self.tape = tape
        self.start_step = step
        self.offered_workload = True          # a tape never offers to apply the lab workload
        self.bar = Static(Track(self.player), id="replay-bar")
        self.title = f"kubelab replay {tape.path.name}"
        self._last_step = None

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if widget is self.status:
                yield self.bar
            yield widget

    def on_mount(self) -> None:
        super().on_mount()
        self.refresh_status()
        self.set_interval(0.25, self.refresh_replay)
        if self.start_step is not None and self.tape.markers:
            self.player.start(playing=False)
            self.player.seek_step(self.start_step)
        else:
            self.player.start(playing=True)

    def on_unmount(self) -> None:
        self.player.stop()
        super().on_unmount()

    # --- what the status line says about the tape ------------------------------------
    def link(self) -> tuple[str, str]:
        return self.state.link_summary() if self.state.links else ("replay", "")

    def where(self) -> tuple[str, str] | None:
        cluster = self.tape.header.get("cluster") or {}
        kind = cluster.get("kind") or "none"
        name = "embedded" if kind == "embedded" else (cluster.get("context") or kind)
        return f"{name} (tape)", cluster.get("namespace") or "-"

    def palette(self) -> list[tuple[str, str, str]]:
        out = keys.palette(keys.replay_entries())
        for m in self.tape.markers:
            out.append((f"Go to step {m.index + 1}: {m.label} {m.title if m.title != m.label else ''}".strip(),
                        f"seek_step({m.index})", "g"))
        return out

    def refresh_replay(self) -> None:
        self.bar.refresh()
        self.follow_step()

    def follow_step(self) -> None:
        """A step passed: say which in the status line, and in a notice when paused there."""
        step = self.player.step
        if step is self._last_step:
            return
        self._last_step = step
        self.last_message = f"step {step.index + 1}: {step.label}" if step else ""
        self.refresh_status()
        if step is not None and not self.player.playing and not self.player.ended:
            note = f"step {step.index + 1}/{len(self.tape.markers)} {mark_text(step).plain}"
            if step.detail:
                note += f"\n{step.detail}"
            self.notify(note, title="paused at a step — space goes on", timeout=6, markup=False)

    def scenario_event(self, ev: busmod.Event) -> None:
        if isinstance(ev, busmod.ScenarioStarted):     # a lab on the tape: its pane, as it was
            self.scenario_pane.display = True
        super().scenario_event(ev)

    # --- keys ---------------------------------------------------------------------------
    def action_toggle(self) -> None:
        self.player.toggle()
        self.bar.refresh()

    def action_next_step(self) -> None:
        self.player.next_step()

    def action_previous_step(self) -> None:
        self.player.previous_step()

    def action_seek_step(self, index: int) -> None:
        self.player.seek_step(index)

    def action_faster(self) -> None:
        self.player.faster(True)
        self.bar.refresh()

    def action_slower(self) -> None:
        self.player.faster(False)
        self.bar.refresh()

    def action_restart(self) -> None:
        self.player.seek_line(1)

    def action_pause_at_steps(self) -> None:
        self.player.pause_at_steps = not self.player.pause_at_steps
        self.notify("pausing at each step" if self.player.pause_at_steps else "playing through steps")

    def action_goto(self) -> None:
        marks = self.tape.markers
        if not marks:
            self.notify("this tape has no step markers", severity="warning")
            return
        choices = [(str(m.index), f"{m.index + 1:>2}. {clock_text(m.t)}  {m.label}"
                    + (" ✓" if m.ok else " ✗" if m.ok is False else "")
                    + (f" — {m.title}" if m.title and m.title != m.label else "")) for m in marks]

        def chosen(value: str | None) -> None:
            if value is not None and value.isdigit():
                self.player.seek_step(int(value))
        self.push_screen(PickDialog("Go to step", choices, free=False), chosen)

    # --- headless: each event drawn before the next -------------------------------------
    def caught_up(self) -> None:
        """The player's pace (its thread): wait until this app has applied all it
        was sent and drawn it at the tape's time."""
        deadline = time.monotonic() + 60
        while not self.sub.idle and time.monotonic() < deadline and self.is_running:
            time.sleep(0.001)
        if self.is_running:
            self.call_from_thread(self.settle)

    async def settle(self) -> None:
        """Time-dependent cells (ages) at the clock's time, then a refresh."""
        self.pods_table.tick_clock()
        self.bar.refresh()
        await asyncio.sleep(0)

    def picture(self, title: str) -> str:
        """An SVG screenshot of the console as it stands, every change drawn."""
        self.pods_table.settle()
        self.follow_step()
        return self.export_screenshot(title=title)

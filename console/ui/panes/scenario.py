"""The scenario pane: the lab's steps with live marks, the current step's narration,
what to type (the lab's kubectl command, or the console key), what the checks saw,
and the hint. Fed only by the scenario events on the bus (console.bus)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from console import bus

MARKS = {"pending": ("○", "dim"), "running": ("●", "bold yellow"), "passed": ("✓", "bold green"),
         "failed": ("✗", "bold red"), "skipped": ("↷", "yellow"), "not-run": ("·", "dim"),
         "interrupted": ("!", "bold yellow")}


class ScenarioPane(Static):
    BORDER_TITLE = "Lab"

    def __init__(self, keys: bool = True, **kw):
        """keys=False: no key is offered (a replay: the run is over, nothing to act on)."""
        super().__init__(**kw)
        self.keys = keys
        self.run = ""
        self.title_text = ""
        self.mode = ""
        self.steps: list[dict] = []
        self.status: dict[str, str] = {}
        self.current: bus.StepStarted | None = None
        self.checks: dict[str, bus.CheckResult] = {}
        self.hint = ""
        self.outcome = ""
        self.paused = False

    def event(self, ev: bus.Event) -> None:
        if isinstance(ev, bus.ScenarioStarted):
            self.run, self.title_text, self.mode = ev.run, ev.title, ev.mode
            self.steps = list(ev.steps)
            self.status = {s["id"]: "pending" for s in self.steps}
            self.current, self.checks, self.hint, self.outcome = None, {}, "", ""
        elif getattr(ev, "run", None) != self.run:
            return
        elif isinstance(ev, bus.StepStarted):
            self.current, self.checks, self.hint = ev, {}, ""
            self.status[ev.step] = "running"
        elif isinstance(ev, bus.CheckResult):
            self.checks[ev.check] = ev
        elif isinstance(ev, bus.HintShown):
            self.hint = ev.hint
        elif isinstance(ev, bus.StepFinished):
            self.status[ev.step] = ev.status
        elif isinstance(ev, bus.ScenarioFinished):
            self.outcome = ev.status
        self.show()

    def show(self) -> None:
        done = sum(1 for s in self.status.values() if s not in ("pending", "running"))
        mode = {"learner": "learner", "play": "playing", "run": "running"}.get(self.mode, self.mode)
        self.border_title = f"Lab: {self.title_text}"
        state = f"lab {self.outcome}" if self.outcome else mode
        if self.outcome and self.keys:
            state += " — q cleans up and quits"
        self.border_subtitle = f"{'paused · ' if self.paused else ''}{state} · {done}/{len(self.steps)}"
        out = Text()
        for i, s in enumerate(self.steps):
            mark, style = MARKS.get(self.status.get(s["id"], "pending"), ("?", ""))
            if i:
                out.append("  ")
            out.append(f"{mark} ", style=style)
            out.append(s["id"], style="bold" if self.current and self.current.step == s["id"] else "")
        cur = self.current
        if cur is not None:
            out.append(f"\n{cur.index + 1}. {cur.title}", style="bold")
            if cur.narration:
                out.append(f"\n{cur.narration}")
            if cur.command and (cur.gate == "learner" or self.mode != "run"):
                label = "Do: " if cur.gate == "learner" else "The lab types: "
                out.append(f"\n{label}", style="bold cyan")
                out.append(cur.command.replace("\n", "  ·  "), style="cyan")
                if cur.key and self.keys:
                    out.append(f"   (or press {cur.key})", style="cyan")
                if cur.files and cur.gate == "learner":
                    out.append(f"\nFiles: {'  '.join(cur.files)}", style="dim cyan")
            if cur.gate == "learner" and self.status.get(cur.step) == "running":
                out.append("\nwaiting for you — c check · h hint · s solve · n skip" if self.keys
                           else "\nwaiting for the learner", style="dim")
        if self.hint:    # above the checks: a pane at its height limit cuts from the bottom
            out.append(f"\nHint: {self.hint}", style="italic magenta")
        for c in list(self.checks.values())[-4:]:
            mark, style = ("✓", "green") if c.ok else (("…", "yellow") if not c.final else ("✗", "red"))
            out.append(f"\n{mark} {c.check}: ", style=style)
            out.append(c.observed[:160], style="dim")
            if c.message and not c.ok and c.final:
                out.append(f" — {c.message}", style="red")
        self.update(out)

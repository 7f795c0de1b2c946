"""Probe events: Unhealthy, Killing, BackOff and readiness changes, as a log.

Each event starts a line at its time stamp; a long message continues on
indented lines, so events stay apart. Lines are cut for the log's current
width (scrollbar always shown, so that width does not change under them)
and cut again when the pane is resized.
"""

from __future__ import annotations

import time
from collections import deque

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.widgets import RichLog

from console.cluster.state import EventLine

STYLE = {"Unhealthy": "bold yellow", "Killing": "bold red", "BackOff": "bold red",
         "Failed": "bold red", "Ready": "green", "NotReady": "yellow", "Started": "cyan"}
BURST = 60    # lines written per update at most
KEEP = 500
INDENT = 9    # under the message, past "HH:MM:SS "
SHOWN = {"Unhealthy", "Killing", "BackOff", "Failed", "ProbeWarning", "Started",
         "Ready", "NotReady"}


class Hanging:
    """A Text wrapped at the render width, continuation lines indented."""

    def __init__(self, text: Text, indent: int = INDENT):
        self.text, self.indent = text, indent

    def lines(self, console: Console, width: int) -> list[Text]:
        plain = self.text.plain
        if width <= self.indent + 8 or cell_len(plain) <= width:
            return [self.text]
        first = self.text.wrap(console, width, overflow="fold")[0]
        start = len(first.plain)
        while plain[start:start + 1] == " ":
            start += 1
        out = [first]
        for part in self.text[start:].wrap(console, width - self.indent, overflow="fold"):
            part.rstrip()
            out.append(Text(" " * self.indent) + part)
        first.rstrip()
        return out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(console, options.max_width):
            line.no_wrap, line.overflow = True, "ellipsis"
            yield line


class ProbeLog(RichLog):
    BORDER_TITLE = "Probe events"

    def __init__(self, **kw):
        super().__init__(max_lines=KEEP * 3, wrap=False, markup=False, highlight=False, **kw)
        self.seen = 0
        self.entries: deque[Text] = deque(maxlen=KEEP)
        self.cut_at = 0

    def style_of(self, reason: str) -> str:
        """NO_COLOR: the alarming reasons stay bold, colour goes (Textual greys it)."""
        style = STYLE.get(reason, "")
        return ("bold" if "bold" in style else "") if self.app.no_color else style

    def width_now(self) -> int:
        return self.scrollable_content_region.width

    def on_resize(self) -> None:
        if self.width_now() != self.cut_at:
            self.recut()

    def recut(self) -> None:
        self.cut_at = self.width_now()
        self.clear()
        for text in self.entries:
            self._put(text)

    def _put(self, text: Text) -> None:
        width = self.cut_at or self.width_now()
        self.write(Hanging(text), width=width if width > 0 else None)

    def add(self, lines: list[EventLine], burst: int = BURST) -> None:
        """burst: lines written at most, the rest said to be skipped (a whole
        log redrawn from a snapshot passes KEEP)."""
        lines = [line for line in lines if line.reason in SHOWN]
        if len(lines) > burst:   # a storm: the screen shows the newest anyway
            skipped = Text(f"… {len(lines) - burst} earlier events skipped", style="dim")
            self.entries.append(skipped)
            self._put(skipped)
            lines = lines[-burst:]
        for line in lines:
            self.seen += 1
            stamp = time.strftime("%H:%M:%S", time.localtime(line.ts))
            text = Text.assemble((stamp + " ", "dim"), (f"{line.reason:<10}", self.style_of(line.reason)),
                                 " ", (line.obj.split("/", 1)[-1], "bold"), " ", line.message)
            if line.count > 1:
                text.append(f" (x{line.count})", style="dim")
            self.entries.append(text)
            self._put(text)

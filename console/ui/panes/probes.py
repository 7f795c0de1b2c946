"""Probe events: Unhealthy, Killing, BackOff and readiness changes, as a log."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

from console.cluster.state import EventLine

STYLE = {"Unhealthy": "bold yellow", "Killing": "bold red", "BackOff": "bold red",
         "Failed": "bold red", "Ready": "green", "NotReady": "yellow", "Started": "cyan"}
BURST = 60    # lines written per update at most
SHOWN = {"Unhealthy", "Killing", "BackOff", "Failed", "ProbeWarning", "Started",
         "Ready", "NotReady"}


class ProbeLog(RichLog):
    BORDER_TITLE = "Probe events"

    def __init__(self, **kw):
        super().__init__(max_lines=500, wrap=True, markup=False, highlight=False, **kw)
        self.seen = 0

    def add(self, lines: list[EventLine]) -> None:
        lines = [line for line in lines if line.reason in SHOWN]
        if len(lines) > BURST:   # a storm: the screen shows the newest anyway
            self.write(Text(f"… {len(lines) - BURST} earlier events skipped", style="dim"))
            lines = lines[-BURST:]
        for line in lines:
            self.seen += 1
            stamp = time.strftime("%H:%M:%S", time.localtime(line.ts))
            text = Text.assemble((stamp + " ", "dim"), (f"{line.reason:<10}", STYLE.get(line.reason, "")),
                                 " ", (line.obj.split("/", 1)[-1], "bold"), " ", line.message)
            if line.count > 1:
                text.append(f" (x{line.count})", style="dim")
            self.write(text)

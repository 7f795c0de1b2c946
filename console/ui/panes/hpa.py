"""HPA: kubectl's columns, an at-max highlight, and charts over time of
replicas and of utilization against the target."""

from __future__ import annotations

import time

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from console.ui.panes import idle
from console.ui.panes.chart import bars

from console.cluster.printer import hpa_row


class HpaPane(Vertical):
    BORDER_TITLE = "HPA"

    def __init__(self, now=time.time, keys: bool = True, **kw):
        super().__init__(**kw)
        self.now = now
        self.keys = keys
        self.rows = []

    def compose(self) -> ComposeResult:
        yield Static(id="hpa-table")
        yield Static(id="hpa-replicas-label", classes="chart-label")
        yield Static(id="hpa-replicas", classes="chart")
        yield Static(id="hpa-util-label", classes="chart-label")
        yield Static(id="hpa-util", classes="chart")

    def show(self, hpas: list[dict], history: dict, metrics_hint: str = "") -> None:
        now = self.now()
        table = self.query_one("#hpa-table", Static)
        charts = self.query(".chart")
        labels = self.query(".chart-label")
        if not hpas:
            msg = idle("no HorizontalPodAutoscaler", "press a to autoscale", self.keys)
            if metrics_hint:
                msg.append(f"\n{metrics_hint}", style="yellow")
            table.update(msg)
            self.rows = []
            charts.set_class(True, "-hidden")
            labels.set_class(True, "-hidden")
            return
        charts.set_class(False, "-hidden")
        labels.set_class(False, "-hidden")
        grid = Table.grid(padding=(0, 1))
        for col in ("NAME", "TARGETS", "MIN", "MAX", "REPLICAS", "AGE"):
            grid.add_column(col, no_wrap=True)
        grid.add_row(*[Text(c, style="bold") for c in
                       ("NAME", "TARGETS", "MIN", "MAX", "REPLICAS", "AGE")])
        self.rows = rows = [hpa_row(h, now) for h in hpas]
        for r in rows:
            over = r.utilization is not None and r.target and r.utilization > r.target
            reps = Text(f"{r.replicas}", style="bold")
            if r.at_max:
                reps = Text(f"{r.replicas} AT MAX", style="bold reverse yellow")
            grid.add_row(r.name, Text(r.targets, style="bold red" if over else ""),
                         str(r.minimum), str(r.maximum), reps, r.age)
        table.update(Group(grid, Text(metrics_hint, style="yellow")) if metrics_hint else grid)
        first = rows[0]
        series = list(history.get(first.name, []))
        replicas = [p[1] for p in series] or [first.replicas]
        util = [p[2] for p in series] or [None]
        width = max(10, self.content_region.width or 40)
        self.query_one("#hpa-replicas", Static).update(
            bars(replicas, first.maximum, width, over=first.maximum - 0.5))
        target = first.target or 100
        peak = max([u for u in util if u is not None] or [0])
        self.query_one("#hpa-util", Static).update(bars(util, max(peak, 2 * target), width, over=target))
        self.query_one("#hpa-replicas-label", Static).update(Text.assemble(
            ("replicas ", "bold"), f"{replicas[0]}→{replicas[-1]}  (min {first.minimum}, max {first.maximum})"))
        cur = "<unknown>" if first.utilization is None else f"{first.utilization}%"
        self.query_one("#hpa-util-label", Static).update(Text.assemble(
            ("cpu ", "bold"), f"{cur} vs target {first.target}%  (peak {peak}%)"))

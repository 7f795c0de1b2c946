"""Load: requests/s, latency percentiles, availability, status codes, a
per-second chart, a progress bar for timed runs, and siege's summary at the end."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Sparkline, Static

from console.ui.panes import idle
from console.ui.panes.summary import SiegeSummary


def ms(value) -> str:
    return "-" if value is None else f"{value * 1000:.0f}ms"


class LoadPane(Vertical):
    BORDER_TITLE = "Load"

    def __init__(self, keys: bool = True, **kw):
        super().__init__(**kw)
        self.idle = idle("no load running", "press l to start (siege syntax)", keys)
        self.series: deque[float] = deque(maxlen=120)
        self.last_t = -1
        self.duration: float | None = None
        self.command = ""
        self.via = ""

    def compose(self) -> ComposeResult:
        yield Static(self.idle, id="load-figures")
        yield Sparkline([], id="load-chart", summary_function=max)
        yield ProgressBar(total=100, show_eta=False, id="load-progress")
        yield Static(id="load-summary")

    def on_mount(self) -> None:
        self.query_one("#load-chart").display = False
        self.query_one("#load-progress").display = False

    def reset(self) -> None:
        """As before any run."""
        self.series.clear()
        self.last_t = -1
        self.command, self.duration, self.via = "", None, ""
        self.border_title = self.BORDER_TITLE
        self.query_one("#load-figures", Static).update(self.idle)
        self.query_one("#load-summary", Static).update("")
        self.query_one("#load-chart").display = False
        self.query_one("#load-progress").display = False

    def started(self, command: str, duration: float | None, path: str = "",
                reason: str = "") -> None:
        """path/reason: how the run reaches the Services (console/cluster/route.py)."""
        self.series.clear()
        self.last_t = -1
        self.command, self.duration = command, duration
        self.via = f"via {path} " if path else ""
        self.border_title = f"Load {self.via}siege {command}"
        if reason:
            self.query_one("#load-figures", Static).update(Text(f"{path}: {reason}", style="dim"))
        self.query_one("#load-summary", Static).update("")
        self.query_one("#load-chart").display = True
        bar = self.query_one("#load-progress", ProgressBar)
        bar.display = duration is not None
        bar.update(total=duration or 100, progress=0)

    def sample(self, snap: dict) -> None:
        sec = snap.get("last_second") or {}
        if sec and sec.get("t", -1) > self.last_t:
            self.last_t = sec["t"]
            self.series.append(sec.get("requests", 0))
            self.query_one("#load-chart", Sparkline).data = list(self.series)
        lat = snap.get("latency") or {}
        avail = snap.get("availability", 0.0)
        codes = "  ".join(f"{k}:{v}" for k, v in (snap.get("status_codes") or {}).items())
        errors = "  ".join(f"{k}:{v}" for k, v in (snap.get("errors") or {}).items())
        out = Text()
        out.append(f"{snap.get('rps', 0):.1f} req/s", style="bold")
        out.append("  availability ")
        out.append(f"{avail:.2f} %\n", style="bold green" if avail >= 100 else "bold red")
        out.append(f"p50 {ms(lat.get('p50'))}  p95 {ms(lat.get('p95'))}  p99 {ms(lat.get('p99'))}\n")
        out.append(f"hits {snap.get('transactions', 0)}  failed {snap.get('failed', 0)}"
                   f"  {snap.get('elapsed', 0):.0f}s  codes {codes or '-'}")
        workers = snap.get("workers") or 1
        if workers > 1:  # -j: the generator's processes (default: the cores)
            out.append(f"  {workers} processes", style="dim")
        if errors:
            out.append(f"  errors {errors}", style="red")
        self.query_one("#load-figures", Static).update(out)
        if self.duration:
            self.query_one("#load-progress", ProgressBar).update(
                progress=min(self.duration, snap.get("elapsed", 0)))

    def finished(self, summary: str, result: dict) -> None:
        """The final figures, then siege's own summary; the chart makes room for it."""
        if "transactions" in result:
            self.sample({
                "rps": result.get("request_rate", 0.0), "latency": result.get("latency") or {},
                "availability": result.get("availability", 0.0),
                "transactions": result["transactions"],
                "failed": result.get("failed_transactions", 0),
                "elapsed": result.get("elapsed_time", 0.0),
                "status_codes": result.get("status_codes") or {}, "errors": result.get("errors") or {},
                "workers": result.get("workers")})
        self.query_one("#load-chart").display = False
        self.query_one("#load-progress").display = False
        self.border_title = f"Load finished {self.via}siege {self.command}"
        text = summary.split("\nConnections:")[0]      # the extras are in the figures above
        self.query_one("#load-summary", Static).update(SiegeSummary(text))

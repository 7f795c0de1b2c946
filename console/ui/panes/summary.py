"""siege's closing summary for a pane of any width: `Label:<tabs>   value unit`
lines become label/value pairs, the value aligned when the pane is wide enough,
and each field kept on one line (never "282.89" here and "trans/sec" below)."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text


def fields(summary: str) -> list[tuple[str, str]]:
    """[(label, value)]; a line with no "Label:" keeps its text as label, value ""."""
    out = []
    for line in summary.strip("\n").splitlines():
        label, sep, value = line.partition(":")
        if sep and value[:1].isspace() and value.strip():
            out.append((label.strip() + ":", " ".join(value.split())))
        elif line.strip() and out and not out[-1][1]:   # one notice over two lines: one paragraph
            out[-1] = (f"{out[-1][0]} {line.strip()}", "")
        elif line.strip():
            out.append((line.strip(), ""))
    return out


class SiegeSummary:
    def __init__(self, summary: str):
        self.rows = fields(summary)

    def lines(self, width: int) -> list[Text]:
        pairs = [(label, *_split(value)) for label, value in self.rows if value]
        label_w = max((len(p[0]) for p in pairs), default=0)
        num_w = max((len(p[1]) for p in pairs), default=0)
        unit_w = max((len(p[2]) for p in pairs), default=0)
        aligned = label_w + 1 + num_w + 1 + unit_w <= width
        out = []
        for label, value in self.rows:
            if not value:
                text = Text(label, style="bold red")
                text.overflow = "fold"          # siege's abort notice: wrap it
                out.append(text)
                continue
            num, unit = _split(value)
            if aligned:   # as siege lines them up: numbers right-aligned, units after
                text = Text.assemble(label.ljust(label_w + 1), (num.rjust(num_w), "bold"),
                                     " " + unit if unit else "")
            elif len(label) + 1 + len(value) <= width:
                text = Text.assemble(label, " ", (num, "bold"), " " + unit if unit else "")
            else:                                 # too narrow even so: the value wins
                room = max(0, width - len(value) - 1)
                short = label if len(label) <= room else label[:max(0, room - 1)] + "…" * (room > 0)
                text = Text.assemble(short, " " if room else "", (num, "bold"),
                                     " " + unit if unit else "")
            text.no_wrap, text.overflow = True, "ellipsis"
            out.append(text)
        return out

    def __str__(self) -> str:
        return "\n".join(line.plain for line in self.lines(80))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            if line.no_wrap:
                line.truncate(options.max_width, overflow="ellipsis")
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = max((len(label) + 1 + len(value) for label, value in self.rows), default=0)
        return Measurement(min(widest, 20), min(widest, options.max_width))


def _split(value: str) -> tuple[str, str]:
    num, _, unit = value.partition(" ")
    return num, unit

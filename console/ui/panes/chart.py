"""One-line bar charts on a fixed scale (Sparkline rescales to min..max, which
makes a flat series look full): replicas against max, CPU against target."""

from __future__ import annotations

from rich.text import Text

BLOCKS = " ▁▂▃▄▅▆▇█"


def bars(values: list[float | None], top: float, width: int, over: float | None = None) -> Text:
    """The last `width` values as blocks scaled 0..top; values above `over` in red."""
    out = Text(no_wrap=True, overflow="crop")
    top = max(top, 1e-9)
    for v in values[-width:]:
        if v is None:
            out.append("·", style="dim")
            continue
        level = max(0, min(8, round(8 * v / top)))
        style = "bold red" if over is not None and v > over else "green"
        out.append(BLOCKS[level] if level else "▁", style=style if level else "dim")
    return out

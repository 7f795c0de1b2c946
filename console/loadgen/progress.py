"""A progress bar on stderr while a run goes (terminals only; never when piped)."""

from __future__ import annotations

import asyncio
import os
import sys

from console.loadgen.engine import Engine


def wanted(spec) -> bool:
    return (spec.progress and not spec.verbose and not spec.quiet and not spec.json
            and sys.stderr.isatty() and os.environ.get("TERM") != "dumb")


async def show(engine: Engine) -> None:
    """Redraw a few times a second until cancelled; the bar disappears at the end."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    spec = engine.spec
    total = spec.seconds or (spec.reps * spec.concurrent if spec.reps else None)
    console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
    columns = [TextColumn("[bold]siege"), BarColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[line]}")]
    with Progress(*columns, console=console, transient=True, refresh_per_second=5) as bar:
        task = bar.add_task("", total=total, line="")
        while True:
            snap = engine.snapshot()
            done = snap["elapsed"] if spec.seconds else snap["requests"]
            line = (f"{snap['requests']} req  {snap['rps']:.0f}/s  "
                    f"avail {snap['availability']:.2f} %  failed {snap['failed']}")
            p99 = snap["latency"]["p99"]
            if p99 is not None:
                line += f"  p99 {p99 * 1000:.1f} ms"
            bar.update(task, completed=done, line=line)
            await asyncio.sleep(0.25)

"""The console's panes as plain values, at a given moment: what a person reads
on the screen, to compare a live console with its replay."""

from dataclasses import replace

from console.cluster.printer import hpa_row


def panes(app, at: float) -> dict:
    """Every pane's content, with ages printed as at `at` (wall clock)."""
    return {
        "pods": sorted(r.at(at).cells for r in app.pods_table.printed.values()),
        "pods_title": str(app.pods_table.border_subtitle),
        "probes": [t.plain for t in app.probe_log.entries],
        "hpa": [replace(r, age=hpa_row(h, at).age) for r, h in zip(app.hpa_pane.rows, app.state.hpas())],
        "hpa_charts": [text(w) for w in app.hpa_pane.query(".chart, .chart-label")
                       if not w.has_class("-hidden")],
        # an idle pane's line names a key only where keys act (not in a replay)
        "rollout": "idle" if app.rollout_pane.shown is None else text(app.rollout_pane),
        "load": [load_figures(app), text(app.query_one("#load-summary"))]
        + [app.load_pane.border_title or "", list(app.load_pane.series)],
        "deployment": app.deployment,
        "lab": [text(app.scenario_pane), app.scenario_pane.border_subtitle] if app.scenario_pane.display else None,
    }


def load_figures(app) -> str:
    shown = text(app.query_one("#load-figures"))
    return "idle" if shown == app.load_pane.idle.plain else shown


def text(static) -> str:
    """A Static's content as plain text (Rich Text, a str, or our renderables' str())."""
    return str(static.content)


def svg_lines(svg: str) -> list[str]:
    """The screen lines of a Textual SVG screenshot (its text runs by row, in order)."""
    import html
    import re
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, body in re.findall(r'<text class="[^"]*-r\d+" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        rows.setdefault(float(y), []).append((float(x), html.unescape(body).replace("\xa0", " ")))
    return ["".join(t for _, t in sorted(runs)) for _, runs in sorted(rows.items())]

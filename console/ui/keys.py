"""Every key of the console, from one list: the catalogue's actions (console.cluster.catalogue)
and the few keys that only move the console itself. The bindings, the footer, the
help screen and the command palette are all built from here (Harlequin's one table)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from console.cluster import catalogue


@dataclass(frozen=True)
class Entry:
    key: str            # Textual key names, comma-separated
    display: str
    title: str          # footer / help
    action: str         # the App action it runs
    palette: str        # the command palette's line
    show: bool = True


UI_KEYS = (
    Entry("f", "f", "Faults", "faults", "Faults: liveness, readiness, dependency, mesh"),
    Entry("slash", "/", "Filter", "filter", "Filter pods"),
    Entry("colon", ":", "Namespace", "switch", "Switch namespace / context"),
    Entry("question_mark", "?", "Help", "help", "Help: keys"),
    Entry("q", "q", "Quit", "quit", "Quit"),
    Entry("w", "w", "Apply workload", "workload", "Apply the lab workload (manifests/order.yaml)"),
    Entry("m", "m", "Mark on tape", "mark", "Mark this moment on the tape (a step of its replay)"),
    Entry("1", "1", "Probe events", "side('probes')", "Show the probe events pane", show=False),
    Entry("2", "2", "HPA", "side('hpa')", "Show the HPA pane", show=False),
    Entry("3", "3", "Rollout", "side('rollout')", "Show the rollout pane", show=False),
    Entry("4", "4", "Load pane", "side('load')", "Show the load pane", show=False),
)

# A lab's keys come first, so that the footer shows them while a lab runs (they are
# hidden otherwise: KubelabApp.check_action).
LAB_KEYS = (
    Entry("c", "c", "Check", "lab('check')", "Lab: check the step now"),
    Entry("h", "h", "Hint", "lab('hint')", "Lab: show the hint"),
    Entry("s", "s", "Solve", "lab('solve')", "Lab: solve the step (skip doing it)"),
    Entry("n", "n", "Next step", "lab('next')", "Lab: go on to the next step"),
    Entry("space", "space", "Pause", "lab('pause')", "Lab: pause / resume the playback"),
)

PALETTE_LINES = {("scale", 1): "Scale up by one", ("scale", -1): "Scale down by one"}


def catalogue_entries() -> list[Entry]:
    out = []
    for act in catalogue.ACTIONS:
        if not act.console:
            continue
        for k in act.keys:
            args = dict(k.args)
            palette = PALETTE_LINES.get((act.name, args.get("by")), act.title)
            out.append(Entry(k.key, k.display, k.title, f"do({act.name!r}, {args!r})", palette, k.show))
    return out


# `kubelab replay`: the tape's keys, then the console's own that still mean something
REPLAY_KEYS = (
    Entry("space", "space", "Play/pause", "toggle", "Play / pause the tape"),
    Entry("right_square_bracket", "]", "Next step", "next_step", "Next step marker"),
    Entry("left_square_bracket", "[", "Prev step", "previous_step", "Previous step marker"),
    Entry("greater_than_sign,full_stop", ">", "Faster", "faster", "Play faster (x2)"),
    Entry("less_than_sign,comma", "<", "Slower", "slower", "Play slower (/2)"),
    Entry("g", "g", "Go to step", "goto", "Go to a step"),
    Entry("p", "p", "Pause at steps", "pause_at_steps", "Pause at each step on / off"),
    Entry("0", "0", "Restart", "restart", "Back to the start of the tape", show=False),
)


def entries() -> list[Entry]:
    return list(LAB_KEYS) + catalogue_entries() + list(UI_KEYS)


def replay_entries() -> list[Entry]:
    return list(REPLAY_KEYS) + [e for e in UI_KEYS if e.action not in ("faults", "switch", "mark")]


def bindings(table: list[Entry] | None = None) -> list[Binding]:
    return [Binding(e.key, e.action, e.title, show=e.show,
                    key_display=e.display if e.display != e.key else None)
            for e in (entries() if table is None else table)]


def palette(table: list[Entry] | None = None) -> list[tuple[str, str, str]]:
    """(line, App action, key) for every key, then each fault-menu entry."""
    out = [(e.palette, e.action, e.display) for e in (entries() if table is None else table)]
    if table is not None:
        return out
    for act in catalogue.menu("faults"):
        out.append((f"Fault: {act.title}", f"fault({act.name!r})", "f"))
    return out

"""The console's side of load runs: the siege dialog, and the Load pane following
the runs on the bus. Parsing, target checks and the worker are console.cluster.load's."""

from __future__ import annotations

import contextlib
import sys

from console import bus
from console.errors import UsageError
from console.ui.screens.dialogs import LoadDialog


@contextlib.contextmanager
def real_stdio():
    """Textual swaps sys.stdout/stderr for objects without a file descriptor;
    multiprocessing (its resource tracker) needs the real ones to spawn."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def siege_problem(text: str) -> str | None:
    from console.loadgen.options import parse_line
    try:
        parse_line(text)
    except UsageError as exc:
        return str(exc)
    return None


class LoadControls:
    """Mixed into KubelabApp."""

    spawnable = staticmethod(real_stdio)

    @property
    def load_run(self):
        return self.session.load.current

    @property
    def load_results(self) -> list[str]:
        return self.session.load.summaries

    def ask_load_start(self, args: dict) -> None:
        if self.load_run is not None:
            self.notify("a load run is going: L stops it", severity="warning")
            return

        from console.cluster.route import HELP

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer:
                text, via = answer
                self.load_command = text
                self.act("load.start", siege=text, via=None if via == self.session.load_path else via)
        # the way to the Services: a choice on a real cluster (the embedded one has loopback)
        paths = [(k, f"{k}: {v}") for k, v in HELP.items()] if self.session.real else None
        self.push_screen(LoadDialog(args.get("siege") or self.load_command, siege_problem, paths,
                                    self.session.load_path), chosen)

    def load_event(self, ev: bus.Event, quiet: bool = False) -> None:
        """quiet: redrawing a run from a snapshot, no pane switch or notice."""
        if isinstance(ev, bus.LoadStarted):
            self.load_pane.started(ev.command, ev.seconds, ev.path, ev.reason)
            if not quiet:
                self.action_side("load")
                if ev.path and ev.path != "loopback":
                    self.notify(ev.reason, title=f"load via {ev.path}")
        elif isinstance(ev, bus.LoadSample):
            self.load_pane.sample(ev.data)
        elif isinstance(ev, bus.LoadDone):
            self.load_pane.finished(ev.summary, ev.data)
            if quiet:
                return
            if "error" in ev.data:
                self.notify(ev.summary, title="load", severity="error")
            else:
                self.notify(f"availability {ev.data.get('availability', 0):.2f} %", title="load finished")

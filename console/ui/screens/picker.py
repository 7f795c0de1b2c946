"""The lab picker the console opens on: the labs in scenarios/, their titles and what
each needs of the cluster, and free play (the console as it is). Dismissed with
("learner" | "play", path), ("free", None), or None to quit."""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from console.cluster.connect import kubectl_env
from console.scenario.values import say
from console.ui.screens.help import kubectl_line

FREE = "free"
REPROBE_SECONDS = 3.0


def labs(folder: Path, lang: str = "en") -> list[tuple[str, Path | None, str, list[str], str]]:
    """(lab code, path, title, requires, problem) for each scenario file, by lab code."""
    from console.scenario import loader
    out = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            sc = loader.load(path).scenario
        except Exception as exc:          # a broken file is listed with why, not hidden
            out.append(("?", path, path.stem, [], str(exc).splitlines()[0][:120]))
            continue
        out.append((sc.metadata.lab or "", path, say(sc.metadata.title, lang), sc.metadata.requires, ""))
    return sorted(out, key=lambda x: (x[0] == "?", x[0]))


class LabPicker(Screen):
    BINDINGS = [
        Binding("enter", "learn", "Learn (step by step)"),
        Binding("p", "play", "Play (unattended)"),
        Binding("f", "free", "Free play"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, folder: Path, conn=None, lang: str = "en"):
        super().__init__()
        self.folder, self.conn, self.lang = folder, conn, lang
        self.items = labs(folder, lang)
        self.unmet: dict[str, dict[str, str]] = {}   # lab path -> requirement -> why not

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(Text("kubelab — choose a lab", style="bold"), id="picker-title")
            yield Static(Text("Enter: follow it step by step (you type, the console checks) · "
                              "p: play it unattended · f: free play · q: quit", style="dim"),
                         id="picker-help")
            env = kubectl_env(self.conn) if self.conn is not None else ""
            if env:
                yield kubectl_line(env, id="picker-kubectl")
            yield OptionList(*self.options(), id="labs")
        yield Footer()

    def options(self) -> list[Option]:
        opts = []
        for code, path, title, requires, problem in self.items:
            line = Text()
            line.append(f"{code or '  ':<3} ", style="bold")
            line.append(title)
            if problem:
                line.append(f"\n    cannot be read: {problem}", style="red")
            elif requires:
                why = self.unmet.get(str(path))
                needs = ", ".join(requires)
                if why is None:
                    line.append(f"\n    needs {needs}", style="dim")
                elif why:
                    first = next(iter(why.values()))
                    text = (f"metrics-server is starting here ({first.starting})" if first.starting
                            else f"not (yet) on this cluster: {first.why[:70]}")
                    line.append(f"\n    needs {needs} — {text}", style="yellow")
                    if "metrics" in why and not why["metrics"].starting:
                        line.append("\n    (f, then M, installs metrics-server)", style="dim")
                else:
                    line.append(f"\n    needs {needs} — available here", style="green")
            opts.append(Option(line, id=str(path)))
        opts.append(Option(Text.assemble(("    Free play", "bold"),
                                         ("\n    the console as it is: pods, HPA, probes, rollout, load",
                                          "dim")), id=FREE))
        return opts

    def on_mount(self) -> None:
        self.query_one("#labs", OptionList).focus()
        if self.conn is not None:
            self.probe()

    @work(thread=True, group="picker", exclusive=True, exit_on_error=False)
    def probe(self) -> None:
        """What this cluster offers, for the labs that need something; asked again every
        few seconds while something is missing (metrics-server takes a while to serve on a
        fresh cluster, an add-on may be installed meanwhile)."""
        from textual.worker import get_current_worker

        from console.scenario.requires import missing
        worker = get_current_worker()
        while not worker.is_cancelled:
            found = {}
            for _, path, _, requires, problem in self.items:
                if requires and not problem:
                    found[str(path)] = missing(self.conn, requires, wait=0)
            if found != self.unmet:
                self.app.call_from_thread(self._probed, found)
            if not any(found.values()) or worker.is_cancelled:
                return
            for _ in range(int(REPROBE_SECONDS / 0.25)):   # quitting is not held up
                if worker.is_cancelled:
                    return
                time.sleep(0.25)

    def _probed(self, found: dict) -> None:
        self.unmet = found
        labs_list = self.query_one("#labs", OptionList)
        keep = labs_list.highlighted
        labs_list.clear_options()
        labs_list.add_options(self.options())
        labs_list.highlighted = keep

    def _chosen(self) -> str | None:
        labs_list = self.query_one("#labs", OptionList)
        if labs_list.highlighted is None:
            return None
        return labs_list.get_option_at_index(labs_list.highlighted).id

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._go("learner", event.option.id)

    def action_learn(self) -> None:
        self._go("learner", self._chosen())

    def action_play(self) -> None:
        self._go("play", self._chosen())

    def action_free(self) -> None:
        self.dismiss((FREE, None))

    def action_quit(self) -> None:
        self.dismiss(None)

    def _go(self, mode: str, choice: str | None) -> None:
        if choice is None:
            return
        if choice == FREE:
            self.dismiss((FREE, None))
        else:
            self.dismiss((mode, Path(choice)))

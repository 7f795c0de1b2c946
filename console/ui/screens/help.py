"""`?`: every key the console answers to, from the bindings themselves."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

PANES = "\n".join((    # one line each; the dialog wraps them to its width
    "Panes: Pods (kubectl's columns; rows flash when they change), HPA (targets and a chart "
    "of replicas and CPU against the target), Probe events (Unhealthy, Killing, BackOff, "
    "readiness changes), Rollout (revision, progress, history), Load (siege).",
    "Narrow terminals show one side pane at a time: 1-4 pick it.",
    "ctrl+p opens the command palette: every action is there too."))


def kubectl_line(env: str, id: str | None = None) -> Static:
    """`kubectl in another terminal: export KUBECONFIG=...` (console.cluster.connect.kubectl_env)."""
    return Static(Text.assemble(("kubectl in another terminal: ", "dim"), (env, "cyan")), id=id)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]
    DEFAULT_CLASSES = "dialog"

    def __init__(self, bindings: list[tuple[str, str]], kubectl: str = ""):
        """kubectl: what to type so kubectl in another terminal reaches this cluster."""
        super().__init__()
        self.keys = bindings
        self.kubectl = kubectl

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, desc in self.keys:
            table.add_row(key, desc)
        with VerticalScroll(classes="box help"):
            yield Static(Text("kubelab — keys", style="bold"))
            if self.kubectl:
                yield kubectl_line(self.kubectl)
            yield Static(table)
            yield Static(Text(PANES, style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)

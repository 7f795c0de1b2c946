"""Modal dialogs, each a ModalScreen[T] dismissed with its value (None = cancelled)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option


class Dialog(ModalScreen):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CLASSES = "dialog"

    def action_cancel(self) -> None:
        self.dismiss(None)

    def error(self, text: str) -> None:
        self.query_one("#dialog-error", Static).update(text)


class LoadDialog(Dialog):
    """siege's command line, prefilled with the lab's command, and the way to the
    Services (`paths`: (value, label) pairs; the first is the default). Dismissed
    with (command, path)."""

    def __init__(self, command: str, check=None, paths: list[tuple[str, str]] | None = None,
                 path: str = "auto"):
        super().__init__()
        self.command, self.check = command, check
        self.paths, self.path = paths or [], path

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Label("Start load — siege options and URL", classes="title")
            yield Input(self.command, id="siege")
            yield Static("e.g. -c20 -t40S -v http://order:8080/orders   (Enter to start, Esc to cancel)",
                         classes="hint")
            if self.paths:
                with Horizontal(classes="row"):
                    yield Label("via ", classes="hint")
                    yield Select([(label, value) for value, label in self.paths], value=self.path,
                                 allow_blank=False, id="via", compact=True)
            yield Static(id="dialog-error", classes="error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text.startswith("siege "):
            text = text[6:]
        problem = self.check(text) if self.check else None
        if problem:
            self.error(problem)
            return
        via = self.query_one("#via", Select).value if self.paths else self.path
        self.dismiss((text, str(via)))


class PickDialog(Dialog):
    """Choose one of `choices` or type another value; dismissed with the string.
    `check(value)` may say why a value will not do: shown here, the dialog stays."""

    def __init__(self, title: str, choices: list[tuple[str, str]], placeholder: str = "",
                 free: bool = True, check=None):
        super().__init__()
        self.title_text, self.choices, self.placeholder, self.free = title, choices, placeholder, free
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Label(self.title_text, classes="title")
            yield OptionList(*[Option(label, id=value) for value, label in self.choices], id="choices")
            if self.free:
                yield Input(placeholder=self.placeholder, id="free")
            yield Static(id="dialog-error", classes="error")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self._pick(event.value.strip())

    def _pick(self, value: str) -> None:
        problem = self.check(value) if self.check else None
        if problem:
            self.error(problem)
        else:
            self.dismiss(value)


class AutoscaleDialog(Dialog):
    """kubectl autoscale deployment X --cpu-percent --min --max."""

    def __init__(self, deployment: str, minimum: int = 1, maximum: int = 3, cpu: int = 50):
        super().__init__()
        self.deployment, self.values = deployment, (minimum, maximum, cpu)

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Label(f"Autoscale deployment/{self.deployment}", classes="title")
            with Horizontal(classes="fields"):
                for name, value in zip(("min", "max", "cpu %"), self.values):
                    with Vertical(classes="field"):
                        yield Label(name)
                        yield Input(str(value), id=f"as-{name.split()[0]}", type="integer")
            with Horizontal(classes="buttons"):
                yield Button("Create / update", id="ok", variant="primary")
                yield Button("Delete HPA", id="delete", variant="error")
            yield Static(id="dialog-error", classes="error")

    def _submit(self) -> None:
        try:
            values = tuple(int(self.query_one(f"#as-{n}", Input).value) for n in ("min", "max", "cpu"))
        except ValueError:
            self.error("min, max and cpu % must be whole numbers")
            return
        lo, hi, cpu = values
        if not 1 <= lo <= hi:
            self.error(f"need 1 <= min <= max (got min {lo}, max {hi})")
            return
        if cpu < 1:
            self.error("cpu % must be at least 1")
            return
        self.dismiss(("create", lo, hi, cpu))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "delete":
            self.dismiss(("delete", 0, 0, 0))
        else:
            self._submit()


class ConfirmDialog(Dialog):
    BINDINGS = [Binding("y", "yes", "Yes"), Binding("n,escape", "cancel", "No")]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Label(self.question, classes="title")
            yield Static("y = yes   n / Esc = no", classes="hint")

    def action_yes(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class FilterDialog(Dialog):
    def __init__(self, current: str):
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="box"):
            yield Label("Filter pods (name, status or node; empty = all)", classes="title")
            yield Input(self.current, id="filter")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

"""Rollout: the selected Deployment's revision, progress and history."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from console.cluster.state import Rollout
from console.ui.panes import idle


def bar(done: int, total: int, width: int = 20) -> str:
    total = max(total, 1)
    filled = min(width, round(width * done / total))
    return "█" * filled + "░" * (width - filled)


class RolloutPane(Static):
    BORDER_TITLE = "Rollout"
    shown: Rollout | None | bool = False   # what is on screen (False: nothing yet)

    def __init__(self, keys: bool = True, **kw):
        super().__init__(**kw)
        self.keys = keys

    def show(self, ro: Rollout | None) -> None:
        # Called for every batch of pod events: an update relayouts the screen
        # (auto height), so only a rollout that changed is drawn again.
        if ro == self.shown:
            return
        self.shown = ro
        if ro is None:
            self.border_title = self.BORDER_TITLE       # the one named is gone (or seeked away from)
            self.update(idle("no Deployment", "apply one, or press : to switch namespace", self.keys))
            return
        self.border_title = f"Rollout deployment/{ro.name}"
        out = Text()
        out.append(f"revision {ro.revision}  ", style="bold")
        out.append(ro.image + "\n")
        state = ("complete", "green") if ro.complete else ("progressing", "yellow")
        out.append(f"{bar(ro.available, ro.desired)} ", style=state[1])
        out.append(f"{state[0]}\n", style=f"bold {state[1]}")
        out.append(f"updated {ro.updated}/{ro.desired}  ready {ro.ready}/{ro.desired}  "
                   f"available {ro.available}/{ro.desired}\n")
        for rev, image, replicas in reversed(ro.history[-5:]):
            mark = "▶" if rev == ro.revision else " "
            out.append(f"{mark} {rev:>3}  {replicas:>2} pods  {image}\n",
                       style="bold" if rev == ro.revision else "dim")
        self.update(out)

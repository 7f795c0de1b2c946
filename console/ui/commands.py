"""Command palette (ctrl+p): every key's action and every fault, searchable by name,
from the one list in console.ui.keys."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider


class ActionCommands(Provider):
    """The app's palette() lines (KubelabApp: keys.palette())."""

    async def discover(self) -> Hits:
        for name, action, key in self.app.palette():
            yield Hit(1.0, name, partial(self.app.run_action, action), help=f"key {key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, key in self.app.palette():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action),
                          help=f"key {key}")

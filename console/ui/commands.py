"""Command palette: every key's action, searchable by name (ctrl+p)."""

from __future__ import annotations

from functools import partial

from textual.command import Hit, Hits, Provider

ACTIONS = [
    ("Start load (siege syntax)", "load", "l"),
    ("Stop load", "stop_load", "L"),
    ("Roll out: set image / apply a manifest", "rollout", "r"),
    ("Rollout undo", "undo", "u"),
    ("Scale up by one", "scale(1)", "+"),
    ("Scale down by one", "scale(-1)", "-"),
    ("Autoscale (create / delete HPA)", "autoscale", "a"),
    ("Kill the selected pod", "kill", "k"),
    ("Faults: liveness, readiness, dependency, mesh", "faults", "f"),
    ("Filter pods", "filter", "/"),
    ("Switch namespace / context", "switch", ":"),
    ("Show the probe events pane", "side('probes')", "1"),
    ("Show the HPA pane", "side('hpa')", "2"),
    ("Show the rollout pane", "side('rollout')", "3"),
    ("Show the load pane", "side('load')", "4"),
    ("Help: keys", "help", "?"),
    ("Quit", "quit", "q"),
]


class ActionCommands(Provider):
    async def discover(self) -> Hits:
        for name, action, key in ACTIONS:
            yield Hit(1.0, name, partial(self.app.run_action, action), help=f"key {key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, key in ACTIONS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action),
                          help=f"key {key}")

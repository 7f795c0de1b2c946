"""The console's panes."""

from rich.text import Text


def idle(what: str, key_hint: str, keys: bool = True) -> Text:
    """A pane's line when it has nothing to show; the key hint only where keys act
    (a replay has no cluster to act on)."""
    return Text(f"{what} — {key_hint}" if keys else what, style="dim")

"""Every Message the app passes around, in one place."""

from __future__ import annotations

from textual.message import Message

from console import bus


class BusBatch(Message):
    """Events drained from the bus since the last batch (already merged per object)."""

    def __init__(self, events: list[bus.Event]):
        super().__init__()
        self.events = events


class ActionFinished(Message):
    def __init__(self, title: str, ok: bool, message: str):
        super().__init__()
        self.title, self.ok, self.message = title, ok, message


class Connected(Message):
    """The connection to a cluster is ready (or failed: error set)."""

    def __init__(self, conn=None, error: str = ""):
        super().__init__()
        self.conn, self.error = conn, error

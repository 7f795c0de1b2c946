"""asciicast v2 (asciinema's file format): a JSON header line, then one
`[time, "o", text]` line per chunk of terminal output (and `[time, "m",
label]` markers), times in seconds from the start and never going back.
asciinema-player plays it on a web page.

https://docs.asciinema.org/manual/asciicast/v2/
"""

from __future__ import annotations

import json
from pathlib import Path


class CastWriter:
    def __init__(self, path: str | Path, width: int, height: int, *, title: str = "",
                 timestamp: float | None = None, env: dict | None = None):
        self.path = Path(path)
        self._f = open(self.path, "w", encoding="utf-8", newline="\n")
        self._t = 0.0
        self._pending: list[str] = []
        self._pending_t = 0.0
        self.events = 0
        head = {"version": 2, "width": int(width), "height": int(height)}
        if timestamp is not None:
            head["timestamp"] = int(timestamp)
        if title:
            head["title"] = title
        head["env"] = env or {"TERM": "xterm-256color", "SHELL": "/bin/sh"}
        self._f.write(json.dumps(head) + "\n")

    def output(self, t: float, data: str) -> None:
        """Terminal output at `t` seconds; chunks at the same millisecond become one event."""
        if not data:
            return
        t = max(self._t, round(t, 3))
        if self._pending and t != self._pending_t:
            self._flush()
        self._pending_t = t
        self._pending.append(data)

    def marker(self, t: float, label: str) -> None:
        """A marker (code "m", asciinema 2.3+): players show it on the timeline and
        can pause there; the export puts one at each step."""
        self._flush()
        t = max(self._t, round(t, 3))
        self._f.write(json.dumps([t, "m", label], ensure_ascii=False) + "\n")
        self._t = t
        self.events += 1

    def _flush(self) -> None:
        if self._pending:
            self._f.write(json.dumps([self._pending_t, "o", "".join(self._pending)],
                                     ensure_ascii=False) + "\n")
            self._t = self._pending_t
            self._pending = []
            self.events += 1

    def close(self) -> None:
        if not self._f.closed:
            self._flush()
            self._f.close()


"""Read an asciicast v2 file back and check it as asciinema-player needs it."""

import json
from pathlib import Path
def check(path: str | Path) -> tuple[dict, list[list]]:
    """Read a cast back and check it is asciicast v2 (ValueError naming the line)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines:
        raise ValueError("empty file")
    head = json.loads(lines[0])
    if head.get("version") != 2 or not isinstance(head.get("width"), int) \
            or not isinstance(head.get("height"), int):
        raise ValueError("line 1: not an asciicast v2 header")
    events, last = [], 0.0
    for n, line in enumerate(lines[1:], start=2):
        ev = json.loads(line)
        if not (isinstance(ev, list) and len(ev) == 3 and isinstance(ev[0], (int, float))
                and ev[1] in ("o", "i", "m", "r") and isinstance(ev[2], str)):
            raise ValueError(f"line {n}: not an event [time, code, data]")
        if ev[0] < last:
            raise ValueError(f"line {n}: time {ev[0]} goes back from {last}")
        last = ev[0]
        events.append(ev)
    return head, events

"""The run log: one JSON line per run in the state directory (XDG), newest last."""

from __future__ import annotations

import json
import os
from pathlib import Path

from console import paths


def path() -> Path:
    return paths.state_dir() / "runs.jsonl"


def append(spec_dict: dict, result: dict, source: str = "cli") -> Path:
    """Append one run; a single write() of a whole line so concurrent runs don't interleave."""
    record = {"kind": "siege", "source": source, "argv": spec_dict.get("argv", []),
              "spec": {k: v for k, v in spec_dict.items() if k not in ("argv", "warnings")},
              "result": result}
    p = path()
    data = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    return p


def read(limit: int | None = None) -> list[dict]:
    """The logged runs, oldest first (the last `limit` if given); bad lines are skipped."""
    p = path()
    if not p.exists():
        return []
    runs = []
    for raw in p.read_text().splitlines():
        try:
            runs.append(json.loads(raw))
        except ValueError:
            continue
    return runs[-limit:] if limit else runs

"""The run log, runs.jsonl in the state directory (XDG): written as each run goes.

A run writes three kinds of line, tied by its "run" id:

    {"kind": "siege-start", "run", "source", "argv", "spec", ["path"], "started_at"}   when it starts
    {"kind": "siege-second", "run", "t", "requests", "transactions", ...}   each second, as it closes
    {"kind": "siege", "run", "source", "argv", "spec", "result"}            the summary, at the end

so a crash, even SIGKILL, loses at most the last second. Each line is one write() on
an O_APPEND descriptor: concurrent runs never interleave inside a line. The file is
0600 in a 0700 directory, and secrets stay out of it (redact.py): Authorization, Proxy-Authorization and Cookie values and URL
passwords are replaced, bodies kept as their size and SHA-256 unless --log-bodies.

The writer takes plain dicts (a second of the series, the result), not an engine:
statistics merged from several processes log the same way.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from console import paths
from console.loadgen import redact
from console.loadgen.options import Spec

START, SECOND, SUMMARY = "siege-start", "siege-second", "siege"


def path() -> Path:
    return paths.state_dir() / "runs.jsonl"


class RunLog:
    """One run's lines. Open it when the run starts; OSError if the log cannot be opened."""

    def __init__(self, spec: Spec, source: str = "cli", route: dict | None = None):
        """route: how the run reached its targets ({"kind", "reason"}: console/cluster/route.py)."""
        self.id = uuid.uuid4().hex[:12]
        self.path = path()
        self._fd: int | None = paths.open_private(self.path, os.O_WRONLY | os.O_APPEND)
        self._seconds = 0
        self._head = {"source": source, "argv": redact.argv(spec.argv, spec.log_bodies),
                      "spec": redact.spec(spec)}
        if route:
            self._head["path"] = route
        self._line({"kind": START, "run": self.id, **self._head,
                    "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})

    def _line(self, record: dict) -> None:
        if self._fd is None:
            return
        os.write(self._fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())

    def seconds(self, series: list[dict]) -> None:
        """Write the seconds of `series` not written yet (the series grows at its end)."""
        for sample in series[self._seconds:]:
            self._line({"kind": SECOND, "run": self.id, **sample})
        self._seconds = max(self._seconds, len(series))

    async def follow(self, series: Callable[[], list[dict]], every: float = 1.0) -> None:
        """Write each second as it closes, until cancelled (`series` ticks the clock)."""
        while True:
            await asyncio.sleep(every)
            try:
                self.seconds(series())
            except OSError:
                return  # a full disk must not end the run; the summary will try again

    def finish(self, result: dict) -> None:
        """The seconds left, then the summary line (the series lives in the second lines)."""
        try:
            self.seconds(result.get("series", []))
            self._line({"kind": SUMMARY, "run": self.id, **self._head,
                        "result": {k: v for k, v in result.items() if k != "series"}})
        finally:
            self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read(limit: int | None = None) -> list[dict]:
    """The logged runs, oldest first (the last `limit` if given), each with its series.

    A run that never wrote its summary (killed) comes back with "incomplete": true
    and what it measured up to then: its series. Torn or foreign lines are skipped.
    """
    p = path()
    if not p.exists():
        return []
    runs: dict[str, dict] = {}
    for raw in p.read_bytes().splitlines():
        try:
            rec = json.loads(raw)
            kind, run = rec.get("kind"), rec.get("run")
        except (ValueError, AttributeError):
            continue
        if run is None:  # a line from before the per-second log: a whole run
            if kind == SUMMARY:
                runs[f"line-{len(runs)}"] = rec
            continue
        entry = runs.setdefault(run, {"kind": SUMMARY, "run": run, "incomplete": True,
                                      "result": {"series": []}})
        if kind == START:
            entry.update({k: v for k, v in rec.items() if k != "kind"})
        elif kind == SECOND:
            entry["result"]["series"].append({k: v for k, v in rec.items() if k not in ("kind", "run")})
        elif kind == SUMMARY:
            series = entry["result"]["series"]
            entry.update(rec)
            entry["result"] = dict(rec.get("result", {}), series=series)
            entry.pop("incomplete", None)
    out = list(runs.values())
    return out[-limit:] if limit else out

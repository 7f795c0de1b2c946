"""Write a tape: the header, then one line per event with the interval since
the line before (console/tape/format.py).

Times are kept as whole milliseconds from the header's start, so the
intervals add up to the recorded times exactly however long the tape. Lines
are flushed by the caller after each batch: a crash loses at most the batch
being written, and a line cut short by it is skipped by readers.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from pathlib import Path

from console import bus
from console.tape.format import END, dumps


def trimmed(ev: bus.Event) -> bus.Event:
    """An object without metadata.managedFields: bookkeeping of the API server
    that kubectl get and the console never show, and most of a pod's bytes."""
    if isinstance(ev, bus.ObjectChanged):
        meta = ev.obj.get("metadata")
        if isinstance(meta, dict) and "managedFields" in meta:
            obj = {**ev.obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
            return bus.ObjectChanged(kind=ev.kind, type=ev.type, obj=obj, ts=ev.ts)
    return ev


def _pieces(value, depth: int):
    """json text of `value` in pieces, the dicts `depth` levels down one item a
    piece: a keyframe of thousands of objects is encoded without holding the
    interpreter for the whole of it (json.dumps of one big value does)."""
    if depth and isinstance(value, dict):
        yield "{"
        for i, (k, v) in enumerate(value.items()):
            yield ("," if i else "") + dumps(str(k)) + ":"
            yield from _pieces(v, depth - 1)
            if i % 64 == 63:
                time.sleep(0)       # the console's thread first, if it waits
        yield "}"
    else:
        yield dumps(value)


@functools.cache
def _fields(cls) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.name != "ts")


class TapeWriter:
    def __init__(self, path: str | Path, header: dict):
        self.path = Path(path)
        self.start = float(header["start"])
        self._ms = 0
        self.bytes = 0
        self.lines = 0
        self._f = open(self.path, "w", encoding="utf-8", newline="\n")
        self._put(dumps(header))

    def _put(self, line: str) -> int:
        self._f.write(line)
        self._f.write("\n")
        n = len(line) + 1
        self.bytes += n
        self.lines += 1
        return n

    def _dt(self, t: float) -> float:
        ms = max(self._ms, round((t - self.start) * 1000))
        dt, self._ms = (ms - self._ms) / 1000, ms
        return dt

    @property
    def position(self) -> float:
        """Seconds from the start to the last line written."""
        return self._ms / 1000

    def event(self, ev: bus.Event, t: float | None = None) -> int:
        """One event line; `t` (wall clock) defaults to the event's own time. Returns bytes."""
        dt = self._dt(ev.ts if t is None else t)
        if isinstance(ev, bus.Snapshot):
            parts = [f'{{"dt":{dt},"event":"snapshot","cluster":']
            parts += _pieces(ev.cluster, 3)
            parts += [',"load":', dumps(ev.load), ',"scenario":', dumps(ev.scenario), "}"]
            return self._put("".join(parts))
        line = {"dt": dt, "event": ev.name}
        for name in _fields(type(ev)):
            line[name] = getattr(ev, name)
        return self._put(dumps(line))

    def end(self, outcome: dict, t: float) -> None:
        self._put(dumps({"dt": self._dt(t), "event": END, "outcome": outcome}))

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()

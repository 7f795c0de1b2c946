"""Read a tape: check its header, index it, and read its events from any line.

    tape = read_index("lab.tape")          # UsageError (exit 2) naming file:line on bad input
    tape.markers, tape.keyframes, tape.duration, tape.end, tape.truncated
    for rec in tape.records():             # Record(line, t, event, end)
        ...

One pass over the file checks every line and remembers where the step
markers and keyframes are (byte offsets), so a player seeks without reading
from the start. Events of a kind this kubelab does not know are skipped and
counted in `skipped`. A last line cut short (a recorder that crashed) ends
the tape there (`truncated`); a line that is not JSON anywhere else is bad
input.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from console import bus
from console.errors import UsageError
from console.tape.format import END, check_dt, check_header


@dataclass
class Record:
    line: int                 # 1 is the header
    t: float                  # seconds from the tape's start
    event: bus.Event | None   # None for the end line or an unknown kind
    name: str = ""            # the line's event name
    end: dict | None = None   # the outcome, on the end line


@dataclass
class Mark:
    index: int                # 0-based among the tape's markers
    line: int
    t: float
    id: str
    title: str
    ok: bool | None
    detail: str

    @property
    def label(self) -> str:
        return self.id or self.title or f"step {self.index + 1}"


@dataclass
class Keyframe:
    line: int
    t: float
    offset: int               # byte offset of its line
    base: int = 0             # milliseconds from the start to the line before it


@dataclass
class Tape:
    path: Path
    header: dict
    markers: list[Mark] = field(default_factory=list)
    keyframes: list[Keyframe] = field(default_factory=list)
    duration: float = 0.0
    lines: int = 1
    end: dict | None = None         # the outcome; None when the tape was cut short
    truncated: bool = False         # its last line was cut mid-way
    skipped: Counter = field(default_factory=Counter)
    _data_offset: int = 0           # where line 2 starts

    @property
    def start(self) -> float:
        return float(self.header["start"])

    @property
    def size(self) -> tuple[int, int]:
        term = self.header.get("terminal") or {}
        return int(term.get("width", 80)), int(term.get("height", 24))

    def keyframe_before(self, line: int) -> Keyframe | None:
        """The last keyframe at or before `line`."""
        best = None
        for kf in self.keyframes:
            if kf.line > line:
                break
            best = kf
        return best

    def records(self, keyframe: Keyframe | None = None) -> Iterator[Record]:
        """Every record from the start, or from a keyframe's line on."""
        offset = keyframe.offset if keyframe else self._data_offset
        line = keyframe.line if keyframe else 2
        t = keyframe.base if keyframe else 0
        with open(self.path, "rb") as f:
            f.seek(offset)
            for rec, _ in _parse(f, self.path, self.start, line, t, self.lines):
                yield rec


def _parse(f, path: Path, start: float, line: int, ms: int, last_line: int | None = None):
    """(Record, ms) per line of `f` from `line`; stops at a cut-short last line.
    Events get their recorded wall-clock time: `start` + the intervals so far."""
    for raw in f:
        if last_line is not None and line > last_line:
            return
        where = f"{path}:{line}"
        if not raw.strip():
            line += 1
            continue
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            if not raw.endswith(b"\n"):    # the recorder stopped mid-line: the tape ends here
                return
            raise UsageError("not a JSON object (a tape has one event a line)", where=where) from None
        if not isinstance(data, dict):
            raise UsageError("not a JSON object (a tape has one event a line)", where=where)
        ms += round(check_dt(data, where) * 1000)
        name = data.get("event")
        if not isinstance(name, str):
            raise UsageError(f"field 'event': expected an event name, got {name!r}", where=where)
        if name == END:
            outcome = data.get("outcome")
            yield Record(line, ms / 1000, None, name, outcome if isinstance(outcome, dict) else {}), ms
            return
        if bus.kind_of(name) is None:
            yield Record(line, ms / 1000, None, name), ms
        else:
            body = {k: v for k, v in data.items() if k != "dt"}
            body["ts"] = start + ms / 1000
            try:
                ev = bus.from_dict(body)
            except (ValueError, TypeError) as exc:
                raise UsageError(f"{name} event: {exc}", where=where) from None
            yield Record(line, ms / 1000, ev, name), ms
        line += 1


class _Offsets:
    """A binary file's lines, remembering where each began."""

    def __init__(self, f, offset: int):
        self.f, self.offset, self.starts, self.last = f, offset, [], b""

    def __iter__(self):
        for raw in self.f:
            self.starts.append(self.offset)
            self.offset += len(raw)
            self.last = raw
            yield raw


STEP_RESULT = {"passed": True, "failed": False}


def marker_of(ev: bus.Event, titles: dict) -> tuple | None:
    """(id, title, ok, detail) if `ev` is a step marker: a scenario step's end
    (its title from the scenario's start, remembered in `titles`) or a Marker."""
    if isinstance(ev, bus.Marker):
        return ev.id, ev.title, ev.ok, ev.detail
    if isinstance(ev, bus.ScenarioStarted):
        for step in ev.steps:
            if isinstance(step, dict):
                titles[(ev.run, str(step.get("id", "")))] = str(step.get("title", ""))
    elif isinstance(ev, bus.StepStarted):
        titles[(ev.run, ev.step)] = ev.title or titles.get((ev.run, ev.step), "")
    elif isinstance(ev, bus.StepFinished):
        detail = "; ".join(str(f) for f in ev.failures)
        if ev.status not in STEP_RESULT:            # skipped, not-run: say so
            detail = f"{ev.status}{': ' + detail if detail else ''}"
        return ev.step, titles.get((ev.run, ev.step), ""), STEP_RESULT.get(ev.status), detail
    return None


def read_index(path: str | Path) -> Tape:
    """Check and index a whole tape (UsageError on bad input, naming file:line)."""
    path = Path(path)
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise UsageError(exc.strerror or str(exc), where=str(path)) from None
    with f:
        first = f.readline()
        if not first.strip():
            raise UsageError("empty file: not a kubelab tape", where=str(path))
        try:
            head = json.loads(first)
        except (ValueError, UnicodeDecodeError):
            raise UsageError("not a kubelab tape (its first line is not JSON)",
                             where=f"{path}:1") from None
        tape = Tape(path, check_header(head, f"{path}:1"))
        tape._data_offset = len(first)
        if not first.endswith(b"\n"):
            tape.truncated = True
            return tape
        lines = _Offsets(f, len(first))
        before = 0
        titles: dict[tuple[str, str], str] = {}
        for rec, ms in _parse(lines, path, tape.start, 2, 0):
            tape.lines, tape.duration = rec.line, rec.t
            ev = rec.event
            if rec.end is not None:
                tape.end = rec.end
            elif ev is None:
                tape.skipped[rec.name] += 1
            elif isinstance(ev, bus.Snapshot):
                tape.keyframes.append(Keyframe(rec.line, rec.t, lines.starts[-1], before))
            else:
                mark = marker_of(ev, titles)
                if mark is not None:
                    tape.markers.append(Mark(len(tape.markers), rec.line, rec.t, *mark))
            before = ms
        # the last line read has no newline and gave no record: it was cut short
        last = lines.starts and 1 + len(lines.starts)
        tape.truncated = bool(tape.end is None and last and last != tape.lines
                              and not lines.last.endswith(b"\n") and lines.last.strip())
    return tape

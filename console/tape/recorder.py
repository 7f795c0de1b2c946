"""The tape recorder: a bus consumer that writes every event, in order and
unmerged, from its own thread.

    rec = Recorder(session_bus, "lab.tape", format.header(...)).start()
    ...                                   # producers publish as usual
    rec.close({"exit": 0})                # the rest, then the final `end` line

It reads an ordered subscription (console/bus.py), so it sees what every
producer published even while the UI merges; if the disk cannot keep up,
publishers wait rather than events being lost. Lines are flushed after each
batch. A keyframe (the whole state, from its own Fold) follows once the
events since the last one add up to as many bytes as that keyframe had,
and at least KEYFRAME_SECONDS apart: a seek reads at most about one
keyframe's worth of events, and keyframes stay about half the tape or less.
A write error (disk full) stops the recording, keeps what was written and
is reported in `error`; the console goes on.
"""

from __future__ import annotations

import threading
import time

from console import bus
from console.tape.fold import Fold
from console.tape.writer import TapeWriter, trimmed

KEYFRAME_BYTES = 256 * 1024    # events between keyframes, at least
KEYFRAME_SECONDS = 10.0
QUEUE = 50_000                 # events waiting before publishers wait
NO_TERMINAL = (160, 48)        # the size recorded when there is no terminal


class Recorder:
    def __init__(self, source: bus.Bus, path, header: dict,
                 keyframe_bytes: int = KEYFRAME_BYTES, keyframe_seconds: float = KEYFRAME_SECONDS):
        self.path = path
        self.writer = TapeWriter(path, header)
        self.sub = source.subscribe(maxsize=QUEUE, merge=False)
        self.fold = Fold()
        self.keyframe_bytes = keyframe_bytes
        self.keyframe_seconds = keyframe_seconds
        self.events = 0
        self.keyframes = 0
        self.error: str | None = None
        self._since_keyframe = 0
        self._last_keyframe = (float("-inf"), keyframe_bytes)   # (tape seconds, its bytes)
        self._last_t = self.writer.start
        self._closed = False
        self.thread = threading.Thread(target=self._run, name="tape-recorder", daemon=True)

    def start(self) -> Recorder:
        self.thread.start()
        return self

    def _run(self) -> None:
        while True:
            batch = self.sub.get_batch(timeout=0.5, limit=2_000)
            if not batch:
                if self.sub.closed:
                    return
                continue
            if self.error is None:
                try:
                    for i, ev in enumerate(batch):
                        self._write(ev)
                        if i % 16 == 15:
                            time.sleep(0)   # let the console's thread have the interpreter
                    self.writer.flush()
                except OSError as exc:
                    self._fail(exc)

    def _write(self, ev: bus.Event) -> None:
        # publication order is the tape's order; a time stamped a little
        # earlier in another producer's thread does not go back in time
        t = self._last_t = max(self._last_t, ev.ts)
        ev = trimmed(ev)
        self._since_keyframe += self.writer.event(ev, t)
        self.events += 1
        self.fold.apply(ev)
        at, size = self._last_keyframe
        if (self._since_keyframe >= max(self.keyframe_bytes, size)
                and self.writer.position - at >= self.keyframe_seconds):
            n = self.writer.event(self.fold.snapshot(), t)
            self.keyframes += 1
            self._last_keyframe = (self.writer.position, n)
            self._since_keyframe = 0

    def _fail(self, exc: OSError) -> None:
        self.error = f"recording stopped: {exc.strerror or exc} ({self.path})"
        self.sub.close()           # publishers must not wait for a reader that has stopped
        try:
            self.writer.close()
        except OSError:
            pass

    @property
    def position(self) -> float:
        return self.writer.position

    def close(self, outcome: dict | None = None, timeout: float = 30.0, t: float | None = None) -> None:
        """Write what is still queued, then the `end` line with the outcome, at `t`
        (wall clock; default now)."""
        if self._closed:
            return
        self._closed = True
        self.sub.close()
        self.thread.join(timeout)
        if self.error is None:
            try:
                self.writer.end(outcome or {}, max(self._last_t, time.time() if t is None else t))
                self.writer.flush()
            except OSError as exc:
                self._fail(exc)
        self.writer.close()


def check_path(path: str, option: str = "--record") -> str:
    """Fail now, before any cluster is started, if the tape cannot be written."""
    import os
    from pathlib import Path

    from console.errors import UsageError
    p = Path(path)
    if p.is_dir():
        raise UsageError("is a directory", where=f"{option} {path}")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError("no such directory", where=f"{option} {path}")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise UsageError("not writable", where=f"{option} {path}")
    return path


def record(source: bus.Bus, path: str, *, conn=None, scenario: dict | None = None,
           command: str = "", size: tuple[int, int] | None = None) -> Recorder:
    """Start recording `source` into `path` (the console, run and play all start here)."""
    import shutil

    from console.tape import format
    # No terminal (a headless `kubelab run` in CI or piped): the size a replay and its
    # pictures get by default is the console's at a roomy terminal, not 80x24.
    width, height = size or shutil.get_terminal_size(fallback=NO_TERMINAL)
    head = format.header(width=width, height=height, cluster=format.cluster_of(conn),
                         scenario=scenario, command=command)
    return Recorder(source, path, head).start()


def scenario_header(loaded) -> dict:
    """The header's `scenario`: a console.scenario Loaded's id and its file's sha256."""
    import hashlib
    path = loaded.path
    body = path.read_bytes() if path.is_file() else loaded.text.encode()
    return {"id": loaded.id, "sha256": hashlib.sha256(body).hexdigest(), "file": str(path)}


def report(rec: Recorder) -> str:
    """One line for the end of a run: where the tape is and what is on it."""
    if rec.error:
        return f"kubelab: {rec.error}"
    size = rec.writer.bytes
    human = f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.0f} kB"
    return (f"kubelab: tape {rec.path}: {rec.events} events, {rec.position:.0f} s, {human} "
            f"(kubelab replay {rec.path})")

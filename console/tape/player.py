"""Play a tape onto a bus, as its producers once published it, with no cluster.

    player = Player(read_index("lab.tape"), bus, speed=1.0, pause_at_steps=True)
    app = ...(now=player.clock.now)       # the console's clock is the tape's
    player.start()
    player.toggle(); player.next_step(); player.previous_step(); player.seek_step(2)

The player thread publishes each event when the tape clock reaches its time;
the clock runs at `speed` (inf: as fast as the consumer takes them) and
stops while paused. A seek folds from the nearest keyframe to the target
line (console/tape/fold.py) and publishes the result as one Snapshot, which
supersedes whatever the consumer had not drawn yet. With `pace`, the player
waits after each event until the consumer has applied it (headless exports
and tests: nothing merges, so every event shows); with `tick` as well, the
clock moves between events in steps of that many seconds, paced the same
way (an export's frames show ages moving). Controls are thread-safe.
"""

from __future__ import annotations

import math
import threading
import time

from console import bus
from console.tape.fold import Fold
from console.tape.reader import Mark, Tape

SPEEDS = (0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)


class Clock:
    """The tape's time as a wall clock: now() is when the shown moment was recorded."""

    def __init__(self, start: float, speed: float = 1.0):
        self.start = start
        self.speed = speed
        self._pos = 0.0
        self._since: float | None = None     # monotonic time the clock last started running
        self._lock = threading.Lock()

    @property
    def position(self) -> float:
        with self._lock:
            return self._position()

    def _position(self) -> float:
        if self._since is None or math.isinf(self.speed):
            return self._pos
        return self._pos + (time.monotonic() - self._since) * self.speed

    def now(self) -> float:
        return self.start + self.position

    @property
    def running(self) -> bool:
        return self._since is not None

    def run(self, on: bool) -> None:
        with self._lock:
            self._pos = self._position()
            self._since = time.monotonic() if on else None

    def set(self, position: float, speed: float | None = None) -> None:
        with self._lock:
            self._pos = position
            if speed is not None:
                self.speed = speed
            if self._since is not None:
                self._since = time.monotonic()


class Player:
    def __init__(self, tape: Tape, sink: bus.Bus, speed: float = 1.0,
                 pause_at_steps: bool = False, pace=None, tick: float | None = None):
        if not speed > 0:
            raise ValueError("speed must be > 0")
        self.tape = tape
        self.bus = sink
        self.clock = Clock(tape.start, speed)
        self.pause_at_steps = pause_at_steps
        self.pace = pace
        self.tick = tick                   # at speed inf with pace: the clock's steps between events
        self.ended = False
        self.line = 1                      # the last line published
        self.step: Mark | None = None      # the last marker passed
        self.published = 0
        self._mark_lines = {m.line for m in tape.markers}
        self._cond = threading.Condition()
        self._playing = False
        self._seek: int | None = None      # a line to seek to, for the thread
        self._stop = False
        self.thread = threading.Thread(target=self._run, name="tape-player", daemon=True)

    # --- controls (any thread) ---------------------------------------------------------
    def start(self, playing: bool = True) -> Player:
        self._set_playing(playing)
        self.thread.start()
        return self

    @property
    def playing(self) -> bool:
        return self._playing

    def _set_playing(self, on: bool) -> None:
        with self._cond:
            self._playing = on
            self.clock.run(on)
            self._cond.notify_all()

    def play(self) -> None:
        if self.ended:
            self.seek_line(1)
        self._set_playing(True)

    def pause(self) -> None:
        self._set_playing(False)

    def toggle(self) -> None:
        self.pause() if self._playing else self.play()

    def set_speed(self, speed: float) -> None:
        with self._cond:
            self.clock.set(self.clock.position, speed)
            self._cond.notify_all()

    def faster(self, up: bool = True) -> float:
        cur = self.clock.speed
        options = [s for s in SPEEDS if (s > cur if up else s < cur)]
        if options:
            self.set_speed(options[0] if up else options[-1])
        return self.clock.speed

    def seek_line(self, line: int) -> None:
        """Show the state just after `line` (1: the start, before any event)."""
        with self._cond:
            self._seek = max(1, min(line, self.tape.lines))
            self._cond.notify_all()

    def seek_step(self, index: int) -> None:
        marks = self.tape.markers
        if marks:
            self.seek_line(marks[max(0, min(index, len(marks) - 1))].line)

    def next_step(self) -> None:
        line = self._target()
        nxt = next((m for m in self.tape.markers if m.line > line), None)
        if nxt is not None:
            self.seek_line(nxt.line)

    def previous_step(self) -> None:
        line = self._target()
        prev = [m for m in self.tape.markers if m.line < line]
        self.seek_line(prev[-1].line if prev else 1)

    def _target(self) -> int:
        with self._cond:
            return self._seek if self._seek is not None else self.line

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def wait(self, condition, timeout: float = 60.0) -> bool:
        """Block until condition(player) holds (tests, exports); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # --- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        records = self.tape.records()
        while True:
            with self._cond:
                if self._stop:
                    return
                seek, self._seek = self._seek, None
            if seek is not None:
                records = self._do_seek(seek)
                continue
            rec = next(records, None)
            if rec is None:
                self._at_end()
                continue
            if not self._wait_until(rec.t):
                records = self._resume_after_interrupt(records, rec)
                continue
            self._publish(rec)

    def _resume_after_interrupt(self, records, rec):
        """A seek or stop came while waiting for `rec`: a seek starts over, else keep it."""
        with self._cond:
            if self._seek is not None or self._stop:
                return records
        return _chain(rec, records)

    def _wait_until(self, t: float) -> bool:
        """Wait for the clock to reach t; False if a seek or stop came first."""
        while True:
            with self._cond:
                if self._seek is not None or self._stop:
                    return False
                if not self._playing:
                    self._cond.wait(0.25)
                    continue
                pos = self.clock.position
                if pos >= t:
                    return True
                if not math.isinf(self.clock.speed):
                    self._cond.wait(min(0.25, (t - pos) / self.clock.speed))
                    continue
                if not (self.tick and self.pace) or pos + self.tick >= t:
                    return True
                self.clock.set(pos + self.tick)
                self._cond.notify_all()
            self.pace()

    def _publish(self, rec) -> None:
        ev = rec.event
        if ev is not None:
            self.bus.publish(ev)
            self.published += 1
        with self._cond:
            self.line = rec.line
            if math.isinf(self.clock.speed) or not self._playing:
                self.clock.set(rec.t)
            if rec.line in self._mark_lines:
                self.step = self._mark_at(rec.line)
                if self.pause_at_steps:
                    self._playing = False
                    self.clock.run(False)
                    self.clock.set(rec.t)
            self._cond.notify_all()
        if ev is not None and self.pace is not None:
            self.pace()

    def _mark_at(self, line: int) -> Mark | None:
        marks = [m for m in self.tape.markers if m.line <= line]
        return marks[-1] if marks else None

    def _at_end(self) -> None:
        with self._cond:
            if not self.ended:
                self.ended = True
                self._playing = False
                self.clock.run(False)
                self.clock.set(self.tape.duration)
                self._cond.notify_all()
            while self._seek is None and not self._stop:
                self._cond.wait(0.25)

    def _do_seek(self, line: int):
        """Fold from the nearest keyframe through `line`, publish it, go on after it."""
        kf = self.tape.keyframe_before(line)
        fold, t = Fold(), kf.t if kf else 0.0
        records = self.tape.records(kf)
        for rec in records:
            if rec.line > line:
                records = _chain(rec, records)
                break
            t = rec.t
            if rec.event is not None:
                fold.apply(rec.event)
        else:
            records = iter(())
        with self._cond:
            self.clock.set(t)          # first: the consumer draws the snapshot at its time
        self.bus.publish(fold.snapshot(ts=self.tape.start + t))
        with self._cond:
            self.line = line
            self.ended = False
            self.step = self._mark_at(line)
            self._cond.notify_all()
        if self.pace is not None:
            self.pace()
        return records


def _chain(first, rest):
    yield first
    yield from rest

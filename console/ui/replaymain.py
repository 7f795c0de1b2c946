"""`kubelab replay TAPE`: play a tape in the console with no cluster, or with
--export write it as an asciicast and one SVG picture per step."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from console.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kubelab replay", description="Play a tape recorded with --record: the "
                "console as it was, with no cluster. Keys: space play/pause, ] / [ next / "
                "previous step, > / < faster / slower, g go to a step, p pause at each step.")
    p.add_argument("tape", help="a tape written by kubelab --record FILE (or run / play --record)")
    p.add_argument("--speed", type=float, default=1.0, help="play N times faster (default 1: real time)")
    p.add_argument("--pause-at-steps", action="store_true", help="pause at each step marker")
    p.add_argument("--step", help="start paused at this step (its id, or its number from 1)")
    p.add_argument("--export", metavar="OUT.cast",
                   help="no console: write an asciicast v2 file and one SVG per step beside it")
    p.add_argument("--size", metavar="COLSxROWS",
                   help="--export's terminal size (default: the recorded one)")
    return p


def step_index(tape, text: str) -> int:
    for m in tape.markers:
        if m.id == text:
            return m.index
    if text.isdigit() and 1 <= int(text) <= len(tape.markers):
        return int(text) - 1
    have = ", ".join(f"{m.index + 1}:{m.label}" for m in tape.markers) or "none"
    raise UsageError(f"no step {text!r} on this tape (steps: {have})", where="--step")


def parse_size(text: str) -> tuple[int, int]:
    cols, sep, rows = text.lower().partition("x")
    if not sep or not cols.isdigit() or not rows.isdigit() or not (20 <= int(cols) <= 1000
                                                                  and 10 <= int(rows) <= 1000):
        raise UsageError(f"expected COLSxROWS such as 160x48, got {text!r}", where="--size")
    return int(cols), int(rows)


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if not args.speed > 0:
        raise UsageError("must be > 0", where="--speed")
    from console.tape.reader import read_index
    tape = read_index(args.tape)
    for name, n in tape.skipped.items():
        print(f"kubelab replay: {n} {name!r} events skipped (a newer kubelab's)", file=sys.stderr)
    if tape.truncated or tape.end is None:
        print(f"kubelab replay: {args.tape} was cut short; it plays up to line {tape.lines}",
              file=sys.stderr)
    start = step_index(tape, args.step) if args.step else None
    if args.export:
        out = Path(args.export)
        if out.suffix != ".cast":
            raise UsageError("the file name must end in .cast", where="--export")
        try:                                   # out/l7.cast: out/ is made as needed
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot make its directory: {exc.strerror or exc}",
                             where=f"--export {out}") from None
        size = parse_size(args.size) if args.size else None
        from console.ui.export import export
        for path in asyncio.run(export(tape, out, size)):
            print(path)
        return 0
    from console.ui.replay import ReplayApp
    ReplayApp(tape, speed=args.speed, pause_at_steps=args.pause_at_steps, step=start).run()
    return 0

"""`kubelab play SCENARIO [--lang en|ko]`: the lab played back unattended in the console,
with captions; space pauses, n goes on to the next step; waits advance as soon as their
condition holds. Same connection options as the console (embedded cluster by default)."""

from __future__ import annotations

from pathlib import Path

from console.errors import UsageError
from console.ui.main import parser, run_console


def main(argv: list[str]) -> int:
    p = parser()
    p.prog = "kubelab play"
    p.description = "Play a lab unattended in the console."
    p.add_argument("scenario", metavar="SCENARIO", help="a scenario file (scenarios/*.yaml)")
    p.add_argument("--pace", type=float, default=3.0,
                   help="seconds each step stays on screen at least, to read its caption")
    args = p.parse_args(argv)
    path = Path(args.scenario)
    from console.scenario import loader
    loader.load(path)                       # bad input: exit 2 before any cluster starts
    if args.pace < 0:
        raise UsageError("must be 0 or more", where="--pace")
    return run_console(args, argv, play=path, pace=args.pace)

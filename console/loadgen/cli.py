"""kubelab siege: siege's command line and summary, on the kubelab engine.

Exit codes: 0 after a run (also after Ctrl-C or a failure-threshold abort, as
siege), 2 for bad input (raised as UsageError, printed by console.cli).
"""

from __future__ import annotations

import asyncio
import signal
import sys

from console import __version__
from console.loadgen import options, progress, runlog, summary, verbose
from console.loadgen.engine import Engine, Response, run_sync
from console.loadgen.resolve import ClusterResolver


def _printers(spec):
    """(on_response, on_error) for the engine; None when there is nothing to print."""
    out_color = sys.stdout.isatty() and not _no_color()
    err_color = sys.stderr.isatty() and not _no_color()
    write_out, write_err = sys.stdout.write, sys.stderr.write

    def on_response(r: Response) -> None:
        write_out(verbose.line(r, out_color) + "\n")

    def on_error(r: Response) -> None:
        write_err(verbose.error_line(r, err_color) + "\n")

    talk = not spec.quiet and not spec.json
    return (on_response if spec.verbose and talk else None), (on_error if talk else None)


def _no_color() -> bool:
    import os
    return bool(os.environ.get("NO_COLOR"))


async def _run(engine: Engine, spec) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, engine.stop)
    bar = asyncio.create_task(progress.show(engine)) if progress.wanted(spec) else None
    try:
        await engine.run()
    finally:
        if bar:
            bar.cancel()
            await asyncio.gather(bar, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def main(argv: list[str]) -> int:
    spec = options.parse(argv)
    if spec is None:
        print(options.HELP)
        return 0
    for w in spec.warnings:
        print(w, file=sys.stderr)
    on_response, on_error = _printers(spec)
    engine = Engine(spec, ClusterResolver(), on_response, on_error)
    engine.prepare()  # an unreachable in-cluster name is bad input: exit 2 before any load
    talk = not spec.quiet and not spec.json
    if talk:
        sys.stderr.write(f"** kubelab siege {__version__} (siege 4.0 syntax)\n"
                         f"** Preparing {spec.concurrent} concurrent users for battle.\n"
                         "The server is now under siege...\n")
        sys.stderr.flush()
    run_sync(_run(engine, spec))
    sys.stdout.flush()
    result = engine.result()
    if spec.log:
        try:
            runlog.append(spec.to_dict(), result)
        except OSError as exc:
            print(f"kubelab siege: could not append to the run log: {exc}", file=sys.stderr)
    if spec.json:
        print(summary.as_json(result))
    elif not spec.quiet:
        if spec.seconds or engine.interrupted:
            sys.stderr.write("\nLifting the server siege...")
        sys.stderr.write(summary.text(result, spec.failures))
    return 0

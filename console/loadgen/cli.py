"""kubelab siege: siege's command line and summary, on the kubelab engine.

Exit codes: 0 after a run (also after Ctrl-C or a failure-threshold abort, as
siege), 2 for bad input (raised as UsageError, printed by console.cli).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from console import __version__
from console.loadgen import options, pool, progress, runlog, summary, verbose
from console.loadgen.engine import Engine, Response, run_sync
from console.loadgen.resolve import ClusterResolver, ConnectToResolver


class _Printers:
    """-v lines to stdout, [error] lines to stderr. A closed pipe (`| head`) ends the
    run, as SIGPIPE ends siege, instead of turning every request into a failure."""

    def __init__(self, spec, stop):
        self.stop = stop
        self.closed = False
        self.out_color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self.err_color = sys.stderr.isatty() and not os.environ.get("NO_COLOR")
        talk = not spec.quiet and not spec.json
        self.on_response = self._response if spec.verbose and talk else None
        self.on_error = self._error if talk else None

    def _write(self, stream, text: str) -> None:
        if self.closed:
            return
        try:
            stream.write(text)
        except (BrokenPipeError, OSError):
            self.closed = True
            self.stop()

    def _response(self, r: Response) -> None:
        self._write(sys.stdout, verbose.line(r, self.out_color) + "\n")

    def _error(self, r: Response) -> None:
        self._write(sys.stderr, verbose.error_line(r, self.err_color) + "\n")


def _quiet_stdout() -> None:
    # stdout's reader went away: point it at /dev/null so exiting doesn't complain
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _hold(signum, frame) -> None:
    """After the run: Ctrl-C or SIGTERM waits until what was measured is written."""


async def _run(engine: Engine | pool.Pool, spec, log: runlog.RunLog | None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, engine.stop)
    side = [asyncio.create_task(progress.show(engine))] if progress.wanted(spec) else []
    if log:
        side.append(asyncio.create_task(log.follow(engine.seconds)))
    try:
        await engine.run()
    finally:
        for task in side:
            task.cancel()
        await asyncio.gather(*side, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
            signal.signal(sig, _hold)  # a second Ctrl-C must not lose the summary


def _open_log(spec) -> runlog.RunLog | None:
    if not spec.log:
        return None
    try:
        return runlog.RunLog(spec)
    except OSError as exc:
        print(f"kubelab siege: the run will not be logged: {exc}", file=sys.stderr)
        return None


def main(argv: list[str]) -> int:
    spec = options.parse(argv)
    if spec is None:
        try:
            print(options.HELP, flush=True)
        except BrokenPipeError:
            _quiet_stdout()
        return 0
    for w in spec.warnings:
        print(w, file=sys.stderr)
    resolver = ClusterResolver()
    if spec.connect_to:
        resolver = ConnectToResolver(spec.connect_to, resolver)
    engine = pool.make(spec, resolver, live=progress.wanted(spec))
    printers = _Printers(spec, engine.stop)
    engine.on_response, engine.on_error = printers.on_response, printers.on_error
    engine.prepare()  # an unreachable in-cluster name is bad input: exit 2 before any load
    talk = not spec.quiet and not spec.json
    if talk:
        sys.stderr.write(f"** kubelab siege {__version__} (siege 4.0 syntax)\n"
                         f"** Preparing {spec.concurrent} concurrent users for battle.\n"
                         "The server is now under siege...\n")
        sys.stderr.flush()
    log = _open_log(spec)
    try:
        run_sync(_run(engine, spec, log))
        _finish(engine, spec, printers, log)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
    return 0


def _finish(engine: Engine | pool.Pool, spec, printers: _Printers,
            log: runlog.RunLog | None) -> None:
    """The run log first (nothing measured is lost), then the summary."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        printers.closed = True
    if printers.closed:
        _quiet_stdout()
    result = engine.result()
    for line in pool.troubles(result):
        print(f"kubelab siege: {line}", file=sys.stderr)
    if log:
        try:
            log.finish(result)
        except OSError as exc:
            print(f"kubelab siege: could not write to the run log: {exc}", file=sys.stderr)
    if spec.json:
        try:
            print(summary.as_json(result), flush=True)
        except BrokenPipeError:
            _quiet_stdout()
    elif not spec.quiet:
        if (spec.seconds or engine.interrupted) and not engine.aborted:
            sys.stderr.write("\nLifting the server siege...")
        sys.stderr.write(summary.text(result, spec.failures))

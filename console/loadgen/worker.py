"""The engine in a child process, so that drawing a screen never distorts latencies.

    w = LoadWorker(spec)          # spec: console.loadgen.options.Spec (options.parse(argv))
    w.start()
    w.snapshots()                 # non-blocking: the snapshots that arrived (<= 10/s)
    w.stop()                      # ends the run early; the summary still comes
    w.result(timeout=30)          # the final result dict (Engine.result()), or None

The child runs the engine, or a pool of engines on every core (console.loadgen.pool,
-j/--workers), and writes its run to the run log itself, as it goes, so a run's
result survives the console quitting: at a normal exit the console sends it SIGTERM
(an atexit hook: the child may have workers of its own, so it is not daemonic) and it
ends the run and logs it; if the console dies outright, the child notices its parent
is gone and does the same.
Messages on the queue: ("snapshot", dict), ("result", dict), ("error", str).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import multiprocessing as mp
import os
import queue
import signal
import sys
import time

from console.loadgen.options import Spec

MIN_INTERVAL = 0.1  # at most 10 snapshots a second


def _child(spec: Spec, resolver, q, stop_event, interval: float, parent: int, log: bool,
           path: dict | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the console
    from console.errors import UsageError
    from console.loadgen import pool, runlog
    from console.loadgen.engine import run_sync
    from console.loadgen.resolve import ClusterResolver

    engine = pool.make(spec, resolver or ClusterResolver(), live=True)
    try:
        engine.prepare()
    except UsageError as exc:
        q.put(("error", str(exc)))
        return

    run_log = None
    if log:
        try:
            run_log = runlog.RunLog(spec, source="worker", route=path)
        except OSError:
            pass  # the run goes on; the console still gets the result
    orphaned = terminated = False

    def on_term() -> None:
        nonlocal terminated
        terminated = True
        engine.stop()

    async def drive() -> None:
        nonlocal orphaned
        # the console's exit hook terminates this process: end the run properly then,
        # so its result still reaches the run log
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, on_term)
        task = asyncio.create_task(engine.run())
        follow = asyncio.create_task(run_log.follow(engine.seconds)) if run_log else None
        while not task.done():
            await asyncio.wait([task], timeout=interval)
            if not task.done():
                q.put(("snapshot", engine.snapshot()))
            orphaned = os.getppid() != parent
            if stop_event.is_set() or orphaned:
                engine.stop()
        if follow:
            follow.cancel()
        await task
        loop = asyncio.get_running_loop()
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the result is written first

    try:
        run_sync(drive())
        result = engine.result()
    except Exception as exc:  # report, never die silently
        q.put(("error", f"load engine failed: {type(exc).__name__}: {exc}"))
        return
    if run_log:
        try:
            run_log.finish(result)
        except OSError:
            pass
    if orphaned or terminated:
        # the console is gone or going and may not read the queue again: exiting must
        # not wait for a full pipe (the run log has the result)
        q.cancel_join_thread()
    q.put(("result", result))


class _NoFileno:
    """Writes go to the stream it wraps; fileno() says there is none."""

    def __init__(self, stream):
        self._stream = stream

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def fileno(self) -> int:
        raise OSError("no file descriptor")


@contextlib.contextmanager
def _spawnable_stderr():
    """multiprocessing's resource tracker passes sys.stderr.fileno() to its child and
    skips it only when fileno() raises. Textual's stand-in returns -1 instead, which
    makes spawning fail ("bad value(s) in fds_to_keep"). For the moment of the spawn,
    such a stream is wrapped so that fileno() raises; what is written still goes to it,
    and the child keeps the process's own fd 2."""
    stream = sys.stderr
    try:
        usable = stream is not None and stream.fileno() >= 0
    except Exception:
        usable = True  # raising is what multiprocessing expects
    if usable:
        yield
        return
    wrapped = _NoFileno(stream)
    sys.stderr = wrapped
    try:
        yield
    finally:
        if sys.stderr is wrapped:  # someone else may have replaced it meanwhile
            sys.stderr = stream


class LoadWorker:
    def __init__(self, spec: Spec, resolver=None, interval: float = 0.25, log: bool | None = None,
                 path: dict | None = None):
        """`resolver` must be picklable (e.g. StaticResolver); None = the current cluster.

        `log`: append the run to the run log (default: the spec's, i.e. unless --no-log).
        `path`: how the targets are reached (console/cluster/route.py), for the run log.
        """
        self.path = path
        self.spec = spec
        self.resolver = resolver
        self.interval = max(MIN_INTERVAL, interval)
        self.log = spec.log if log is None else log
        self.error: str | None = None
        self._result: dict | None = None
        self._proc = None
        self._q = None
        self._stop = None

    @classmethod
    def from_line(cls, line: str, **kw) -> LoadWorker:
        """LoadWorker.from_line("-c20 -t40S http://order:8080/orders"); UsageError if bad."""
        from console.loadgen.options import parse_line

        return cls(parse_line(line), **kw)

    def start(self) -> LoadWorker:
        ctx = mp.get_context("spawn")
        with _spawnable_stderr():
            self._q = ctx.Queue()
            self._stop = ctx.Event()
            self._proc = ctx.Process(
                target=_child, name="kubelab-loadgen", daemon=False,
                args=(self.spec, self.resolver, self._q, self._stop, self.interval,
                      os.getpid(), self.log, self.path))
            self._proc.start()
        # runs before multiprocessing's own exit hook (registered earlier), which would
        # wait for a child that is not daemonic
        atexit.register(self._at_exit)
        return self

    def _at_exit(self) -> None:
        """The console exits: end the run (the child logs it), then wait a little."""
        p = self._proc
        if p is not None and p.is_alive():
            p.terminate()
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join(5)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return bool(self._proc and self._proc.is_alive() and self._result is None
                    and self.error is None)

    def _take(self, block: bool, timeout: float | None) -> list[dict]:
        snaps = []
        while True:
            try:
                kind, payload = self._q.get(block, timeout)
            except queue.Empty:
                return snaps
            block = False
            if kind == "snapshot":
                snaps.append(payload)
            elif kind == "result":
                self._result = payload
            else:
                self.error = payload

    def snapshots(self) -> list[dict]:
        """Every snapshot that arrived since the last call (oldest first); never blocks."""
        if self._q is None:
            return []
        return self._take(False, None)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()

    def result(self, timeout: float | None = None) -> dict | None:
        """Wait up to `timeout` seconds (None: until the run ends) for the final result."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._result is None and self.error is None and self._q is not None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            self._take(True, 0.5 if left is None else min(0.5, left))
            if self._result is None and self.error is None and not self._proc.is_alive():
                self._take(False, None)  # the last message may still be in the pipe
                if self._result is None and self.error is None:
                    self.error = f"load worker exited with code {self._proc.exitcode}"
        if self._result is not None and self._proc is not None:
            self._proc.join(5)
            if not self._proc.is_alive():
                atexit.unregister(self._at_exit)
        return self._result

    def kill(self) -> None:
        """Last resort: end the child now (its run is not logged; its workers notice
        and end too)."""
        if self._proc and self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        atexit.unregister(self._at_exit)

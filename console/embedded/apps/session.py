"""One `kubectl exec` into a running container, as the runtime runs it: a new
process in the container's namespaces with the stdio the client asked for.

Output goes to the `out`/`err` callables as it is written (bytes, in order);
stdin arrives with `feed()` and ends with `close_stdin()`; with a tty, both
streams are the terminal (tty.py), `resize()` changes its size and ^C typed
there interrupts the foreground job. `hangup()` is the client going away:
every process of the session gets SIGHUP, then SIGKILL.
"""

import asyncio

from console.embedded.apps.procs import HUP, INT, KILL
from console.embedded.apps.shell import IO
from console.embedded.apps.streams import Stdin
from console.embedded.apps.tty import Tty


class ExecSession:
    def __init__(self, app, argv: list[str], out, err, tty: bool = False, stdin: bool = False):
        self.app = app
        self.argv = list(argv)
        self.tty = Tty(out, name=app.procs.open_tty()) if tty else None
        if self.tty is not None:
            out = err = self.tty
        if not stdin:
            self.stdin = Stdin(b"")
        else:
            self.stdin = self.tty.input if self.tty is not None else Stdin(open_=True)
        self.shell = app.new_shell(session=self, tty_name=self.tty.name if self.tty else None)
        self.io = IO(out, err, self.stdin, self.tty)
        self.task: asyncio.Task | None = None

    def start_error(self) -> str | None:
        """Why the runtime cannot start the command (no such executable), or None."""
        return self.app.exec_error(self.argv)

    def start(self) -> None:
        if self.tty is not None:
            self.tty.on_interrupt = self.interrupt
        self.task = asyncio.ensure_future(self.shell.run_argv(self.argv, self.io))

    async def wait(self) -> int:
        try:
            return await self.task
        finally:
            self._close_tty()

    # -- from the client --------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if self.tty is not None:
            self.tty.feed(data)
            return
        try:
            self.stdin.feed(data)
        except BrokenPipeError:
            pass                      # the command stopped reading (head): drop the rest

    def close_stdin(self) -> None:
        if self.tty is not None:
            self.tty.hangup()
        else:
            self.stdin.close()

    def resize(self, cols: int, rows: int) -> None:
        if self.tty is not None:
            self.tty.resize(cols, rows)

    def interrupt(self) -> None:
        """^C in a terminal running a command directly (not a shell)."""
        self.app.procs.kill_session(self, INT)

    async def hangup(self, grace: float = 1.0) -> None:
        """The connection is gone: SIGHUP, and what is left is killed."""
        if self.task is None or self.task.done():
            self._close_tty()
            return
        if self.tty is not None:
            self.tty.hangup()
        self.stdin.close()
        self.app.procs.kill_session(self, HUP)
        done, _ = await asyncio.wait([self.task], timeout=grace)
        if not done:
            self.app.procs.kill_session(self, KILL)
            done, _ = await asyncio.wait([self.task], timeout=grace)
            if not done:
                self.task.cancel()
        self._close_tty()

    def _close_tty(self) -> None:
        if self.tty is not None:
            self.app.procs.close_tty(self.tty.name)

"""A container's processes: its PID namespace, as `ps` shows it and `kill` reaches it.

PID 1 is the container's own process (the app); commands started by `kubectl
exec` and by shells get the next PIDs. The kernel's rule for init holds: from
inside the namespace, PID 1 only receives the signals it has a handler for,
so `kill -9 1` does nothing and `kill 1` stops a JVM (it handles TERM) but not
a bare `sh` (it does not, unless the script traps TERM).
"""

import asyncio
import os

SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "PIPE": 13,
           "ALRM": 14, "TERM": 15, "CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "WINCH": 28}
NAMES = {n: s for s, n in SIGNALS.items()}
HUP, INT, QUIT, KILL, PIPE, TERM = 1, 2, 3, 9, 13, 15
IGNORED_BY_DEFAULT = {SIGNALS["CHLD"], SIGNALS["CONT"], SIGNALS["WINCH"]}


def parse_signal(text: str) -> int | None:
    """9, KILL, SIGKILL, kill -> 9; None if unknown."""
    text = text.upper().removeprefix("SIG")
    if text.isdigit():
        n = int(text)
        return n if 0 <= n <= 64 else None
    return SIGNALS.get(text)


class Proc:
    """One process: what `ps` shows, and how a signal reaches it.

    `handler(sig)` (set by the command) takes signals it handles itself, e.g.
    forwarding to a real child process; otherwise a signal whose default is to
    terminate cancels `task` and the command ends with 128+sig.
    """

    def __init__(self, table, pid: int, argv: list[str], ppid: int, session, tty: str | None):
        self.table, self.pid, self.argv, self.ppid = table, pid, list(argv), ppid
        self.session, self.tty = session, tty
        self.started = table.clock.elapsed() if table.clock else 0.0
        self.task: asyncio.Task | None = None
        self.handler = None
        self.os_pid: int | None = None       # a real child process behind it (siege)
        self.signalled: int | None = None    # the signal that ended it
        self.cpu = None                      # callable -> core-seconds, for TIME
        self.on_exit = None                  # callable(signal or None): its parent waits on it

    @property
    def cmdline(self) -> str:
        return " ".join(self.argv)

    def deliver(self, sig: int) -> None:
        if sig == 0:
            return
        if sig == KILL and self.os_pid is not None:
            os_kill(self.os_pid, KILL)       # at once: the loop may not run again
        if self.handler is not None and sig != KILL:
            self.handler(sig)
            return
        if sig in IGNORED_BY_DEFAULT or sig in (SIGNALS["STOP"], SIGNALS["TSTP"]):
            return
        self.signalled = sig
        if self.task is not None and not self.task.done():
            self.task.cancel()
        elif self.task is None:
            self.end()                       # a helper process (a worker) just dies

    def end(self) -> None:
        self.table.remove(self)
        if self.on_exit is not None:
            self.on_exit(self.signalled)


class ProcTable:
    """The processes of one container instance (a fresh table per restart)."""

    FIRST_EXEC_PID = 7        # runc's init and the shim take the few after 1

    def __init__(self, clock=None):
        self.clock = clock
        self.procs: dict[int, Proc] = {}
        self._next = self.FIRST_EXEC_PID
        self.init: Proc | None = None
        self.init_signal = None              # callable(sig) for PID 1: the app decides
        self.ttys: set[str] = set()

    def start_init(self, argv: list[str], deliver) -> Proc:
        """PID 1. `deliver(sig)` gets what is sent to it from inside, and ignores
        what the app has no handler for (the kernel's rule for init)."""
        p = Proc(self, 1, argv, 0, None, None)
        self.procs[1] = p
        self.init, self.init_signal = p, deliver
        return p

    def spawn(self, argv: list[str], ppid: int = 0, session=None, tty: str | None = None) -> Proc:
        pid = self._next
        self._next += 1
        p = Proc(self, pid, argv, ppid, session, tty)
        self.procs[pid] = p
        return p

    def remove(self, p: Proc) -> None:
        if self.procs.get(p.pid) is p:
            del self.procs[p.pid]

    def get(self, pid: int) -> Proc | None:
        return self.procs.get(pid)

    def kill(self, pid: int, sig: int) -> bool:
        """A signal sent from inside the container; False: no such process."""
        p = self.procs.get(pid)
        if p is None:
            return False
        if pid == 1:
            if self.init_signal is not None and sig not in (0, KILL, SIGNALS["STOP"]):
                self.init_signal(sig)
            return True
        p.deliver(sig)
        return True

    def kill_session(self, session, sig: int = KILL) -> None:
        for p in list(self.procs.values()):
            if p.session is session and p.pid != 1:
                p.deliver(sig)

    def kill_all(self) -> None:
        """The container's init ended: the kernel kills the rest of the namespace."""
        for p in list(self.procs.values()):
            if p.pid != 1:
                p.deliver(KILL)

    def open_tty(self) -> str:
        """A pseudo-terminal for an exec session: the lowest free of pts/0, pts/1, ..."""
        n = 0
        while f"pts/{n}" in self.ttys:
            n += 1
        self.ttys.add(f"pts/{n}")
        return f"pts/{n}"

    def close_tty(self, name: str) -> None:
        self.ttys.discard(name)


def os_kill(pid: int, sig: int) -> None:
    """Send a signal to a real child process (the siege engine), if it is still there."""
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass

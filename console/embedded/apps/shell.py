"""A small shell over a container's in-memory file system.

It runs lab scripts for real (`touch /tmp/healthy; sleep 30; rm -rf /tmp/healthy`)
with `sleep` on the cluster's simulated clock, and answers exec probes with the
output and exit status busybox (or Debian's coreutils) would give.

Commands that are not shell builtins run as processes of the container (they
show in `ps`, `kill` reaches them, ^C interrupts them); the stages of a pipe
run at the same time, each reading what the one before writes, and a stage
writing to a reader that has gone ends with SIGPIPE (141), as in sh.
"""

import asyncio
import re
import time

from console.embedded.apps import shparse
from console.embedded.apps.fs import MESSAGES, FileSystem, FsError
from console.embedded.apps.procs import INT, PIPE
from console.embedded.apps.streams import Capture, Stdin, stdin_of

BUSYBOX, GNU = "busybox", "gnu"
SHELLS = {"sh", "ash", "bash", "dash"}
# run inside the shell itself: no process of their own; the first group has no binary at all
SHELL_ONLY = {"cd", "export", "unset", "exit", "set", "trap", "wait", "exec", "source", ".",
              "read", "alias", "shift", "return", "break", "continue", "ulimit", "umask"}
BUILTINS = SHELL_ONLY | {"true", "false", ":", "echo", "printf", "test", "[", "[[", "kill", "pwd"}
BIN_DIRS = ("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/local/bin/")
# installed only in some images (App.tools says which)
OPTIONAL = {"siege", "http", "https"}


class ShellExit(Exception):
    def __init__(self, code: int):
        self.code = code


class Interrupted(Exception):
    """^C ended the command line being run (the shell goes on)."""


class IO:
    """A command's stdio: sinks taking str or bytes, a Stdin, and the terminal
    when stdout is one (None otherwise: what isatty(1) answers)."""

    def __init__(self, out, err, stdin=None, tty=None):
        self.out, self.err = out, err
        self.stdin = stdin_of(stdin)
        self.tty = tty
        self.proc = None         # the process running the command, when it has one


class Shell:
    def __init__(self, fs: FileSystem, sleep, env: dict | None = None,
                 flavor: str = BUSYBOX, hostname: str = "localhost",
                 procs=None, session=None, tty_name: str | None = None):
        self.fs = fs
        self.sleep_fn = sleep          # async sim-time sleep
        self.env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOME": "/root", "HOSTNAME": hostname, **(env or {})}
        self.flavor = flavor
        self.hostname = hostname
        self.cwd = "/"
        self.net = None          # the pod's network (curl, wget, http, siege), set by the app
        self.app = None          # the container's app (ps, kill, siege), set by the app
        self.procs = procs       # the container's ProcTable (None: commands run inline)
        self.session = session   # the exec session the shell belongs to
        self.tty_name = tty_name
        self.pid: int | None = None     # the shell's own process (1 for a container's sh)
        self.status = 0
        self.interrupted = False
        self._spins = 0
        self._bg: list[asyncio.Task] = []
        self._line: asyncio.Task | None = None     # the line an interactive shell runs
        self.traps: set[str] = set()     # signals the script traps ("TERM", "INT")

    # -- entry points ----------------------------------------------------------
    def parse(self, script: str):
        return shparse.parse(script)

    async def run_script(self, script: str, io: IO) -> int:
        try:
            tree = shparse.parse(script)
        except shparse.ShellSyntaxError as exc:
            io.err(f"sh: {exc}\n")
            return 2
        try:
            return await self.run(tree, io)
        except ShellExit as exc:
            return exc.code

    async def run_argv(self, argv: list[str], io: IO, fork: bool = True) -> int:
        """A command as exec(2) starts it (no shell parsing). fork=False: this
        shell is the process itself (a container's PID 1)."""
        try:
            return await self.call(argv, io, fork=fork, direct=True)
        except ShellExit as exc:
            return exc.code
        except Interrupted:
            return 128 + INT

    def not_found(self, name: str) -> str:
        return f"sh: {name}: not found\n" if self.flavor == BUSYBOX else f"sh: 1: {name}: not found\n"

    def interrupt(self) -> None:
        """^C at an interactive shell: SIGINT to the job in the foreground; a line
        of builtins only (a busy `while` loop) is abandoned."""
        self.interrupted = True
        handled = False
        if self.procs is not None:
            for p in list(self.procs.procs.values()):
                if p.session is self.session and p.pid not in (1, self.pid):
                    handled |= p.handler is not None
                    p.deliver(INT)
        if not handled and self._line is not None and not self._line.done():
            self._line.cancel()

    def _check(self) -> None:
        if self.interrupted:
            raise Interrupted

    # -- tree walking ------------------------------------------------------------
    async def run(self, node, io: IO) -> int:
        kind = node[0]
        if kind == "seq":
            for child, bg in node[1]:
                self._check()
                if bg:
                    self._bg.append(asyncio.ensure_future(self.run(child, io)))
                    self.status = 0
                else:
                    self.status = await self.run(child, io)
            return self.status
        if kind == "andor":
            status = await self.run(node[1], io)
            for op, child in node[2]:
                self._check()
                if (op == "&&") == (status == 0):
                    status = await self.run(child, io)
            self.status = status
            return status
        if kind == "pipe":
            cmds = node[1]
            if len(cmds) == 1:
                status = await self.run(cmds[0], io)
            else:
                status = await self._pipeline(cmds, io)
            return (1 if status == 0 else 0) if node[2] else status
        if kind == "simple":
            return await self.simple(node, io)
        if kind == "while":
            status = 0
            while True:
                cond = await self.run(node[1], io)
                if (cond == 0) == node[3]:
                    return status
                status = await self.run(node[2], io)
                await self._breathe()
        if kind == "if":
            for cond, body in node[1]:
                if await self.run(cond, io) == 0:
                    return await self.run(body, io)
            return await self.run(node[2], io) if node[2] else 0
        if kind == "for":
            words = await self.expand_words(node[2], io) if node[2] is not None else []
            status = 0
            for w in words:
                self.env[node[1]] = w
                status = await self.run(node[3], io)
                await self._breathe()
            return status
        if kind in ("group", "subshell"):
            return await self.run(node[1], io)
        raise ValueError(kind)

    async def _pipeline(self, cmds, io: IO) -> int:
        pipes = [Stdin(open_=True) for _ in cmds[:-1]]

        async def stage(i, cmd):
            reads = io.stdin if i == 0 else pipes[i - 1]
            writes = pipes[i] if i < len(pipes) else io.out
            tty = io.tty if i == len(pipes) else None
            try:
                return await self.run(cmd, IO(writes, io.err, reads, tty))
            except BrokenPipeError:
                return 128 + PIPE
            finally:
                if i < len(pipes):
                    pipes[i].close()
                if i > 0:
                    pipes[i - 1].done_reading()
        results = await asyncio.gather(*(stage(i, c) for i, c in enumerate(cmds)))
        return results[-1]

    async def _breathe(self):
        """A loop that never sleeps must not starve the cluster's event loop."""
        self._check()
        self._spins += 1
        await asyncio.sleep(0.01 if self._spins % 50 == 0 else 0)

    async def simple(self, node, io: IO) -> int:
        _, assigns, words, redirs = node
        argv = await self.expand_words(words, io)
        for name, word in assigns:
            value = " ".join(await self.expand_words([word], io, split=False))
            if argv:
                pass  # prefix assignment: visible to the command only; builtins ignore it
            else:
                self.env[name] = value
        out, err, stdin, tty = io.out, io.err, io.stdin, io.tty
        pending: list[tuple[str, bool, Capture]] = []
        for op, target in redirs:
            if op == "2>&1":
                err = out
            elif op in (">&2", "1>&2"):
                out = err
                tty = None
            else:
                path = self.fs.norm((await self.expand_words([target], io))[0], self.cwd)
                if op == "<":
                    try:
                        stdin = Stdin(self.fs.read(path))
                    except FsError as exc:
                        io.err(f"sh: can't open '{path}': {MESSAGES[exc.kind]}\n")
                        return 1
                    continue
                buf = Capture()
                append = op in (">>", "2>>")
                try:
                    self.fs.write(path, b"", append=True)
                except FsError as exc:
                    io.err(f"sh: can't create {path}: {MESSAGES[exc.kind]}\n")
                    return 1
                pending.append((path, append, buf))
                if op.startswith("2"):
                    err = buf
                else:
                    out = buf
                    tty = None
        try:
            status = 0 if not argv else await self.call(argv, IO(out, err, stdin, tty))
        finally:
            for path, append, buf in pending:
                self.fs.write(path, buf.data(), append=append)
        self.status = status
        return status

    # -- expansion -----------------------------------------------------------------
    _VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*)|([?$#0-9]))")

    def _vars(self, text: str) -> str:
        def sub(m):
            name = m.group(1) or m.group(2) or m.group(3)
            if name == "?":
                return str(self.status)
            if name == "$":
                return str(self.pid or 1)
            if name == "#":
                return "0"
            return self.env.get(name, "")
        return self._VAR.sub(sub, text).replace("\\$", "$")

    async def expand_words(self, words, io: IO, split: bool = True) -> list[str]:
        out: list[str] = []
        for _, parts in words:
            fields: list[str] = [""]
            quoted = False
            for kind, text in parts:
                if kind == "lit":
                    fields[-1] += text
                    quoted = True
                elif kind == "dq":
                    fields[-1] += self._vars(text)
                    quoted = True
                elif kind == "arith":
                    fields[-1] += str(self._arith(self._vars(text)))
                else:
                    value = self._vars(text) if kind == "raw" else await self._capture(text, io)
                    if split and kind == "cmd" or (split and "$" in text and kind == "raw"):
                        pieces = value.split()
                        if not pieces:
                            continue
                        fields[-1] += pieces[0]
                        fields.extend(pieces[1:])
                    else:
                        fields[-1] += value
            out.extend(f for f in fields if f or quoted)
        return out

    async def _capture(self, script: str, io: IO) -> str:
        buf = Capture()
        await self.run_script(script, IO(buf, io.err))
        return buf.text().rstrip("\n")

    def _arith(self, expr: str) -> int:
        expr = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: self.env.get(m.group(0), "0") or "0", expr)
        if not re.fullmatch(r"[0-9+\-*/%() <>=!&|]*", expr):
            raise ShellExit(2)
        try:
            return int(eval(expr.replace("/", "//").replace("&&", " and ").replace("||", " or ")
                            .replace("!", " not ").replace(" not =", "!="), {"__builtins__": {}}))
        except Exception:
            return 0

    # -- commands --------------------------------------------------------------------
    def command(self, name: str):
        """The function behind a command name or path, or None (not in $PATH)."""
        from console.embedded.apps import builtins  # the commands, one function each

        base = name.rsplit("/", 1)[-1] if "/" in name else name
        if "/" in name and not name.startswith(BIN_DIRS):
            return None
        if base in SHELLS:
            return _sh if self.has_shell(base) else None
        if base in OPTIONAL and base not in getattr(self.app, "tools", ()):
            return None
        return builtins.COMMANDS.get(base)

    def has_shell(self, name: str) -> bool:
        return self.flavor == GNU or name in ("sh", "ash")

    async def call(self, argv: list[str], io: IO, fork: bool = True, direct: bool = False) -> int:
        name = argv[0]
        fn = self.command(name)
        if fn is None:
            if name.startswith("/") or name.startswith("./"):
                io.err(f"sh: {name}: not found\n")
            else:
                io.err(self.not_found(name))
            return 127
        base = name.rsplit("/", 1)[-1]
        if not fork or self.procs is None or (base in BUILTINS and not direct):
            return await fn(self, argv, io)
        proc = self.procs.spawn(argv, ppid=self.pid or 0, session=self.session,
                                tty=self.tty_name)
        io.proc = proc
        if fn is _sh and self.pid is None:
            self.pid = proc.pid              # an exec'd shell: $$ and its job control
        task = asyncio.ensure_future(fn(self, argv, io))
        proc.task = task
        try:
            return await task
        except asyncio.CancelledError:
            if proc.signalled is None or asyncio.current_task().cancelling():
                raise
            return 128 + proc.signalled
        finally:
            proc.end()

    async def sleep(self, seconds: float) -> None:
        self._spins = 0
        await self.sleep_fn(seconds)

    def now(self) -> float:
        return time.time()


async def _sh(sh: Shell, argv, io: IO) -> int:
    if len(argv) >= 3 and argv[1] == "-c":
        return await sh.run_script(argv[2], io)
    if len(argv) >= 2 and not argv[1].startswith("-"):
        path = sh.fs.norm(argv[1], sh.cwd)
        try:
            script = sh.fs.read(path).decode()
        except FsError as exc:
            io.err(f"sh: can't open '{argv[1]}': {MESSAGES[exc.kind]}\n")
            return 127 if sh.flavor == BUSYBOX else 2
        return await sh.run_script(script, io)
    from console.embedded.apps import interactive   # commands read from stdin
    return await interactive.read_commands(sh, argv, io)

"""A small shell over a container's in-memory file system.

It runs lab scripts for real (`touch /tmp/healthy; sleep 30; rm -rf /tmp/healthy`)
with `sleep` on the cluster's simulated clock, and answers exec probes with the
output and exit status busybox (or Debian's coreutils) would give.
"""

import asyncio
import re
import time

from console.embedded.apps import shparse
from console.embedded.apps.fs import MESSAGES, FileSystem, FsError

BUSYBOX, GNU = "busybox", "gnu"


class ShellExit(Exception):
    def __init__(self, code: int):
        self.code = code


class IO:
    def __init__(self, out, err, stdin: str = ""):
        self.out, self.err, self.stdin = out, err, stdin


class Shell:
    def __init__(self, fs: FileSystem, sleep, env: dict | None = None,
                 flavor: str = BUSYBOX, hostname: str = "localhost"):
        self.fs = fs
        self.sleep_fn = sleep          # async sim-time sleep
        self.env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOME": "/root", "HOSTNAME": hostname, **(env or {})}
        self.flavor = flavor
        self.hostname = hostname
        self.cwd = "/"
        self.net = None          # the pod's network (curl, wget), set by the app
        self.status = 0
        self._spins = 0
        self._bg: list[asyncio.Task] = []
        self.traps: set[str] = set()     # signals the script traps ("TERM", "INT")

    # -- entry points ----------------------------------------------------------
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

    async def run_argv(self, argv: list[str], io: IO) -> int:
        try:
            return await self.call(argv, io)
        except ShellExit as exc:
            return exc.code

    def not_found(self, name: str) -> str:
        return f"sh: {name}: not found\n" if self.flavor == BUSYBOX else f"sh: 1: {name}: not found\n"

    # -- tree walking ------------------------------------------------------------
    async def run(self, node, io: IO) -> int:
        kind = node[0]
        if kind == "seq":
            for child, bg in node[1]:
                if bg:
                    self._bg.append(asyncio.ensure_future(self.run(child, io)))
                    self.status = 0
                else:
                    self.status = await self.run(child, io)
            return self.status
        if kind == "andor":
            status = await self.run(node[1], io)
            for op, child in node[2]:
                if (op == "&&") == (status == 0):
                    status = await self.run(child, io)
            self.status = status
            return status
        if kind == "pipe":
            stdin = io.stdin
            for cmd in node[1][:-1]:
                buf: list[str] = []
                await self.run(cmd, IO(buf.append, io.err, stdin))
                stdin = "".join(buf)
            status = await self.run(node[1][-1], IO(io.out, io.err, stdin))
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

    async def _breathe(self):
        """A loop that never sleeps must not starve the cluster's event loop."""
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
        out, err, stdin = io.out, io.err, io.stdin
        pending: list[tuple[str, bool, list[str]]] = []
        for op, target in redirs:
            if op == "2>&1":
                err = out
            elif op in (">&2", "1>&2"):
                out = err
            else:
                path = self.fs.norm((await self.expand_words([target], io))[0], self.cwd)
                if op == "<":
                    try:
                        stdin = self.fs.read(path).decode()
                    except FsError as exc:
                        io.err(f"sh: can't open '{path}': {MESSAGES[exc.kind]}\n")
                        return 1
                    continue
                buf: list[str] = []
                append = op in (">>", "2>>")
                try:
                    self.fs.write(path, b"", append=True)
                except FsError as exc:
                    io.err(f"sh: can't create {path}: {MESSAGES[exc.kind]}\n")
                    return 1
                pending.append((path, append, buf))
                if op.startswith("2"):
                    err = buf.append
                else:
                    out = buf.append
        if not argv:
            status = 0
        else:
            status = await self.call(argv, IO(out, err, stdin))
        for path, append, buf in pending:
            self.fs.write(path, "".join(buf).encode(), append=append)
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
                return "1"
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
        buf: list[str] = []
        await self.run_script(script, IO(buf.append, io.err))
        return "".join(buf).rstrip("\n")

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
    async def call(self, argv: list[str], io: IO) -> int:
        from console.embedded.apps import builtins  # the commands, one function each

        name = argv[0]
        base = name.rsplit("/", 1)[-1] if name.startswith("/") else name
        if base in ("sh", "ash", "bash", "dash"):
            return await self._sh(argv, io)
        fn = builtins.COMMANDS.get(base)
        if fn is None or (name.startswith("/") and not name.startswith(("/bin/", "/usr/bin/",
                                                                          "/sbin/", "/usr/sbin/"))):
            if name.startswith("/") or name.startswith("./"):
                io.err(f"sh: {name}: not found\n")
            else:
                io.err(self.not_found(name))
            return 127
        return await fn(self, argv, io)

    async def _sh(self, argv, io: IO) -> int:
        if len(argv) >= 3 and argv[1] == "-c":
            return await self.run_script(argv[2], io)
        if len(argv) >= 2 and not argv[1].startswith("-"):
            path = self.fs.norm(argv[1], self.cwd)
            try:
                script = self.fs.read(path).decode()
            except FsError as exc:
                io.err(f"sh: can't open '{argv[1]}': {MESSAGES[exc.kind]}\n")
                return 127 if self.flavor == BUSYBOX else 2
            return await self.run_script(script, io)
        return 0  # an interactive shell with no terminal reads EOF and exits

    async def sleep(self, seconds: float) -> None:
        self._spins = 0
        await self.sleep_fn(seconds)

    def now(self) -> float:
        return time.time()

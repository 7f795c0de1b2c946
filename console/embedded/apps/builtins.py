"""The commands the small shell knows, worded as busybox (or GNU) words them.
Each is `async def cmd(shell, argv, io) -> exit status`."""

import importlib
import time

from console.embedded.apps.fs import MESSAGES, FsError
from console.embedded.apps.streams import pump

COMMANDS = {}


def command(*names):
    def register(fn):
        for n in names:
            COMMANDS[n] = fn
        return fn
    return register


def _gnu(sh) -> bool:
    return sh.flavor == "gnu"


def _opts(argv, letters="") -> tuple[set[str], list[str]]:
    flags, rest = set(), []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1 and not rest and all(c in letters for c in a[1:]):
            flags.update(a[1:])
        else:
            rest.append(a)
    return flags, rest


@command("true", ":")
async def _true(sh, argv, io):
    return 0


@command("false")
async def _false(sh, argv, io):
    return 1


@command("echo")
async def _echo(sh, argv, io):
    args, newline = argv[1:], True
    while args and args[0] in ("-n", "-e", "-ne", "-en"):
        newline = newline and "n" not in args[0]
        args = args[1:]
    text = " ".join(args).replace("\\n", "\n").replace("\\t", "\t")
    io.out(text + ("\n" if newline else ""))
    return 0


@command("printf")
async def _printf(sh, argv, io):
    if len(argv) < 2:
        io.err("printf: usage: printf FORMAT [ARGUMENT...]\n")
        return 1
    fmt = argv[1].replace("\\n", "\n").replace("\\t", "\t")
    args = iter(argv[2:])
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            spec = fmt[i + 1]
            if spec == "%":
                out.append("%")
            else:
                value = next(args, "")
                out.append(str(int(value or 0)) if spec == "d" else value)
            i += 2
        else:
            out.append(fmt[i])
            i += 1
    io.out("".join(out))
    return 0


def duration(text: str) -> float | None:
    if text == "infinity":
        return float("inf")
    mult = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    unit = text[-1] if text and text[-1] in mult else "s"
    num = text[:-1] if text and text[-1] in mult else text
    try:
        return float(num) * mult[unit]
    except ValueError:
        return None


@command("sleep")
async def _sleep(sh, argv, io):
    if len(argv) < 2:
        io.err("sleep: missing operand\n" if _gnu(sh) else "BusyBox v1.36.1 multi-call binary.\n\nUsage: sleep [N]...\n")
        return 1
    total = 0.0
    for a in argv[1:]:
        d = duration(a)
        if d is None:
            io.err(f"sleep: invalid time interval '{a}'\n" if _gnu(sh) else f"sleep: invalid number '{a}'\n")
            return 1
        total += d
    while total > 0:          # an "infinity" sleep still wakes now and then
        step = min(total, 86400.0)
        await sh.sleep(step)
        total -= step
    return 0


@command("touch")
async def _touch(sh, argv, io):
    _, paths = _opts(argv, "acm")
    status = 0
    for p in paths:
        try:
            sh.fs.touch(sh.fs.norm(p, sh.cwd))
        except FsError as exc:
            io.err(f"touch: cannot touch '{p}': {MESSAGES[exc.kind]}\n" if _gnu(sh)
                   else f"touch: {p}: {MESSAGES[exc.kind]}\n")
            status = 1
    return status


@command("rm")
async def _rm(sh, argv, io):
    flags, paths = _opts(argv, "rfRiv")
    status = 0
    for p in paths:
        path = sh.fs.norm(p, sh.cwd)
        try:
            sh.fs.remove(path, recursive=bool(flags & {"r", "R"}))
        except FsError as exc:
            if exc.kind == "ENOENT" and "f" in flags:
                continue
            reason = MESSAGES[exc.kind]
            io.err(f"rm: cannot remove '{p}': {reason}\n" if _gnu(sh)
                   else f"rm: can't remove '{p}': {reason}\n")
            status = 1
    return status


@command("mkdir")
async def _mkdir(sh, argv, io):
    flags, paths = _opts(argv, "p")
    status = 0
    for p in paths:
        try:
            sh.fs.mkdir(sh.fs.norm(p, sh.cwd), parents="p" in flags)
        except FsError as exc:
            io.err(f"mkdir: cannot create directory '{p}': {MESSAGES[exc.kind]}\n" if _gnu(sh)
                   else f"mkdir: can't create directory '{p}': {MESSAGES[exc.kind]}\n")
            status = 1
    return status


@command("cat")
async def _cat(sh, argv, io):
    _, paths = _opts(argv, "nuvetA")
    if not paths or paths == ["-"]:
        await pump(io.stdin, io.out)
        return 0
    status = 0
    for p in paths:
        try:
            io.out(sh.fs.read(sh.fs.norm(p, sh.cwd)))
        except FsError as exc:
            reason = MESSAGES[exc.kind]
            if _gnu(sh):
                io.err(f"cat: {p}: {reason}\n")
            elif exc.kind == "EISDIR":
                io.err(f"cat: read error: {reason}\n")
            else:
                io.err(f"cat: can't open '{p}': {reason}\n")
            status = 1
    return status


@command("ls")
async def _ls(sh, argv, io):
    flags, paths = _opts(argv, "laA1h")
    status = 0
    for p in paths or ["."]:
        try:
            names = sh.fs.listdir(sh.fs.norm(p, sh.cwd))
        except FsError as exc:
            io.err(f"ls: cannot access '{p}': {MESSAGES[exc.kind]}\n" if _gnu(sh)
                   else f"ls: {p}: {MESSAGES[exc.kind]}\n")
            status = 2 if _gnu(sh) else 1
            continue
        if names:
            io.out("\n".join(names) + "\n")
    return status


def _test(args: list[str], sh) -> bool:
    if not args:
        return False
    if args[0] == "!":
        return not _test(args[1:], sh)
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        op, a = args
        path = sh.fs.norm(a, sh.cwd)
        return {"-n": lambda: a != "", "-z": lambda: a == "",
                "-e": lambda: sh.fs.exists(path), "-f": lambda: path in sh.fs.files,
                "-d": lambda: sh.fs.is_dir(path), "-s": lambda: bool(sh.fs.files.get(path)),
                "-r": lambda: sh.fs.exists(path), "-w": lambda: sh.fs.exists(path),
                "-x": lambda: sh.fs.exists(path)}.get(op, lambda: False)()
    a, op, b = args[0], args[1], args[2]
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    try:
        x, y = int(a), int(b)
    except ValueError:
        raise ValueError(f"{a if not a.lstrip('-').isdigit() else b}: bad number")
    return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y,
            "-gt": x > y, "-ge": x >= y}.get(op, False)


@command("test", "[", "[[")
async def _testcmd(sh, argv, io):
    args = argv[1:]
    if argv[0] in ("[", "[["):
        if not args or args[-1] not in ("]", "]]"):
            io.err(f"sh: missing {']' if argv[0] == '[' else ']]'}\n")
            return 2
        args = args[:-1]
    try:
        return 0 if _test(args, sh) else 1
    except ValueError as exc:
        io.err(f"sh: {exc}\n")
        return 2


@command("exit")
async def _exit(sh, argv, io):
    from console.embedded.apps.shell import ShellExit
    try:
        code = int(argv[1]) if len(argv) > 1 else sh.status
    except ValueError:
        io.err(f"sh: exit: Illegal number: {argv[1]}\n")
        code = 2
    raise ShellExit(code & 0xFF)


@command("date")
async def _date(sh, argv, io):
    io.out(time.strftime("%a %b %e %H:%M:%S UTC %Y", time.gmtime()) + "\n")
    return 0


@command("hostname")
async def _hostname(sh, argv, io):
    io.out(sh.hostname + "\n")
    return 0


@command("env", "printenv")
async def _env(sh, argv, io):
    if argv[0] == "printenv" and len(argv) > 1:
        if argv[1] not in sh.env:
            return 1
        io.out(sh.env[argv[1]] + "\n")
        return 0
    io.out("".join(f"{k}={v}\n" for k, v in sh.env.items()))
    return 0


@command("export")
async def _export(sh, argv, io):
    for a in argv[1:]:
        if "=" in a:
            k, v = a.split("=", 1)
            sh.env[k] = v
    return 0


@command("unset")
async def _unset(sh, argv, io):
    for a in argv[1:]:
        sh.env.pop(a, None)
    return 0


@command("pwd")
async def _pwd(sh, argv, io):
    io.out(sh.cwd + "\n")
    return 0


@command("cd")
async def _cd(sh, argv, io):
    path = sh.fs.norm(argv[1] if len(argv) > 1 else sh.env.get("HOME", "/"), sh.cwd)
    if not sh.fs.is_dir(path):
        io.err(f"sh: cd: can't cd to {argv[1]}: No such file or directory\n")
        return 2
    sh.cwd = path
    return 0


@command("set", "ulimit", "umask", "sync")
async def _ignored(sh, argv, io):
    return 0


@command("trap")
async def _trap(sh, argv, io):
    """Only which signals are trapped matters here: a trapped TERM ends the
    container at SIGTERM instead of waiting for the SIGKILL."""
    if len(argv) >= 3:
        for sig in argv[2:]:
            name = sig.upper().removeprefix("SIG")
            if argv[1] == "-":
                sh.traps.discard(name)
            else:
                sh.traps.add({"15": "TERM", "2": "INT"}.get(name, name))
    return 0


@command("wait")
async def _wait(sh, argv, io):
    jobs, sh._bg = sh._bg, []
    status = 0
    for job in jobs:
        try:
            status = await job
        except Exception:
            status = 1
    return status


@command("exec")
async def _exec(sh, argv, io):
    from console.embedded.apps.shell import ShellExit
    if len(argv) < 2:
        return 0
    raise ShellExit(await sh.call(argv[1:], io))


@command("read")
async def _read(sh, argv, io):
    """read [-r] NAME...: one line of stdin into variables; 1 at end of input."""
    names = [a for a in argv[1:] if not a.startswith("-")] or ["REPLY"]
    raw = await io.stdin.readline()
    if not raw:
        return 1
    fields = raw.decode(errors="replace").rstrip("\n").split(None, len(names) - 1)
    for i, name in enumerate(names):
        sh.env[name] = fields[i] if i < len(fields) else ""
    return 0


@command("nc", "ping", "nslookup")
async def _network(sh, argv, io):
    # raw sockets and DNS tools are not simulated; fail the way a missing route does
    target = argv[-1] if len(argv) > 1 else ""
    io.err(f"{argv[0]}: bad address '{target}'\n")
    return 1


# more commands, registered on import (at the end: they use @command from here)
for _module in ("console.embedded.apps.netcmds", "console.embedded.apps.textcmds",
                "console.embedded.apps.proccmds", "console.embedded.apps.datacmds",
                "console.embedded.apps.httpie", "console.embedded.apps.siegecmd",
                "console.embedded.apps.pkgcmds"):
    importlib.import_module(_module)

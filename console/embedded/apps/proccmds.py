"""ps and kill: the container's processes as procps (Debian) or busybox show
them, and signals sent to them from inside (procs.py has the kernel's rules);
stty, tty and tput: the terminal an exec session runs in."""

from console.embedded.apps.builtins import command
from console.embedded.apps.procs import NAMES, TERM, parse_signal


def _cpu_time(p) -> float:
    return p.cpu() if p.cpu is not None else 0.0


def _mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}"


def _hhmmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _stat(p, me) -> str:
    """procps's STAT: R running (ps itself), S sleeping; s a session leader,
    l multi-threaded, + in the terminal's foreground."""
    leader = p.pid == 1 or p.ppid == 0
    state = ("R" if p is me else "S") + ("s" if leader else "")
    if p.pid == 1 and p.argv and p.argv[0].endswith("java"):
        state += "l"
    shell = p.argv and p.argv[0].rsplit("/", 1)[-1] in ("bash", "sh", "ash", "dash")
    if p.tty and not (leader and shell):
        state += "+"
    return state


@command("ps")
async def _ps(sh, argv, io):
    table = sh.procs
    procs = sorted(table.procs.values(), key=lambda p: p.pid) if table is not None else []
    me = io.proc
    args = "".join(a.lstrip("-") for a in argv[1:])
    if sh.flavor == "busybox":
        io.out("PID   USER     TIME  COMMAND\n")
        for p in procs:
            io.out(f"{p.pid:>5} root     {_mmss(_cpu_time(p)):>5} {p.cmdline}\n")
        return 0
    if argv[1:] and ("e" in argv[1] and argv[1].startswith("-")):
        io.out("UID          PID    PPID  C STIME TTY          TIME CMD\n")
        for p in procs:
            io.out(f"root     {p.pid:>7} {p.ppid:>7}  0 00:00 {p.tty or '?':<8} "
                   f"{_hhmmss(_cpu_time(p))} {p.cmdline}\n")
        return 0
    if "u" in args:
        io.out("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n")
        for p in procs:
            rss = int(sh.app.memory_mb * 1024) if p.pid == 1 and sh.app is not None else 3400
            io.out(f"root     {p.pid:>7}  0.0  0.0 {rss * 2:>6} {rss:>5} {p.tty or '?':<8} "
                   f"{_stat(p, me):<4} 00:00 {_mmss(_cpu_time(p)):>6} {p.cmdline}\n")
        return 0
    if "a" in args or "x" in args:
        io.out(f"{'PID':>7} {'TTY':<8} {'STAT':<4} {'TIME':>6} COMMAND\n")
        for p in procs:
            if "x" not in args and not p.tty:
                continue
            io.out(f"{p.pid:>7} {p.tty or '?':<8} {_stat(p, me):<4} "
                   f"{_mmss(_cpu_time(p)):>6} {p.cmdline}\n")
        return 0
    mine = [p for p in procs if me is not None and p.session is me.session and p.pid != 1]
    io.out(f"{'PID':>7} {'TTY':<8} {'TIME':>8} CMD\n")
    for p in mine:
        io.out(f"{p.pid:>7} {p.tty or '?':<8} {_hhmmss(_cpu_time(p))} "
               f"{p.argv[0].rsplit('/', 1)[-1]}\n")
    return 0


def _kill_usage(sh) -> str:
    if sh.flavor == "busybox":
        return "kill: usage: kill [-s SIGNAL | -SIGNAL] PID...\n"
    return "bash: kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n"


@command("kill")
async def _kill(sh, argv, io):
    args = list(argv[1:])
    gnu = sh.flavor != "busybox"
    if args and args[0] == "-l":
        io.out(" ".join(f"{n}) SIG{name}" for n, name in sorted(NAMES.items())) + "\n"
               if gnu else " ".join(name for _, name in sorted(NAMES.items())) + "\n")
        return 0
    sig = TERM
    if args and args[0] in ("-s", "-n") and len(args) > 1:
        sig, args = parse_signal(args[1]), args[2:]
    elif args and args[0].startswith("-") and args[0] != "--":
        sig, args = parse_signal(args[0][1:]), args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if sig is None:
        io.err(f"bash: kill: {argv[1]}: invalid signal specification\n" if gnu
               else f"kill: bad signal name '{argv[1].lstrip('-')}'\n")
        return 1
    if not args:
        io.err(_kill_usage(sh))
        return 2 if gnu else 1
    status = 0
    for a in args:
        if not a.lstrip("-").isdigit():
            io.err(f"bash: kill: {a}: arguments must be process or job IDs\n" if gnu
                   else f"kill: invalid number '{a}'\n")
            status = 1
            continue
        pid = int(a)
        if sh.procs is None or not sh.procs.kill(pid, sig):
            io.err(f"bash: kill: ({pid}) - No such process\n" if gnu
                   else f"kill: can't kill pid {pid}: No such process\n")
            status = 1
    return status



@command("tty")
async def _tty(sh, argv, io):
    if io.tty is None:
        io.out("not a tty\n")
        return 1
    io.out(f"/dev/{io.tty.name}\n")
    return 0


@command("stty")
async def _stty(sh, argv, io):
    if io.tty is None:
        io.err("stty: 'standard input': Inappropriate ioctl for device\n" if sh.flavor != "busybox"
               else "stty: standard input: Not a tty\n")
        return 1
    if argv[1:] == ["size"]:
        io.out(f"{io.tty.rows} {io.tty.cols}\n")
    elif not argv[1:] or argv[1] in ("-a", "--all"):
        io.out(f"speed 38400 baud; rows {io.tty.rows}; columns {io.tty.cols}; line = 0;\n")
    return 0


@command("tput")
async def _tput(sh, argv, io):
    what = argv[1] if len(argv) > 1 else ""
    cols, rows = (io.tty.cols, io.tty.rows) if io.tty is not None else (80, 24)
    if what in ("cols", "lines"):
        io.out(f"{cols if what == 'cols' else rows}\n")
        return 0
    if what in ("clear", "sgr0", "bold"):
        io.out({"clear": "\x1b[H\x1b[2J", "sgr0": "\x1b(B\x1b[m", "bold": "\x1b[1m"}[what])
        return 0
    io.err(f"tput: unknown terminfo capability '{what}'\n")
    return 4


@command("clear")
async def _clear(sh, argv, io):
    io.out("\x1b[H\x1b[2J\x1b[3J")
    return 0

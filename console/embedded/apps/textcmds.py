"""Text tools scripts and probes reach for: seq, head, tail, grep, wc, and a
few one-liners (whoami, uname, basename, dirname)."""

import re

from console.embedded.apps.builtins import command
from console.embedded.apps.fs import MESSAGES, FsError


async def _read_inputs(sh, paths, io, tool, raw: bool = False) -> tuple[list, int]:
    """Text (bytes if raw) of each named file or stdin, and the exit status so far."""
    if not paths or paths == ["-"]:
        data = await io.stdin.read_all()
        return [data if raw else data.decode(errors="replace")], 0
    texts, status = [], 0
    for p in paths:
        try:
            data = sh.fs.read(sh.fs.norm(p, sh.cwd))
            texts.append(data if raw else data.decode(errors="replace"))
        except FsError as exc:
            io.err(f"{tool}: {p}: {MESSAGES[exc.kind]}\n")
            status = 1 if tool != "grep" else 2
    return texts, status


def _count_arg(argv, default=10) -> tuple[int, list[str]]:
    n, rest, args = default, [], iter(argv[1:])
    for a in args:
        if a == "-n":
            n = int(next(args, default))
        elif re.fullmatch(r"-n?\d+", a):
            n = int(a.lstrip("-n"))
        elif a in ("-f", "-F"):
            rest.append("-f")
        else:
            rest.append(a)
    return n, rest


@command("seq")
async def _seq(sh, argv, io):
    try:
        nums = [int(a) for a in argv[1:]]
    except ValueError:
        io.err(f"seq: invalid number '{argv[-1]}'\n")
        return 1
    first, step, last = {1: (1, 1, nums[0] if nums else 0), 2: (nums[0], 1, nums[-1]),
                         3: (nums[0], nums[1] if len(nums) > 1 else 1, nums[-1])}.get(len(nums), (1, 1, 0))
    if step == 0:
        return 1
    io.out("".join(f"{i}\n" for i in range(first, last + (1 if step > 0 else -1), step)))
    return 0


@command("head")
async def _head(sh, argv, io):
    n, paths = _count_arg(argv)
    if not paths:            # stdin: stop reading after n lines, as head does
        for _ in range(n):
            line = await io.stdin.readline()
            if not line:
                break
            io.out(line)
        io.stdin.done_reading()
        return 0
    texts, status = await _read_inputs(sh, paths, io, "head")
    for text in texts:
        io.out("".join(line + "\n" for line in text.splitlines()[:n]))
    return status


@command("tail")
async def _tail(sh, argv, io):
    n, rest = _count_arg(argv)
    follow = "-f" in rest
    paths = [p for p in rest if p != "-f"]
    texts, status = await _read_inputs(sh, paths, io, "tail")
    for text in texts:
        lines = text.splitlines()
        io.out("".join(line + "\n" for line in lines[-n:] if n))
    while follow and not status:     # `tail -f /dev/null`: a container that idles forever
        await sh.sleep(86400)
    return status


@command("grep", "egrep")
async def _grep(sh, argv, io):
    flags, rest = set(), []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1 and not rest:
            flags.update(a[1:])
        else:
            rest.append(a)
    if not rest:
        io.err("BusyBox v1.36.1 multi-call binary.\n\nUsage: grep [-qvic] PATTERN [FILE]...\n")
        return 2
    pattern, paths = rest[0], rest[1:]
    try:
        rx = re.compile(re.escape(pattern) if "F" in flags else pattern,
                        re.IGNORECASE if "i" in flags else 0)
    except re.error:
        io.err(f"grep: bad regex '{pattern}'\n")
        return 2
    texts, status = await _read_inputs(sh, paths, io, "grep")
    hits = [line for text in texts for line in text.splitlines()
            if bool(rx.search(line)) != ("v" in flags)]
    if "q" not in flags and texts:
        io.out(f"{len(hits)}\n" if "c" in flags else "".join(h + "\n" for h in hits))
    return status or (0 if hits else 1)


@command("wc")
async def _wc(sh, argv, io):
    flags = {c for a in argv[1:] if a.startswith("-") for c in a[1:]}
    paths = [a for a in argv[1:] if not a.startswith("-")]
    texts, status = await _read_inputs(sh, paths, io, "wc", raw=True)
    data = b"".join(texts)
    counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data)}
    shown = [str(counts[k]) for k in "lwc" if k in flags] or [str(counts[k]) for k in "lwc"]
    io.out(" ".join(shown) + "\n")
    return status


@command("whoami")
async def _whoami(sh, argv, io):
    io.out("root\n")
    return 0


@command("uname")
async def _uname(sh, argv, io):
    io.out(f"Linux {sh.hostname} 6.1.0-28-amd64 #1 SMP x86_64 GNU/Linux\n" if "-a" in argv else "Linux\n")
    return 0


@command("basename", "dirname")
async def _path(sh, argv, io):
    if len(argv) < 2:
        return 1
    path = argv[1].rstrip("/") or "/"
    io.out((path.rsplit("/", 1)[-1] if argv[0] == "basename" else (path.rsplit("/", 1)[0] or "/")) + "\n")
    return 0

"""Bytes tools: gzip, gunzip, zcat, base64, md5sum, sha256sum. Their output is
bytes as the real tools write them, so `kubectl exec pod -- sh -c '... | gzip'`
comes back byte for byte."""

import base64
import gzip
import hashlib
import zlib

from console.embedded.apps.builtins import command
from console.embedded.apps.fs import MESSAGES, FsError


def _split(argv, letters: str):
    flags, files = set(), []
    for a in argv[1:]:
        if a.startswith("-") and len(a) > 1 and not files:
            flags.update(a[1:])
        else:
            files.append(a)
    return flags, files


@command("gzip", "gunzip", "zcat")
async def _gzip(sh, argv, io):
    name = argv[0].rsplit("/", 1)[-1]
    flags, files = _split(argv, "cdfk123456789n")
    decompress = name != "gzip" or "d" in flags
    to_stdout = name == "zcat" or "c" in flags or not files
    level = next((int(c) for c in "123456789" if c in flags), 6)
    tool = "gzip" if sh.flavor != "busybox" else name

    def convert(data: bytes) -> bytes:
        return gzip.decompress(data) if decompress else gzip.compress(data, level, mtime=0)
    if not files or files == ["-"]:
        try:
            io.out(convert(await io.stdin.read_all()))
        except (OSError, EOFError, zlib.error):
            io.err(f"{tool}: stdin: not in gzip format\n")
            return 1
        return 0
    status = 0
    for f in files:
        path = sh.fs.norm(f, sh.cwd)
        try:
            data = sh.fs.read(path)
            out = convert(data)
        except FsError as exc:
            io.err(f"{tool}: {f}: {MESSAGES[exc.kind]}\n")
            status = 1
            continue
        except (OSError, EOFError, zlib.error):
            io.err(f"{tool}: {f}: not in gzip format\n")
            status = 1
            continue
        if to_stdout:
            io.out(out)
            continue
        target = path[:-3] if decompress and path.endswith(".gz") else path + ".gz"
        sh.fs.write(target, out)
        if "k" not in flags:
            sh.fs.remove(path)
    return status


@command("base64")
async def _base64(sh, argv, io):
    flags, files = _split(argv, "dw")
    data = sh.fs.read(sh.fs.norm(files[0], sh.cwd)) if files else await io.stdin.read_all()
    if "d" in flags:
        try:
            io.out(base64.b64decode(b"".join(data.split()), validate=True))
        except ValueError:
            io.err("base64: invalid input\n")
            return 1
        return 0
    text = base64.b64encode(data).decode()
    io.out("".join(text[i:i + 76] + "\n" for i in range(0, len(text), 76)) or "\n")
    return 0


@command("md5sum", "sha1sum", "sha256sum")
async def _sum(sh, argv, io):
    algo = argv[0].rsplit("/", 1)[-1].removesuffix("sum")
    _, files = _split(argv, "bct")
    status = 0
    for f in files or ["-"]:
        try:
            data = await io.stdin.read_all() if f == "-" else sh.fs.read(sh.fs.norm(f, sh.cwd))
        except FsError as exc:
            io.err(f"{argv[0]}: {f}: {MESSAGES[exc.kind]}\n")
            status = 1
            continue
        io.out(f"{hashlib.new(algo, data).hexdigest()}  {f}\n")
    return status

"""`siege` in the siege pod: kubelab's own load engine, run as a child process.

The embedded cluster may not import the load generator, so the command starts
`kubelab siege` (`python -m console.cli siege`) and points every URL's host:port
at a loopback listener of this pod's network (`--connect-to`, curl's syntax):
connections then count as the pod's own, names resolve from its namespace and
the Service proxy (and mesh) sees them as in-cluster traffic. Files named on
the command line (`-f urls.txt`, `'URL POST </body.json'`) are read from the
container's file system.

The child streams its -v lines and summary back as it writes them; on a
terminal it runs on a pty of its own (siege's colours, the window size).
Signals sent to the process (^C, kill) are passed on, so ^C prints the
summary; it is killed with the exec session, the container and the cluster
(and, should this process die, by the kernel: PR_SET_PDEATHSIG).
"""

import asyncio
import os
import shutil
import struct
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from console.embedded.apps.builtins import command
from console.embedded.apps.fs import MESSAGES, FsError
from console.embedded.apps.procs import os_kill

VALUED_SHORT = set("crtdfHTAR")
VALUED_LONG = {"--concurrent", "--reps", "--time", "--delay", "--file", "--header",
               "--content-type", "--user-agent", "--rc", "--rate", "--timeout", "--failures",
               "--connect-to", "--workers"}
PACKAGE_ROOT = str(Path(__file__).resolve().parents[3])   # the directory holding `console`

# Run in the child: die with the cluster (PR_SET_PDEATHSIG = 1, SIGKILL = 9), then siege.
BOOT = """import os, sys
try:
    import ctypes
    ctypes.CDLL(None).prctl(1, 9)
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(137)
from console.cli import main
sys.exit(main(sys.argv[2:]))
"""


class _BadFile(Exception):
    pass


class _Args:
    """The command line, with container files copied out and every target's
    host:port collected."""

    def __init__(self, sh, workdir: str):
        self.sh, self.workdir = sh, workdir
        self.targets: list[tuple[str, int]] = []
        self._n = 0

    def _export(self, path: str) -> str:
        try:
            data = self.sh.fs.read(self.sh.fs.norm(path, self.sh.cwd))
        except FsError as exc:
            raise _BadFile(f"[error] unable to open file: {path}: {MESSAGES[exc.kind]}") from None
        self._n += 1
        out = os.path.join(self.workdir, f"{self._n}-{os.path.basename(path) or 'file'}")
        with open(out, "wb") as f:
            f.write(data)
        return out

    def target(self, text: str) -> str:
        """'URL [METHOD [body | </file]]' with the URL noted and the file exported."""
        parts = text.strip().split(None, 2)
        if not parts:
            return text
        url = parts[0] if "://" in parts[0] else "http://" + parts[0]
        u = urlsplit(url)
        if u.hostname and u.scheme == "http":
            try:
                self.targets.append((u.hostname.lower(), u.port or 80))
            except ValueError:
                pass                    # a bad port: the engine says so
        if len(parts) == 3 and parts[2].startswith("<"):
            parts[2] = "<" + self._export(parts[2][1:].strip())
        return " ".join(parts)

    def urls_file(self, path: str) -> str:
        try:
            text = self.sh.fs.read(self.sh.fs.norm(path, self.sh.cwd)).decode(errors="replace")
        except FsError as exc:
            raise _BadFile(f"[error] unable to open file: {path}: {MESSAGES[exc.kind]}") from None
        lines = [line if not line.strip() or line.strip().startswith("#") else self.target(line)
                 for line in text.splitlines()]
        self._n += 1
        out = os.path.join(self.workdir, f"{self._n}-{os.path.basename(path) or 'urls.txt'}")
        with open(out, "w") as f:
            f.write("\n".join(lines) + "\n")
        return out

    def rewrite(self, argv: list[str]) -> list[str]:
        out, args = [], iter(argv)
        for a in args:
            if a.startswith("--") and a != "--":
                name, eq, value = a.partition("=")
                if name in VALUED_LONG and not eq:
                    value = next(args, "")
                if name == "--file":
                    value = self.urls_file(value)
                out.append(f"{name}={value}" if name in VALUED_LONG else a)
            elif a.startswith("-") and len(a) > 1 and a[1] in VALUED_SHORT:
                value = a[2:] or next(args, "")
                out.append(f"-{a[1]}" + (self.urls_file(value) if a[1] == "f" else value))
            elif a.startswith("-") and len(a) > 1:
                out.append(a)
            else:
                out.append(self.target(a))
        return out


def _env(sh, terminal) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "HOME", "LANG", "LC_ALL", "KUBELAB_UVLOOP", "XDG_STATE_HOME")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH"))
                                        if p)
    env["TERM"] = sh.env.get("TERM", "xterm") if terminal else "dumb"
    return env


@command("siege")
async def _siege(sh, argv, io):
    if sh.net is None:
        io.err("siege: the pod has no network\n")
        return 1
    workdir = tempfile.mkdtemp(prefix="kubelab-siege-")
    proc = None
    try:
        try:
            args = _Args(sh, workdir)
            rewritten = args.rewrite(list(argv[1:]))
        except _BadFile as exc:
            io.err(f"{exc}\n")
            return 1
        address = await sh.net.listen()          # every request goes where its Host says
        for host, port in dict.fromkeys(args.targets):
            rewritten.append(f"--connect-to={host}:{port}:{address}")
        # one process, as the pod's siege is, unless -j N says otherwise: the cluster
        # serving these requests runs on the same cores, and is the limit here
        cmd = [sys.executable, "-c", BOOT, str(os.getpid()), "siege", "--workers=1", *rewritten,
               "--no-log", "--no-progress"]
        terminal = io.tty
        if terminal is not None:
            return await _on_pty(cmd, sh, io, terminal)
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=_env(sh, False), cwd=workdir)
        _adopt(io, proc.pid)
        await asyncio.gather(_copy(proc.stdout, io.out), _copy(proc.stderr, io.err))
        return _code(await proc.wait())
    finally:
        if proc is not None and proc.returncode is None:
            os_kill(proc.pid, 9)
        shutil.rmtree(workdir, ignore_errors=True)


def _adopt(io, pid: int) -> None:
    """Signals to this process go to the real one."""
    if io.proc is not None:
        io.proc.os_pid = pid
        io.proc.handler = lambda sig: os_kill(pid, sig)


def _code(rc: int) -> int:
    return 128 - rc if rc < 0 else rc


async def _copy(stream, sink) -> None:
    while True:
        chunk = await stream.read(65536)
        if not chunk:
            return
        sink(chunk)


async def _on_pty(cmd, sh, io, terminal) -> int:
    import fcntl
    import termios

    master, slave = os.openpty()

    def size(cols: int, rows: int) -> None:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    size(terminal.cols, terminal.rows)
    proc = None
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if data:
            terminal.write_raw(data)
        elif not done.done():
            done.set_result(None)

    def resized(cols: int, rows: int) -> None:
        size(cols, rows)
        if proc is not None:
            os_kill(proc.pid, 28)          # SIGWINCH
    try:
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=slave, stdout=slave, stderr=slave, env=_env(sh, True),
            start_new_session=True)
        os.close(slave)
        slave = -1
        _adopt(io, proc.pid)
        terminal.on_resize.append(resized)
        loop.add_reader(master, readable)
        rc = await proc.wait()
        await asyncio.wait([done], timeout=2)   # what it wrote last is still in the pty
        return _code(rc)
    finally:
        loop.remove_reader(master)
        if resized in terminal.on_resize:
            terminal.on_resize.remove(resized)
        if proc is not None and proc.returncode is None:
            os_kill(proc.pid, 9)
        os.close(master)
        if slave >= 0:
            os.close(slave)

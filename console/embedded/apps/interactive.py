"""A shell reading its commands from stdin: a terminal (`kubectl exec -it pod --
/bin/bash`: a prompt, ^C, `exit`) or a stream (`kubectl exec -i pod -- sh <
script`: each command runs as soon as it is complete, as sh reads a pipe).

Prompts are the images' defaults: bash on Debian `root@<host>:<cwd># `,
busybox ash `<cwd> # `, dash `# `; a command that goes on over lines gets `> `.
Interactive bash says `exit` when it leaves, on `exit` or on ^D.
"""

import asyncio

from console.embedded.apps import shparse
from console.embedded.apps.shell import BUSYBOX, Interrupted, ShellExit


def prompt(sh, name: str) -> str:
    if sh.flavor == BUSYBOX:
        return f"{sh.cwd} # "
    if name == "bash":
        home = sh.env.get("HOME", "/root")
        cwd = "~" + sh.cwd[len(home):] if sh.cwd == home or sh.cwd.startswith(home + "/") else sh.cwd
        return f"root@{sh.hostname.split('.', 1)[0]}:{cwd}# "
    return "# "


def _incomplete(exc: Exception) -> bool:
    text = str(exc)
    return "end of file" in text or "unterminated" in text


async def read_commands(sh, argv, io) -> int:
    name = argv[0].rsplit("/", 1)[-1]
    tty = io.tty
    interactive = tty is not None
    pending = ""
    while True:
        if interactive:
            io.out(prompt(sh, name) if not pending else "> ")
        raw = await _read_line(sh, io)
        if raw is None:                      # ^C at the prompt
            io.out("\n")
            pending, sh.status = "", 130
            continue
        if not raw:                          # end of input
            if pending and not interactive:
                io.err(f"{name}: syntax error: unexpected end of file\n")
                return 2
            if interactive and name == "bash":
                io.out("exit\n")
            if interactive and pending:
                pending = ""
                continue
            return sh.status
        pending += raw.decode(errors="replace")
        if not pending.endswith("\n"):
            pending += "\n"
        try:
            tree = shparse.parse(pending)
        except shparse.ShellSyntaxError as exc:
            if _incomplete(exc):
                continue
            io.err(f"{name}: {exc}\n")
            pending, sh.status = "", 2
            if not interactive:
                return 2
            continue
        pending = ""
        try:
            await _run_line(sh, tree, io, interactive)
        except ShellExit as exc:
            if interactive and name == "bash":
                io.out("exit\n")
            return exc.code


async def _read_line(sh, io) -> bytes | None:
    """A line (b"" at end of input); None when ^C dropped what was being typed."""
    if io.tty is None:
        return await io.stdin.readline()
    read = asyncio.ensure_future(io.stdin.readline())
    io.tty.on_interrupt = read.cancel
    try:
        return await read
    except asyncio.CancelledError:
        if asyncio.current_task().cancelling():
            raise
        return None
    finally:
        io.tty.on_interrupt = None


async def _run_line(sh, tree, io, interactive: bool) -> None:
    sh.interrupted = False
    line = asyncio.ensure_future(sh.run(tree, io))
    sh._line = line
    if interactive:
        io.tty.on_interrupt = sh.interrupt
    try:
        try:
            await line
        except (Interrupted, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError) and asyncio.current_task().cancelling():
                raise
            sh.status = 130
        if sh.interrupted and sh.status == 130:
            io.out("\n")                  # after ^C killed the job, as bash does
    finally:
        sh._line = None
        sh.interrupted = False
        if interactive:
            io.tty.on_interrupt = None

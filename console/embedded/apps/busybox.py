"""A container that runs a shell command line: busybox, alpine, or any image
whose command is overridden in the pod spec. Its stdout/stderr is the log."""

import asyncio

from console.embedded.apps.base import App
from console.embedded.apps.shell import BUSYBOX, IO


class LineSink:
    """Text in, whole lines out to the log."""

    def __init__(self, log):
        self.log, self.buf = log, ""

    def __call__(self, text: str) -> None:
        self.buf += text
        *lines, self.buf = self.buf.split("\n")
        for line in lines:
            self.log(line)

    def flush(self) -> None:
        if self.buf:
            self.log(self.buf)
            self.buf = ""


class ShellApp(App):
    kind = "busybox"
    flavor = BUSYBOX
    default_ports = ()
    boot_seconds = 0.0
    stop_exit = None          # sh as PID 1 ignores SIGTERM: the kubelet must SIGKILL
    memory_mb = 1.0
    idle_millicores = 0.0
    default_cmd = ["sh"]      # busybox's CMD: with no terminal it reads EOF and exits

    def ports(self) -> list[int]:
        return []

    def argv(self) -> list[str]:
        command = list(self.ctx.spec.get("command") or [])
        args = list(self.ctx.spec.get("args") or [])
        return command + args if command else (args or list(self.default_cmd))

    def sigterm(self) -> None:
        if "TERM" in self.shell.traps:     # the script traps TERM: it ends now
            self.exit(143)
            self._task.cancel()

    def start_error(self) -> str | None:
        from console.embedded.apps import builtins
        argv = self.argv()
        name = argv[0].rsplit("/", 1)[-1] if argv else ""
        if name in builtins.COMMANDS or name in ("sh", "bash", "ash", "dash"):
            return None
        return ("failed to create containerd task: failed to create shim task: OCI runtime "
                "create failed: runc create failed: unable to start container process: exec: "
                f"\"{argv[0] if argv else ''}\": executable file not found in $PATH: unknown")

    async def main(self) -> int:
        sink = LineSink(self.ctx.log)
        self._task = asyncio.ensure_future(self.shell.run_argv(self.argv(), IO(sink, sink)))
        try:
            return await self._task
        except asyncio.CancelledError:
            if self.exit_code is None:
                raise
            return self.exit_code
        finally:
            sink.flush()


class AlpineApp(ShellApp):
    kind = "alpine"
    default_cmd = ["/bin/sh"]


class DebianShellApp(ShellApp):
    """ubuntu/debian: bash as CMD, coreutils wording."""
    kind = "debian"
    flavor = "gnu"
    default_cmd = ["bash"]

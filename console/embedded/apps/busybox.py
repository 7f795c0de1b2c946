"""A container that runs a shell command line: busybox, alpine, or any image
whose command is overridden in the pod spec. Its stdout/stderr is the log."""

import asyncio

from console.embedded.apps.base import App
from console.embedded.apps.procs import NAMES, TERM
from console.embedded.apps.shell import BUSYBOX, IO


class LineSink:
    """Text in, whole lines out to the log."""

    def __init__(self, log):
        self.log, self.buf = log, ""

    def __call__(self, text) -> None:
        self.buf += text if isinstance(text, str) else text.decode(errors="replace")
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

    def cmdline(self) -> list[str]:
        return self.argv()

    def sigterm(self) -> None:
        self.signal(TERM)

    def signal(self, sig: int) -> None:
        """sh as PID 1 has a handler only for what the script traps."""
        if NAMES.get(sig) in self.shell.traps:
            self.exit(128 + sig)
            self._task.cancel()

    def start_error(self) -> str | None:
        error = self.exec_error(self.argv() or [""])
        if error is None:
            return None
        return ("failed to create containerd task: failed to create shim task: OCI runtime "
                "create failed: runc create failed: " + error.split("exec failed: ", 2)[-1])

    async def main(self) -> int:
        sink = LineSink(self.ctx.log)
        self._task = asyncio.ensure_future(self.shell.run_argv(self.argv(), IO(sink, sink),
                                                               fork=False))
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

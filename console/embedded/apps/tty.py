"""The terminal of a `kubectl exec -t` session: the pty's line discipline.

Cooked mode as a Linux pty starts in it (ICANON ECHO ECHOE ECHOCTL ISIG ICRNL
ONLCR): typed keys are echoed, a line reaches the program on Enter, Backspace
and ^U edit it, ^C echoes `^C` and interrupts the foreground job, ^D on an
empty line is one end-of-file (the next read goes on), and output `\\n` is
written as `\\r\\n`. Escape sequences (arrow keys) are swallowed rather than
echoed as garbage.
"""

import asyncio

from console.embedded.apps.streams import as_bytes

ESC, CTRL_C, CTRL_D, CTRL_BSL, CTRL_U, CTRL_W = 0x1B, 0x03, 0x04, 0x1C, 0x15, 0x17


class TtyInput:
    """What the foreground program reads from the terminal: whole lines, and an
    end-of-file for each ^D (a tty is not closed by it)."""

    is_tty = True

    def __init__(self):
        self._chunks: list[bytes] = []
        self._hungup = False
        self._wake = asyncio.Event()

    def put(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._wake.set()

    def hangup(self) -> None:
        self._hungup = True
        self._wake.set()

    def flush(self) -> None:
        """^C throws away what was typed ahead and not read yet."""
        self._chunks = [c for c in self._chunks if c == b""]

    @property
    def at_eof(self) -> bool:
        return self._hungup and not self._chunks

    async def read(self, n: int = -1) -> bytes:
        while not self._chunks:
            if self._hungup:
                return b""
            self._wake.clear()
            await self._wake.wait()
        chunk = self._chunks.pop(0)
        if 0 <= n < len(chunk):
            self._chunks.insert(0, chunk[n:])
            chunk = chunk[:n]
        return chunk

    async def readline(self) -> bytes:
        return await self.read()         # canonical mode: a read returns one line

    async def read_all(self) -> bytes:
        out = bytearray()
        while True:
            chunk = await self.read()
            if not chunk:
                return bytes(out)
            out += chunk

    async def text(self) -> str:
        return (await self.read_all()).decode(errors="replace")

    def done_reading(self) -> None:
        pass

    def feed(self, data) -> None:         # writing into a terminal's input is typing
        self.put(as_bytes(data))

    __call__ = feed

    def close(self) -> None:
        pass


class Tty:
    def __init__(self, write, name: str = "pts/0", cols: int = 80, rows: int = 24):
        self._write = write                # bytes to the client's terminal
        self.name = name
        self.cols, self.rows = cols, rows
        self.input = TtyInput()
        self.line = bytearray()
        self.on_interrupt = None           # ^C: callable()
        self.on_quit = None                # ^\\
        self.on_resize = []                # callables(cols, rows)
        self._esc = 0                      # inside an escape sequence: 1 after ESC, 2 in CSI

    # -- output ---------------------------------------------------------------------
    def write(self, data) -> None:
        """Program output, with ONLCR."""
        data = as_bytes(data)
        if data:
            self._write(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    __call__ = write

    def write_raw(self, data: bytes) -> None:
        """Output already shaped by a terminal (a real child process's own pty)."""
        if data:
            self._write(data)

    # -- input ------------------------------------------------------------------------
    def resize(self, cols: int, rows: int) -> None:
        if cols > 0 and rows > 0:
            self.cols, self.rows = cols, rows
            for fn in list(self.on_resize):
                fn(cols, rows)

    def hangup(self) -> None:
        self.input.hangup()

    def feed(self, data: bytes) -> None:
        text = as_bytes(data).decode(errors="replace")
        for ch in text:
            self._key(ch)

    def _echo(self, text: str) -> None:
        self._write(text.encode())

    def _key(self, ch: str) -> None:
        code = ord(ch)
        if self._esc:
            # ESC [ params final, or ESC O x (application keypad): swallow it
            if self._esc == 1:
                self._esc = 2 if ch in "[O" else 0
            elif 0x40 <= code <= 0x7E:
                self._esc = 0
            return
        if code == ESC:
            self._esc = 1
        elif ch in ("\r", "\n"):
            self._echo("\r\n")
            self.input.put(bytes(self.line) + b"\n")
            self.line.clear()
        elif ch in ("\x7f", "\b"):
            self._erase(1)
        elif code == CTRL_U:
            self._erase(len(self.line.decode(errors="replace")))
        elif code == CTRL_W:
            text = self.line.decode(errors="replace")
            keep = text.rstrip()
            keep = keep[: len(keep) - len(keep.split(" ")[-1])] if keep else ""
            self._erase(len(text) - len(keep))
        elif code == CTRL_C:
            self._echo("^C")
            self.line.clear()
            self.input.flush()
            if self.on_interrupt is not None:
                self.on_interrupt()
        elif code == CTRL_BSL:
            self._echo("^\\")
            self.line.clear()
            if self.on_quit is not None:
                self.on_quit()
        elif code == CTRL_D:
            if self.line:
                self.input.put(bytes(self.line))
                self.line.clear()
            else:
                self.input.put(b"")
        elif code < 0x20 and ch != "\t":
            self._echo("^" + chr(code + 0x40))
            self.line += ch.encode()
        else:
            self._echo(ch)
            self.line += ch.encode()

    def _erase(self, n: int) -> None:
        text = self.line.decode(errors="replace")
        n = min(n, len(text))
        if n:
            self.line = bytearray(text[:-n].encode())
            self._echo("\b \b" * n)

"""A command's standard streams inside a simulated container.

Output sinks are plain callables taking `str` or `bytes` (text is UTF-8 on the
wire); `Capture` collects either. `Stdin` is input that may still be arriving
(an exec session's stdin, the read end of a pipe): commands read it with
`await read()` / `readline()` / `text()`, and `b""` means end of file, as
read(2) says it.
"""

import asyncio


def as_bytes(data) -> bytes:
    return data.encode() if isinstance(data, str) else bytes(data)


class Capture:
    """A sink that keeps everything written to it."""

    def __init__(self):
        self.parts: list[bytes] = []

    def __call__(self, data) -> None:
        if data:
            self.parts.append(as_bytes(data))

    def data(self) -> bytes:
        return b"".join(self.parts)

    def text(self) -> str:
        return self.data().decode(errors="replace")


class Stdin:
    """Bytes in, read as they come. `closed` input (a string, /dev/null, a file)
    ends where its data ends; an open one waits for `feed()` until `close()`."""

    def __init__(self, data=b"", open_: bool = False):
        self._buf = bytearray(as_bytes(data))
        self._eof = not open_
        self._wake = asyncio.Event()
        self.reader_gone = False          # the reading command ended (a pipe's SIGPIPE)

    # -- the writing side ---------------------------------------------------------
    def feed(self, data) -> None:
        if self.reader_gone:
            raise BrokenPipeError
        if data and not self._eof:
            self._buf += as_bytes(data)
            self._wake.set()

    __call__ = feed                       # a Stdin is also the sink of the command before it

    def close(self) -> None:
        self._eof = True
        self._wake.set()

    @property
    def at_eof(self) -> bool:
        return self._eof and not self._buf

    # -- the reading side -----------------------------------------------------------
    async def _more(self) -> None:
        self._wake.clear()
        await self._wake.wait()

    async def read(self, n: int = -1) -> bytes:
        """What is there (up to n bytes), waiting for some; b"" at end of file."""
        while not self._buf and not self._eof:
            await self._more()
        take = len(self._buf) if n < 0 else min(n, len(self._buf))
        out = bytes(self._buf[:take])
        del self._buf[:take]
        return out

    async def readline(self) -> bytes:
        """One line with its newline (or what is left before end of file)."""
        while b"\n" not in self._buf and not self._eof:
            await self._more()
        end = self._buf.find(b"\n")
        take = len(self._buf) if end < 0 else end + 1
        out = bytes(self._buf[:take])
        del self._buf[:take]
        return out

    async def read_all(self) -> bytes:
        while not self._eof:
            await self._more()
        out = bytes(self._buf)
        self._buf.clear()
        return out

    async def text(self) -> str:
        return (await self.read_all()).decode(errors="replace")

    def done_reading(self) -> None:
        """The reader ended: writers now get EPIPE, and what was left is dropped."""
        self.reader_gone = True
        self._buf.clear()
        self._eof = True


EMPTY = b""


def stdin_of(value):
    """A reader as is (a Stdin, a terminal's input); data as closed input."""
    return value if hasattr(value, "readline") else Stdin(value or EMPTY)


async def pump(source: Stdin, sink) -> None:
    """Copy input to a sink as it arrives (cat with no file)."""
    while True:
        chunk = await source.read()
        if not chunk:
            return
        sink(chunk)

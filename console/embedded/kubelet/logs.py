"""A container instance's log: bounded, timestamped, and followable."""

import asyncio
from collections import deque
from datetime import datetime, timezone

LOG_LINES = 5000


class ContainerLog:
    def __init__(self, clock):
        self.clock = clock
        self._lines: deque[tuple[str, str]] = deque(maxlen=LOG_LINES)
        self.total = 0                   # lines ever appended (positions for followers)
        self._waiters: list[asyncio.Future] = []
        self.closed = False

    def close(self) -> None:
        """The container instance ended: followers drain and stop."""
        self.closed = True
        self._wake()

    def append(self, line: str) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self._lines.append((stamp, str(line)))
        self.total += 1
        self._wake()

    def _wake(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    def lines(self, timestamps: bool = False) -> list[str]:
        return [f"{s} {line}" if timestamps else line for s, line in self._lines]

    async def follow(self):
        """Lines appended from now on ("<stamp> text"), until the instance ends."""
        pos = self.total
        while True:
            start = self.total - len(self._lines)
            pos = max(pos, start)
            while pos < self.total:
                stamp, line = self._lines[pos - start]
                yield f"{stamp} {line}"
                pos += 1
            if self.closed:
                return
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            await fut

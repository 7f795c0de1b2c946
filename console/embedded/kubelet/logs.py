"""A container instance's log: bounded, timestamped, and followable."""

import asyncio
import time
from collections import deque
from datetime import datetime, timezone

LOG_LINES = 5000


def _stamp(ns: int) -> str:
    """RFC 3339 with microseconds, as the container runtime writes log lines."""
    at = datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc)
    return at.replace(microsecond=ns // 1000 % 1_000_000).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ContainerLog:
    def __init__(self, clock):
        self.clock = clock
        # (time.time_ns(), text): stamps are formatted when read (most lines never are)
        self._lines: deque[tuple[int, str]] = deque(maxlen=LOG_LINES)
        self.total = 0                   # lines ever appended (positions for followers)
        self._waiters: list[asyncio.Future] = []
        self.closed = False

    def close(self) -> None:
        """The container instance ended: followers drain and stop."""
        self.closed = True
        self._wake()

    def append(self, line: str) -> None:
        self._lines.append((time.time_ns(), str(line)))
        self.total += 1
        self._wake()

    def _wake(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    def lines(self, timestamps: bool = False) -> list[str]:
        return [f"{_stamp(s)} {line}" if timestamps else line for s, line in self._lines]

    async def follow(self):
        """Lines appended from now on ("<stamp> text"), until the instance ends."""
        pos = self.total
        while True:
            start = self.total - len(self._lines)
            pos = max(pos, start)
            while pos < self.total:
                stamp, line = self._lines[pos - start]
                yield f"{_stamp(stamp)} {line}"
                pos += 1
            if self.closed:
                return
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            await fut

"""Waiting on a condition: poll until it holds, with a generous timeout and never a
timing assertion (the machine is busy). `wait_for` for threads and kubectl,
`until` inside the cluster's own event loop."""

import asyncio
import time


def wait_for(cond, timeout: float = 120.0, what: str = "condition", every: float = 0.2):
    """Call cond() until it returns something truthy; return that."""
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {value!r}")
        time.sleep(every)


async def until(cond, timeout: float = 60.0, what: str = "condition"):
    """The same without blocking the event loop the cluster runs in; cond may be a
    coroutine function (its result is awaited)."""
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last: {value!r}")
        await asyncio.sleep(0.02)

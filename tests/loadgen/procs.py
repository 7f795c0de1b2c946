"""Waiting on what a loadgen test started (a `kubelab siege` process, a worker), and
ending such a process: conditions polled with a generous timeout, never fixed sleeps."""

from __future__ import annotations

import asyncio


async def until(cond, timeout: float = 60) -> bool:
    """True once cond() is (polled every 0.1 s, up to `timeout`: a busy box is slow)."""
    for _ in range(int(timeout * 10)):
        if cond():
            return True
        await asyncio.sleep(0.1)
    return cond()


async def stop(proc, *signals) -> tuple[str, str]:
    """Send `signals`, then read the process to its end (killed if it does not end in
    60 s): its stdout and stderr."""
    try:
        for sig in signals:
            proc.send_signal(sig)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return out.decode(), err.decode()

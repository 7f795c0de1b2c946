#!/usr/bin/env python3
"""The generator's own CPU a request: the real Engine, the sockets replaced by a stand-in.

Each write is answered, on the next loop turn, with a canned nginx answer; no kernel,
no server, so what is left is kubelab's hot path (http1.py, engine.py, stats.py) and
the event loop's dispatch. The figure to watch when changing that path:

  bench/loadgen/hotpath.py                µs of CPU a request (best 0.25 s window of 3 s)
  bench/loadgen/hotpath.py instructions   instructions a request, under valgrind: steady
                                          on a busy machine ((I(240) - I(40)) / 10,000
                                          requests; about 4 min)

Both measure the build that loads (console/loadgen/native.py, said in the output):
the compiled one, or with KUBELAB_PURE=1 the plain Python one.

On 2026-12-01 (bench/loadgen/README.md): 38.1k instructions at f660c41, 25.3k at 27f57ac,
24.4k at 1e21076; the compiled hot path (Cython, setup.py) 12.9k at d3e73d2, its
plain Python build (KUBELAB_PURE=1) 26.7k.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from console.loadgen import native, options  # noqa: E402
from console.loadgen.engine import Engine, run_sync  # noqa: E402

ANSWER = (b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 16:40:00 GMT\r\n"
          b"Content-Type: text/html\r\nContent-Length: 6\r\n"
          b"Last-Modified: Tue, 01 Dec 2026 16:30:00 GMT\r\nConnection: keep-alive\r\n"
          b'ETag: "abc-6"\r\nAccept-Ranges: bytes\r\n\r\nhello\n')
USERS = 50


class _Transport:
    def __init__(self, loop, proto):
        self.loop, self.proto = loop, proto

    def write(self, data) -> None:
        self.loop.call_soon(self.proto.data_received, ANSWER)

    def abort(self) -> None:
        pass


def _engine(limit: str) -> Engine:
    spec = options.parse(["-b", f"-c{USERS}", limit, "--no-log", "-j1", "http://127.0.0.1:9/x"])
    engine = Engine(spec)
    engine.prepare()
    return engine


async def _stand_in(loop, factory, host, port, **kw):
    proto = factory()
    transport = _Transport(loop, proto)
    proto.connection_made(transport)
    return transport, proto


async def _run(engine: Engine, sample: bool) -> float:
    loop = asyncio.get_running_loop()
    loop.create_connection = lambda f, h, p, **kw: _stand_in(loop, f, h, p, **kw)
    best = [float("inf")]

    async def windows() -> None:
        await asyncio.sleep(0.3)
        while True:
            c0, n0 = time.process_time(), engine.stats.transactions
            await asyncio.sleep(0.25)
            c1, n1 = time.process_time(), engine.stats.transactions
            if n1 > n0:
                best[0] = min(best[0], (c1 - c0) / (n1 - n0))

    task = asyncio.create_task(windows()) if sample else None
    await engine.run()
    if task:
        task.cancel()
    return best[0]


def cpu() -> None:
    us = run_sync(_run(_engine("-t3S"), True)) * 1e6
    print(f"{us:.2f} us of CPU a request (best 0.25 s window; sockets replaced; "
          f"{native.status()} hot path)")


def instructions() -> None:
    if not shutil.which("valgrind"):
        raise SystemExit("hotpath.py instructions: needs valgrind (apt-get install valgrind)")

    def count(reps: int) -> int:
        out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                              sys.executable, __file__, "reps", str(reps)],
                             capture_output=True, text=True).stderr
        return int(re.search(r"Collected : (\d+)", out).group(1))

    a, b = count(40), count(240)
    print(f"{(b - a) / (USERS * 200):.0f} instructions a request (valgrind; sockets replaced; "
          f"{native.status()} hot path)")


if __name__ == "__main__":
    what = sys.argv[1:2]
    if what == ["instructions"]:
        instructions()
    elif what == ["reps"]:
        run_sync(_run(_engine(f"-r{int(sys.argv[2])}"), False))
    else:
        cpu()

"""Every run ends: at its time limit whatever the server does, at Ctrl-C/SIGTERM, and a
rate the machine cannot reach keeps memory flat; a killed run leaves what it measured.

No timed assertions: the runs must end (generous timeouts), and what they leave is checked.
"""

import asyncio
import http.server
import json
import signal
import stat
import threading

import psutil
import pytest

from console.loadgen.engine import Engine
from console.loadgen.options import parse
from tests.loadgen.procs import stop, until


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http10_url(tmp_path):
    """`python3 -m http.server`: HTTP/1.0, a new connection for every request."""
    (tmp_path / "index.html").write_text("hello\n")
    handler = lambda *a, **kw: _Quiet(*a, directory=str(tmp_path), **kw)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/index.html"
    srv.shutdown()
    srv.server_close()


async def _timed_run(argv: list[str]) -> dict:
    engine = Engine(parse(argv))
    await asyncio.wait_for(engine.run(), 60)  # a run that misses its end never returns
    return engine.result()


async def test_fifty_short_timed_runs_all_end(http10_url, server, siege_cli):
    # the reported hang: a cancel arriving as a connection completed was lost, and the
    # user went on; a connection per request (HTTP/1.0) made it likely
    urls = [http10_url, server.url("/ok"), server.url("/slow?ms=30")]
    for i in range(40):
        r = await _timed_run([f"-c{1 + i % 3}", "-t0.2S", urls[i % 3]])
        assert r["elapsed_time"] < 30 and not r["interrupted"]
    # and ten through the command line (uvloop, a process each), five at a time
    for batch in range(2):
        results = await asyncio.gather(*(
            siege_cli(["-c1", "-t1S", "--no-log", "-q", http10_url if j % 2 else server.url("/ok")])
            for j in range(5)))
        for rc, out, err in results:
            assert rc == 0 and "Traceback" not in err


async def test_a_lost_cancellation_still_ends_the_run(server):
    # a library that swallows a cancel (as Python 3.11's wait_for can, CPython gh-86296)
    # must not keep a request going: the end of the run is a state every answer checks.
    # aiohttp's requests (https) are the ones that run as tasks: force them here.
    engine = Engine(parse(["-c3", "-t0.3S", server.url("/slow?ms=50")]))
    engine.prepare()
    for p in engine.prepared:
        p.raw = None
    real = engine._aio

    async def swallowing(session, p):
        try:
            return await real(session, p)
        except asyncio.CancelledError:
            return 200, "HTTP/1.1", 0, True, None, engine.clock()

    engine._aio = swallowing
    await asyncio.wait_for(engine.run(), 60)
    assert engine.result()["transactions"] > 0


def _lines(state_dir) -> list[dict]:
    p = state_dir / "kubelab" / "runs.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []


def _seconds(state_dir) -> int:
    return sum(1 for r in _lines(state_dir) if r["kind"] == "siege-second")


async def test_unreachable_rate_keeps_memory_flat_and_stops_on_sigint(server, siege_cli):
    proc = await siege_cli.start(["--rate", "1e6", "-t120S", server.url("/ok")])
    try:
        assert await until(lambda: _seconds(siege_cli.state_dir) >= 2), "no load flowing"
        ps = psutil.Process(proc.pid)
        first = ps.memory_info().rss
        assert await until(lambda: _seconds(siege_cli.state_dir) >= 5)
        last = ps.memory_info().rss
    finally:
        out, err = await stop(proc, signal.SIGINT)
    # before: a task per unsent request, ~140 MB more every second
    assert last < 300 * 2**20 and last - first < 100 * 2**20, (first, last)
    assert proc.returncode == 0 and "Lifting the server siege..." in err
    assert "Bottleneck:" in err and "Traceback" not in err
    (summary,) = [r for r in _lines(siege_cli.state_dir) if r["kind"] == "siege"]
    res = summary["result"]
    assert res["interrupted"] and res["dropped_sends"] > 0 and res["bottleneck"]


async def test_sigkill_leaves_the_seconds_measured(server, siege_cli):
    proc = await siege_cli.start(["-c1", "-t120S", server.url("/ok")])
    try:
        assert await until(lambda: _seconds(siege_cli.state_dir) >= 2)
    finally:
        await stop(proc, signal.SIGKILL)
    lines = _lines(siege_cli.state_dir)
    assert lines[0]["kind"] == "siege-start" and not any(r["kind"] == "siege" for r in lines)
    seconds = [r for r in lines if r["kind"] == "siege-second"]
    assert [s["t"] for s in seconds] == list(range(len(seconds)))
    assert sum(s["requests"] for s in seconds) > 0
    d = siege_cli.state_dir / "kubelab"
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert stat.S_IMODE((d / "runs.jsonl").stat().st_mode) == 0o600


@pytest.mark.parametrize("signals", [(signal.SIGINT, signal.SIGINT), (signal.SIGTERM,)],
                         ids=["two-ctrl-c", "sigterm"])
async def test_signals_end_with_the_summary_and_the_log(server, siege_cli, signals):
    proc = await siege_cli.start(["-c2", "-t120S", server.url("/slow?ms=20")])
    try:
        assert await until(lambda: _seconds(siege_cli.state_dir) >= 1)
    finally:
        out, err = await stop(proc, *signals)
    assert proc.returncode == 0 and "Traceback" not in err
    assert "Lifting the server siege..." in err and "Transactions:" in err
    (summary,) = [r for r in _lines(siege_cli.state_dir) if r["kind"] == "siege"]
    assert summary["result"]["interrupted"] and summary["result"]["transactions"] > 0

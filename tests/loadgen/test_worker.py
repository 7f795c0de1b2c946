"""The engine in a spawned child process: start, live snapshots, stop, result, run log."""

import asyncio
import json

import pytest

from console.loadgen import runlog
from console.loadgen.options import parse
from console.loadgen.resolve import StaticResolver
from console.loadgen.worker import LoadWorker
from tests.loadgen.procs import until


async def test_worker_start_snapshots_stop_result(server, state):
    # an in-cluster name through a picklable resolver: the child resolves it itself
    resolver = StaticResolver({"order:8080": ("127.0.0.1", server.port)})
    # two worker processes under the load worker: the console's figures are their sum
    w = LoadWorker(parse(["-c2", "-j2", "-t60S", "http://order:8080/slow?ms=20"]), resolver,
                   interval=0.05).start()
    snaps = []
    try:
        def got_load():
            snaps.extend(w.snapshots())
            return sum(1 for s in snaps if s["transactions"] > 0) >= 3

        assert await until(got_load), w.error
        assert w.running and w.pid
        last = snaps[-1]
        assert last["availability"] == 100 and last["status_codes"]["200"] == last["transactions"]
        assert last["latency"]["p50"] >= 0.02 and last["cpu_percent"] >= 0
        assert [s["elapsed"] for s in snaps] == sorted(s["elapsed"] for s in snaps)
        # interval 0.05 is raised to 0.1: at most 10 snapshots a second
        assert w.interval == 0.1
        w.stop()
        result = await asyncio.to_thread(w.result, 60)
    finally:
        w.kill()
    assert result is not None, w.error
    assert result["interrupted"] and result["transactions"] >= last["transactions"]
    assert result["workers"] == 2
    assert result["transactions"] <= len(server.seen.paths)  # abandoned in-flight: not counted
    assert not w.running
    (record,) = runlog.read()
    assert record["source"] == "worker" and record["result"]["transactions"] == result["transactions"]
    assert "incomplete" not in record and record["result"]["series"] == result["series"]


async def test_worker_reports_bad_input(state):
    # an in-cluster name with no cluster: the child says why instead of dying silently
    w = LoadWorker(parse(["-c1", "-r1", "http://order:8080/"]), log=False).start()
    try:
        assert await asyncio.to_thread(w.result, 60) is None
    finally:
        w.kill()
    assert "there is no cluster" in w.error


async def test_worker_bounded_run_ends_by_itself(server, state):
    w = LoadWorker.from_line(f"siege -c2 -j1 -r5 {server.url('/ok')}", log=False).start()
    try:
        result = await asyncio.to_thread(w.result, 60)
    finally:
        w.kill()
    assert result["transactions"] == 10 and not result["interrupted"] and result["workers"] == 1
    assert not (state / "kubelab" / "runs.jsonl").exists()


PARENT = """
import os, sys, time
from console.loadgen.options import parse
from console.loadgen.worker import LoadWorker
if __name__ == "__main__":
    w = LoadWorker(parse(["-c1", "-t120S", sys.argv[1]])).start()
    for _ in range(600):
        if any(s["transactions"] for s in w.snapshots()):
            break
        time.sleep(0.1)
    print(w.pid, flush=True)
    if sys.argv[2] == "crash":
        os._exit(0)   # the console dies without a word to its worker
    sys.exit(0)       # the console quits normally without stopping the run
"""


@pytest.mark.parametrize("how", ["crash", "exit"])
async def test_the_run_is_logged_when_the_console_goes(server, state, tmp_path, how):
    import os
    import sys
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), server.url("/slow?ms=20"), how, env=env,
        stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    child = int(out.split()[0])
    def summarised() -> bool:
        return any("incomplete" not in r for r in runlog.read())

    try:
        assert await until(summarised, 60), "the orphaned worker did not log its run"
    finally:
        try:
            os.kill(child, 9)
        except ProcessLookupError:
            pass
    (record,) = runlog.read()
    assert record["source"] == "worker" and record["result"]["interrupted"]
    assert record["result"]["transactions"] > 0


UNDER_TEXTUAL = """
import io, json, sys, traceback
from console.loadgen.worker import LoadWorker


class Capture(io.TextIOBase):  # what Textual puts in sys.stdout/stderr while it runs
    def write(self, text):
        return len(text)

    def fileno(self):
        return -1


if __name__ == "__main__":
    sys.stdout = sys.stderr = Capture()
    try:
        w = LoadWorker.from_line(f"-c2 -r3 {sys.argv[1]}", log=False).start()
    except Exception:
        sys.__stderr__.write(traceback.format_exc())
        sys.exit(1)
    try:
        result = w.result(60)
    finally:
        w.kill()
    assert isinstance(sys.stderr, Capture)
    sys.__stdout__.write(json.dumps({"error": w.error, "result": result}) + "\\n")
"""


async def test_worker_starts_where_stderr_has_no_descriptor(server, state, tmp_path):
    # a fresh interpreter: multiprocessing's resource tracker is not running yet there
    import os
    import sys
    script = tmp_path / "under_textual.py"
    script.write_text(UNDER_TEXTUAL)
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(script), server.url("/ok"), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, err.decode()[-2000:]
    got = json.loads(out.decode().splitlines()[-1])
    assert got["error"] is None and got["result"]["transactions"] == 6
    assert server.seen.paths.count("/ok") == 6

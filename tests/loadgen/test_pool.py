"""-j/--workers: one run over several processes, its figures merged to be the run's.

The merged figures are checked against what the server counted, and the merge
itself against one Stats that saw every request (same clock, same latencies).
"""

import asyncio
import json
import random
import signal

import pytest

from console.loadgen import pool, summary
from console.loadgen.engine import Engine, portion
from console.loadgen.options import parse
from console.loadgen.stats import SeriesMerge, Stats
from tests.loadgen.procs import stop, until


def write_urls(tmp_path, urls):
    f = tmp_path / "urls.txt"
    f.write_text("\n".join(urls) + "\n")
    return str(f)


async def run(argv):
    seen = []
    p = pool.make(parse(argv))
    p.on_response = p.on_error = seen.append
    await p.run()
    return p, p.result(), seen


# -- the merge, exactly -----------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_merged_stats_answer_as_one_would():
    rng = random.Random(7)
    clock = Clock()
    whole, parts = Stats(clock), [Stats(clock, streamed=True) for _ in range(3)]
    merged = SeriesMerge(3)
    for step in range(3000):
        clock.now += rng.random() * 0.004
        i = rng.randrange(3)
        code = rng.choice((200, 200, 200, 301, 404, 500, 503, 408))
        latency = rng.lognormvariate(-6, 1)
        if rng.random() < 0.05:
            kind = rng.choice(("refused", "reset", "timeout"))
            whole.error(kind)
            parts[i].error(kind)
        else:
            whole.record(code, latency, 100 + step % 7)
            parts[i].record(code, latency, 100 + step % 7)
        if step % 400 == 0:  # reports come in as the run goes
            for j, st in enumerate(parts):
                st.tick()
                merged.add(j, st.take_seconds(), st.closed_seconds)
    clock.now += 0.3
    whole.finish()
    coordinator = Stats(clock, start=whole.start)
    for j, st in enumerate(parts):
        st.finish()
        merged.add(j, st.take_seconds(), st.closed_seconds, final=True)
        coordinator.merge(st.state())
    coordinator.series = merged.finish()

    a, b = whole.siege(), coordinator.siege()
    assert a.keys() == b.keys()
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=1e-12), k
    ea, eb = whole.extras(), coordinator.extras()
    assert ea["latency"] == eb["latency"]  # the histograms added up are the same histogram
    assert ea["status_codes"] == eb["status_codes"] and ea["errors"] == eb["errors"]
    assert ea["requests"] == eb["requests"] == 3000
    assert [s["t"] for s in coordinator.series] == list(range(len(whole.series)))
    for sa, sb in zip(whole.series, coordinator.series):
        assert sa == sb  # counts, bytes and the second's own p50/p99/max


def test_a_second_closes_when_every_worker_closed_it():
    m = SeriesMerge(2)
    m.add(0, [(0, 1, 1, 0, 0, 5, [0.1])], 1)
    assert m.series == []               # worker 1 may still add to second 0
    m.add(1, [], 0)
    assert m.series == []
    m.add(1, [(0, 2, 2, 0, 0, 10, [0.2, 0.3]), (1, 1, 1, 0, 0, 5, [0.4])], 2)
    assert [s["requests"] for s in m.series] == [3]
    m.add(0, [(2, 1, 0, 1, 0, 0, [0.5])], 3, final=True)   # worker 0 ended after second 2
    assert [s["t"] for s in m.series] == [0, 1]             # ... but 1 has only closed 0 and 1
    m.add(1, [], 2, final=True)
    assert [(s["t"], s["requests"]) for s in m.finish()] == [(0, 3), (1, 1), (2, 1)]


def test_users_and_arrivals_are_dealt_out_whole():
    assert [portion(5, i, 2) for i in range(2)] == [(0, 3), (3, 2)]
    assert [portion(7, i, 3) for i in range(3)] == [(0, 3), (3, 2), (5, 2)]
    assert sum(portion(1000, i, 7)[1] for i in range(7)) == 1000


def test_worker_count():
    assert pool.workers(parse(["-c1", "http://x/"])) == 1                 # one user, one process
    assert pool.workers(parse(["-c8", "-j3", "http://x/"])) == 3
    assert pool.workers(parse(["-c2", "-j8", "http://x/"])) == 2          # at most one per user
    assert pool.workers(parse(["-c50", "http://x/"])) == min(50, pool.cores())
    assert isinstance(pool.make(parse(["-c4", "-j1", "http://x/"])), Engine)


# -- runs against a server that counts ---------------------------------------------------

async def test_two_workers_count_what_the_server_counted(server, tmp_path):
    urls = [server.url("/ok"), server.url("/missing"), server.url("/boom"), server.url("/moved")]
    p, r, seen = await run(["-c4", "-r30", "-j2", "-f", write_urls(tmp_path, urls)])
    paths = server.seen.paths
    assert r["workers"] == 2 and "workers_lost" not in r
    # each user walks the list from its own start: 120 requests, and the 301s' follow-ups
    assert r["requests"] == len(paths) == 120 + paths.count("/moved")
    assert r["status_codes"] == {"200": paths.count("/ok"), "301": paths.count("/moved"),
                                 "404": paths.count("/missing"), "500": paths.count("/boom")}
    assert r["transactions"] == len(paths) - paths.count("/boom")
    assert r["failed_transactions"] == paths.count("/boom")
    assert r["successful_transactions"] == paths.count("/ok") + paths.count("/moved")
    nbytes = 5 * paths.count("/ok") + 4 * paths.count("/missing") + 5 * paths.count("/boom") \
        + 4 * paths.count("/moved")
    assert r["data_transferred"] == pytest.approx(nbytes / 2**20)
    total = sum(s.latency for s in seen)
    assert r["response_time"] == pytest.approx(total / r["transactions"], rel=1e-6)
    assert r["concurrency"] == pytest.approx(total / r["elapsed_time"], rel=1e-6)
    assert r["longest_transaction"] == pytest.approx(max(s.latency for s in seen), rel=1e-9)
    assert r["shortest_transaction"] == pytest.approx(min(s.latency for s in seen), rel=1e-9)
    assert sum(s["requests"] for s in r["series"]) == r["requests"]
    assert [s["t"] for s in r["series"]] == list(range(len(r["series"])))
    assert len(seen) == r["requests"]                           # every -v line, once
    assert r["generator_cpu_percent"] is not None
    assert "Generator CPU:\t\t" in summary.text(r, 1024) and "(2 processes)" in summary.text(r, 1024)


async def test_a_timed_run_counts_only_what_was_answered_in_time(server):
    p, r, _ = await run(["-c4", "-j2", "-t1S", server.url("/slow?ms=20")])
    assert not r["interrupted"] and r["elapsed_time"] >= 1.0
    assert 0 < r["transactions"] <= len(server.seen.paths)     # in flight at the end: not counted
    assert sum(s["transactions"] for s in r["series"]) == r["transactions"]
    assert r["latency"]["p50"] >= 0.02


async def test_the_failure_threshold_is_the_runs(refused_port):
    # 4 users over 2 processes: siege gives up after 10 failures in all, not 10 each
    p, r, seen = await run(["-c4", "-j2", "-r1000", "--failures=10",
                            f"http://127.0.0.1:{refused_port}/"])
    # past the limit, each user still finishing its request counts, as siege's (at most 3 here)
    n = r["failed_transactions"]
    assert r["aborted"] and 10 < n <= 13 and r["errors"] == {"refused": n}
    assert len(seen) == n               # one [error] line each
    assert summary.text(r, 10).startswith("siege aborted due to excessive socket failure")


async def test_open_loop_split_sends_the_count(server):
    p, r, _ = await run(["--rate=200", "-c4", "-r10", "-j2", server.url("/ok")])
    assert r["mode"] == "open" and r["requests"] == 40 == len(server.seen.paths)
    assert r["dropped_sends"] == 0 and r["transactions"] == 40


async def test_stop_ends_every_worker(server):
    p = pool.make(parse(["-c4", "-j2", server.url("/slow?ms=20")]), live=True)  # until stopped
    task = asyncio.create_task(p.run())
    await until(lambda: p.snapshot()["transactions"] >= 8)
    snap = p.snapshot()
    assert snap["transactions"] >= 8 and snap["latency"]["p50"] >= 0.02  # live: histograms too
    assert snap["in_flight"] <= 4 and snap["status_codes"]["200"] == snap["transactions"]
    p.stop()
    await asyncio.wait_for(task, 60)
    r = p.result()
    assert r["interrupted"] and r["transactions"] >= snap["transactions"]
    assert r["transactions"] <= len(server.seen.paths)


# -- through the command line ------------------------------------------------------------

async def test_cli_verbose_lines_come_as_one_stream(server, siege_cli):
    rc, out, err = await siege_cli(["-c4", "-j2", "-r5", "-v", "--no-log", server.url("/ok")])
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 20 and all(line.startswith("HTTP/1.1 200") and
                                    line.endswith("==> GET  /ok") for line in lines)
    assert "Transactions:\t\t          20 hits" in err and "(2 processes)" in err


async def test_cli_ctrl_c_with_workers_keeps_the_summary_and_the_log(server, siege_cli):
    proc = await siege_cli.start(["-c4", "-j2", "-t120S", server.url("/slow?ms=10")])
    try:
        await until(lambda: len(server.seen.paths) >= 20 or proc.returncode is not None)
    finally:
        out, err = await stop(proc, signal.SIGINT)
    assert proc.returncode == 0 and "Traceback" not in err, err
    hits = int(err.split("Transactions:")[1].split("hits")[0])
    assert 20 - 4 <= hits <= len(server.seen.paths)  # at most -c in flight, abandoned
    lines = [json.loads(x) for x in
             (siege_cli.state_dir / "kubelab" / "runs.jsonl").read_text().splitlines()]
    (record,) = [x for x in lines if x["kind"] == "siege"]
    assert record["result"]["interrupted"] and record["result"]["transactions"] == hits
    assert record["result"]["workers"] == 2
    seconds = [x for x in lines if x["kind"] == "siege-second"]
    assert [s["t"] for s in seconds] == list(range(len(seconds)))
    assert sum(s["transactions"] for s in seconds) == hits


async def test_a_killed_worker_is_reported_and_the_rest_kept(server, siege_cli):
    import psutil

    proc = await siege_cli.start(["-c4", "-j2", "-t120S", "--no-log", server.url("/slow?ms=10")])
    try:
        await until(lambda: len(psutil.Process(proc.pid).children()) >= 2
                    and len(server.seen.paths) >= 20)
        workers = [k for k in psutil.Process(proc.pid).children() if "spawn_main" in " ".join(k.cmdline())]
        workers[0].kill()
    finally:
        out, err = await stop(proc)
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "ended before the run did" in err and "Transactions:" in err


def test_a_latency_below_zero_counts_as_zero():
    # a clock that steps back (an injected one) must not index the compiled recorder's
    # C array of small latencies below its start: it counts as 0 (the 1 us bucket)
    clock = Clock()
    st = Stats(clock)
    st.record(200, -0.001, 10)
    st.record(200, 0.002, 10)
    assert st.transactions == 2 and st.total_time == pytest.approx(0.002)
    assert st.lowest == 0.0 and st.longest == pytest.approx(0.002)
    assert st.hist.get_value_at_percentile(50) <= 1 and st.hist.get_total_count() == 2

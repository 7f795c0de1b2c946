"""`kubelab siege` as a process: output layout, --json, the run log, Ctrl-C."""

import asyncio
import json
import os
import signal
import sys

from tests.loadgen.procs import stop, until

SIEGE_LABELS = ["Transactions:\t\t", "Availability:\t\t", "Elapsed time:\t\t",
                "Data transferred:\t", "Response time:\t\t", "Transaction rate:\t",
                "Throughput:\t\t", "Concurrency:\t\t", "Successful transactions:",
                "Failed transactions:\t", "Longest transaction:\t", "Shortest transaction:\t"]


def runs(state_dir):
    """The run summaries in the run log (one per finished run)."""
    p = state_dir / "kubelab" / "runs.jsonl"
    lines = [json.loads(line) for line in p.read_text().splitlines()] if p.exists() else []
    return [r for r in lines if r["kind"] == "siege"]


async def test_verbose_lines_and_summary_in_siege_layout(server, siege_cli):
    rc, out, err = await siege_cli(["-c2", "-r3", "-v", server.url("/missing")])
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 6
    for line in lines:  # "HTTP/1.1 404     0.00 secs:       4 bytes ==> GET  /missing"
        assert line.startswith("HTTP/1.1 404     ") and line.endswith(
            " secs:       4 bytes ==> GET  /missing")
    assert err.startswith("** kubelab siege") and "The server is now under siege...\n" in err
    summary = err.split("\nTransactions:")[1]
    got = ["Transactions:" + summary.split("\n")[0]] + summary.split("\n")[1:12]
    for label, line in zip(SIEGE_LABELS, got):
        assert line.startswith(label)
        assert len(line.expandtabs(8)) >= 36  # values right-aligned to column 36 as siege
    assert "Transactions:\t\t           6 hits" in err
    assert "Successful transactions:           0" in err   # 404 is a hit, not a success
    assert "Lifting the server siege" not in err            # only timed or interrupted runs
    assert "\r" not in err and "\x1b" not in err            # no progress bar, no colour when piped
    (record,) = runs(siege_cli.state_dir)
    assert record["kind"] == "siege" and record["argv"][-1] == server.url("/missing")
    assert record["result"]["transactions"] == 6 and record["result"]["status_codes"] == {"404": 6}


async def test_verbose_lines_show_the_whole_url_for_other_methods(server, siege_cli):
    # siege's url_get_display: the path for a GET, the URL as given otherwise
    # (document 004: "HTTP/1.1 201 0.51 secs: 257 bytes ==> POST http://customer:8080/customers")
    url = server.url("/missing")
    rc, out, err = await siege_cli(["-c1", "-r2", "-v", f"{url} POST {{}}"])
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and all(line.endswith(f" bytes ==> POST {url}") for line in lines), lines


async def test_json_document(server, siege_cli):
    rc, out, err = await siege_cli(["-c2", "-t1S", "--json", "--no-log", server.url("/ok")])
    assert rc == 0, err
    doc = json.loads(out)
    for key in ("transactions", "availability", "elapsed_time", "data_transferred",
                "response_time", "transaction_rate", "throughput", "concurrency",
                "successful_transactions", "failed_transactions", "longest_transaction",
                "shortest_transaction", "latency", "status_codes", "errors", "series"):
        assert key in doc
    assert doc["transactions"] == doc["status_codes"]["200"] > 0
    assert set(doc["latency"]) == {"p50", "p90", "p95", "p99", "p99.9", "max", "mean"}
    assert doc["series"] and {"t", "requests", "transactions", "p50", "p99"} <= set(doc["series"][0])
    assert err == ""  # --json: stdout carries the document, stderr stays quiet
    assert runs(siege_cli.state_dir) == []


async def test_time_without_unit_warns(server, siege_cli):
    # -t 0.02 has no unit: 0.02 minutes = 1.2 s, with siege's reading spelled out
    rc, out, err = await siege_cli(["-c1", "-t", "0.02", server.url("/ok")])
    assert rc == 0 and "reading it as 0.02 minutes" in err
    assert "\nLifting the server siege...\nTransactions:" in err


async def test_ctrl_c_prints_the_summary_and_logs_the_run(server, siege_cli):
    proc = await siege_cli.start(["-c2", "-t60S", server.url("/ok")])
    try:  # until load is flowing
        assert await until(lambda: len(server.seen.paths) >= 10 or proc.returncode is not None)
        assert len(server.seen.paths) >= 10
    finally:
        out, err = await stop(proc, signal.SIGINT)
    assert proc.returncode == 0, err
    assert "Lifting the server siege..." in err and "Traceback" not in err
    hits = int(err.split("Transactions:")[1].split("hits")[0])
    assert 10 <= hits <= len(server.seen.paths)
    (record,) = runs(siege_cli.state_dir)
    assert record["result"]["interrupted"] and record["result"]["transactions"] == hits


async def test_failure_threshold_message(refused_port, siege_cli):
    rc, out, err = await siege_cli(["-c1", "-r50", "--failures=3",
                                    f"http://127.0.0.1:{refused_port}/"])
    assert rc == 0
    assert "siege aborted due to excessive socket failure; you\n" in err
    assert "Failed transactions:\t           3" in err
    assert err.count("[error] socket: unable to connect: Connection refused") == 3


def test_no_textual_import():
    # the load generator must not pull the UI toolkit in (import-linter says so too)
    code = ("import sys, console.loadgen.cli, console.loadgen.worker; "
            "sys.exit('textual' in sys.modules)")
    import subprocess
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


async def test_closed_stdout_ends_the_run(server, siege_cli, tmp_path):
    # `kubelab siege -v URL | head -3`, with no -t/-r: only the closed pipe can end it
    import shlex
    err_file = tmp_path / "err.txt"
    cmd = (f"{shlex.quote(sys.executable)} -m console.cli siege -c2 -v {server.url('/ok')} "
           f"2>{shlex.quote(str(err_file))} | head -3")
    proc = await asyncio.create_subprocess_shell(
        cmd, env=siege_cli.env(), cwd=siege_cli.cwd, stdout=asyncio.subprocess.PIPE)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert out.decode().count("HTTP/1.1 200") == 3
    err = err_file.read_text()
    assert "Lifting the server siege..." in err and "Traceback" not in err
    assert "Errors:\t\t\tnone" in err  # the closed pipe is not the server's failure


async def test_progress_bar_on_a_terminal_only(server, siege_cli):
    import pty
    import subprocess
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "console.cli", "siege", "-c2", "-t2S",
                             "--no-log", server.url("/ok")], stdin=slave, stdout=slave,
                            stderr=slave, env=siege_cli.env(TERM="xterm"), cwd=siege_cli.cwd)
    os.close(slave)
    seen = b""
    try:
        while True:  # read the terminal until the process closes it
            try:
                chunk = await asyncio.wait_for(asyncio.to_thread(os.read, master, 65536), 60)
            except OSError:  # EIO: the other side is gone
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        await asyncio.to_thread(proc.wait, 30)
    text = seen.decode(errors="replace")
    assert proc.returncode == 0
    assert "avail 100.00 %" in text and "req" in text   # the bar's live line
    assert "Transactions:" in text                      # then siege's summary


async def test_connect_to_keeps_the_host_header(server, siege_cli):
    # curl's --connect-to: the in-pod siege reaches a Service's name through a
    # loopback listener of the pod's own, and the app still sees `order:8080`
    rc, out, err = await siege_cli(["-c1", "-r2", "--no-log", "-v",
                                    f"--connect-to=order:8080:127.0.0.1:{server.port}",
                                    "http://order:8080/ok"])
    assert rc == 0, err
    assert out.count("HTTP/1.1 200") == 2 and set(server.seen.hosts) == {"order:8080"}
    rc, out, err = await siege_cli(["-c1", "-r1", "--no-log", "--connect-to=nohost",
                                    "http://order:8080/ok"])
    assert rc == 2 and "--connect-to 'nohost': expected HOST1:PORT1:HOST2:PORT2" in err

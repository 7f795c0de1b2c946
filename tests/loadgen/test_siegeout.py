"""Real siege output (Debian's siege 4.0.7, captured in tests/loadgen/data) read into
the fields kubelab's engine gives: -v lines as they come, the classic summary,
the JSON form, colours, aborts; siege 3.x and 2.x wordings; any chunking."""

from pathlib import Path

import pytest

from console.loadgen.options import parse_line
from console.loadgen.siegeout import SiegeOutput, error_kind

DATA = Path(__file__).parent / "data"
FIELDS = {"transactions", "availability", "elapsed_time", "data_transferred", "response_time",
          "transaction_rate", "throughput", "concurrency", "successful_transactions",
          "failed_transactions", "longest_transaction", "shortest_transaction", "requests",
          "latency", "status_codes", "errors", "series", "aborted"}


def read(name: str, chunk: int = 0) -> SiegeOutput:
    out = SiegeOutput()
    for part in ("stdout", "stderr"):
        path = DATA / f"{name}.{part}"
        if not path.exists():
            continue
        text = path.read_text()
        pieces = [text] if not chunk else [text[i:i + chunk] for i in range(0, len(text), chunk)]
        for piece in pieces:
            out.feed(piece)
    out.close()
    return out


SPEC = parse_line("-c2 -t2S http://127.0.0.1:18931/")


@pytest.mark.parametrize("chunk", [0, 1, 7, 4096])
def test_a_timed_run_lines_then_summary_whatever_the_chunks(chunk):
    out = read("siege-4.0.7-timed", chunk)
    assert out.version == "4.0.7" and out.lines == 40
    snap = out.snapshot()
    assert snap["transactions"] == 40 and snap["status_codes"] == {"200": 40}
    assert snap["latency"]["p50"] is not None
    r = out.result(SPEC)
    assert FIELDS <= set(r)
    # siege's own figures win over the 40 lines kept in the fixture
    assert (r["transactions"], r["availability"], r["elapsed_time"]) == (1871, 100.0, 1.99)
    assert (r["successful_transactions"], r["failed_transactions"]) == (1871, 0)
    assert r["transaction_rate"] == 940.2 and r["concurrency"] == 1.97
    assert r["siege"] == {"version": "4.0.7", "verbose_lines": 40, "summary": True}
    assert out.summary_text().startswith("Transactions:\t\t        1871 hits\n")
    assert "Shortest transaction:\t        0.00" in out.summary_text()


def test_colours_and_4xx_count_as_siege_counts_them():
    out = read("siege-4.0.7-color-404")
    r = out.result(SPEC)
    assert r["status_codes"] == {"404": 2}
    assert (r["transactions"], r["availability"], r["successful_transactions"]) == (2, 100.0, 0)


def test_5xx_are_failed_transactions_not_hits():
    r = read("siege-4.0.7-500").result(SPEC)
    assert (r["transactions"], r["failed_transactions"], r["availability"]) == (0, 3, 0.0)
    assert r["status_codes"] == {"500": 3}


def test_an_aborted_run_with_socket_errors():
    out = read("siege-4.0.7-aborted")
    r = out.result(SPEC)
    assert r["aborted"] and r["failed_transactions"] == 1027
    assert r["errors"] == {"refused": 11}           # the error lines kept in the fixture
    assert out.summary_text().startswith("siege aborted due to excessive socket failure; you\n")


def test_the_json_form_and_its_quirk_of_no_verbose_lines():
    out = read("siege-4.0.7-json")
    r = out.result(SPEC)
    assert out.lines == 0 and out.done
    assert (r["transactions"], r["transaction_rate"], r["longest_transaction"]) == (1984, 1002.02, 0.01)
    assert r["latency"]["p50"] is None and r["series"] == []


def test_older_and_newer_wordings_and_a_tty():
    out = SiegeOutput()
    out.feed("** SIEGE 3.0.8\r\n** Preparing 1 concurrent users for battle.\r\n"
             "HTTP/1.1 200   0.02 secs:     612 bytes ==> GET  /orders\r\n"        # 3.x
             "HTTP/1.1 503   0.01 secs:      19 bytes ==> /orders\r\n"             # 2.x: no method
             "[Tue, 01 Dec 2026 10:00:00] HTTP/1.1 200     0.03 secs:     612 bytes ==> GET  /\r\n"
             "\x1b[0;34mHTTP/1.1 201     0.04 secs:      40 bytes ==> POST http://order:8080/orders\x1b[0m\r\n"
             "[error] socket: read error Connection reset by peer sock.c:539: Connection reset by peer\r\n"
             "Lifting the server siege...      done.\r\n\r\nTransactions:\t\t           3 hits\r\n"
             "Availability:\t\t       60.00 %\r\nFailed transactions:\t           2\r\n")
    out.close()
    r = out.result(SPEC)
    assert out.version == "3.0.8" and out.lines == 4
    assert r["status_codes"] == {"200": 2, "201": 1, "503": 1}
    assert r["errors"] == {"reset": 1}
    assert (r["transactions"], r["availability"], r["failed_transactions"]) == (3, 60.0, 2)


def test_error_kinds():
    assert error_kind("unable to connect sock.c:282: Connection refused") == "refused"
    assert error_kind("socket: read error Connection timed out sock.c:479") == "timeout"
    assert error_kind("Address family not supported") == "socket"

"""Reading a real siege's output as it comes: -v lines into live statistics, and
its closing summary (classic or JSON) into the same result fields kubelab's own
engine gives, so the Load pane and `load` checks cannot tell the paths apart.

    out = SiegeOutput()
    out.feed(chunk)              # stdout and stderr, or a tty's mix, in any pieces
    out.snapshot()               # live figures, as Engine.snapshot()
    out.result(spec)             # at the end, as Engine.result()

What siege prints (4.0.7, Debian's; 3.x and 4.1 word it the same unless noted):
  -v, stdout   HTTP/1.1 200     0.01 secs:     518 bytes ==> GET  /orders
               (2.x has no method; `timestamp = true` puts "[date] " first; on a
               terminal each line is wrapped in a colour)
  stderr       [error] socket: unable to connect sock.c:282: Connection refused
               ** SIEGE 4.0.7 / ** Preparing 2 concurrent users for battle. /
               The server is now under siege... / Lifting the server siege...
               [3.x: "... done."] / siege aborted due to excessive socket failure
  summary      Transactions:		        1871 hits ... Shortest transaction: 0.00
  -j / json_output = true (the default of 4.0.7's siegerc template!)
               {"transactions": 1984, "availability": 100.00, ...} on stdout, and
               then no -v lines at all.
siege's figures win over what the -v lines added up to (they may be cut short
or switched off); percentiles, codes, errors and the per-second series come from
the lines, so they are empty when siege printed none.
"""

from __future__ import annotations

import json
import re
import time

from console.loadgen.stats import Stats

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
VERBOSE = re.compile(r"^(?:\[[^\]]*\]\s+)?HTTP/(\d(?:\.\d)?)\s+(\d{3})\S*\s+([\d.]+)\s+secs:\s+"
                     r"(\d+)\s+bytes\s+==>\s*(?:([A-Z]+)\s+)?(\S+)?")
SOCKET = re.compile(r"^\[(?:error|alert|fatal)\]\s+(?:socket: )?(.*)$")
SUMMARY = {
    "Transactions": "transactions", "Availability": "availability",
    "Elapsed time": "elapsed_time", "Data transferred": "data_transferred",
    "Response time": "response_time", "Transaction rate": "transaction_rate",
    "Throughput": "throughput", "Concurrency": "concurrency",
    "Successful transactions": "successful_transactions",
    "Failed transactions": "failed_transactions",
    "Longest transaction": "longest_transaction", "Shortest transaction": "shortest_transaction",
}
INTEGER = {"transactions", "successful_transactions", "failed_transactions"}
SUMMARY_LINE = re.compile(r"^(" + "|".join(SUMMARY) + r"):\s+(-?[\d.]+)")


def error_kind(detail: str) -> str:
    """siege's socket message -> the kinds kubelab's engine counts (failures.py)."""
    text = detail.lower()
    for needle, kind in (("refused", "refused"), ("reset", "reset"), ("timed out", "timeout"),
                         ("timeout", "timeout"), ("resolve", "dns"), ("unknown host", "dns"),
                         ("broken pipe", "reset"), ("closed", "closed")):
        if needle in text:
            return kind
    return "socket"


class SiegeOutput:
    def __init__(self, clock=time.perf_counter):
        self.stats = Stats(clock)
        self.summary: dict = {}          # siege's own figures, once printed
        self.version = ""                # "4.0.7" from "** SIEGE 4.0.7"
        self.aborted = False
        self.lines = 0                   # -v lines seen
        self.text: list[str] = []        # everything but the -v lines, for the summary pane
        self._buf = ""
        self._json: list[str] | None = None

    @property
    def done(self) -> bool:
        return bool(self.summary)

    # -- input -----------------------------------------------------------------------
    def feed(self, chunk: str | bytes) -> None:
        if isinstance(chunk, bytes):
            chunk = chunk.decode("utf-8", "replace")
        self._buf += chunk
        *lines, self._buf = self._buf.split("\n")
        for line in lines:
            self._line(line)

    def close(self) -> None:
        """The stream ended: a last line without its newline counts too."""
        if self._buf:
            self._line(self._buf)
            self._buf = ""
        if self._json is not None:
            self._parse_json()

    def _line(self, raw: str) -> None:
        line = ANSI.sub("", raw).replace("\r", "").rstrip()
        if self._json is not None:
            self._json.append(line)
            if line.strip().endswith("}"):
                self._parse_json()
            return
        if line.lstrip().startswith("{"):
            self._json = [line]
            if line.strip().endswith("}"):
                self._parse_json()
            return
        m = VERBOSE.match(line.strip())
        if m:
            self.lines += 1
            self.stats.record(int(m.group(2)), float(m.group(3)), int(m.group(4)))
            return
        m = SOCKET.match(line.strip())
        if m:
            self.stats.error(error_kind(m.group(1)))
            self.text.append(line)
            return
        m = SUMMARY_LINE.match(line.strip())
        if m:
            key = SUMMARY[m.group(1)]
            self.summary[key] = int(float(m.group(2))) if key in INTEGER else float(m.group(2))
        elif line.startswith("** SIEGE "):
            self.version = line[len("** SIEGE "):].strip()
        elif "aborted due to excessive socket failure" in line:
            self.aborted = True
        self.text.append(line)

    def _parse_json(self) -> None:
        text, self._json = "\n".join(self._json or []), None
        try:
            data = json.loads(text)
        except ValueError:
            self.text.append(text)
            return
        if isinstance(data, dict):
            for key in SUMMARY.values():
                if isinstance(data.get(key), (int, float)):
                    self.summary[key] = int(data[key]) if key in INTEGER else float(data[key])

    # -- output ----------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Live figures in Engine.snapshot()'s shape (from the -v lines)."""
        st = self.stats
        series = st.tick()
        t = st.transactions
        last = series[-1] if series else None
        return {"elapsed": round(st.elapsed, 3), "requests": t + st.failed, "transactions": t,
                "successful": st.successful, "failed": st.failed,
                "availability": round(t / (t + st.failed) * 100, 2) if t else 0.0,
                "rps": float(last["requests"]) if last else 0.0,
                "latency": st.percentiles(), "last_second": last,
                "status_codes": {str(k): v for k, v in sorted(st.codes.items())},
                "errors": dict(st.errors), "in_flight": 0, "late_sends": 0,
                "dropped_sends": 0, "cpu_percent": None}

    def result(self, spec, interrupted: bool = False) -> dict:
        """Engine.result()'s fields: siege's own summary where it printed one."""
        st = self.stats
        st.finish()
        out = st.siege()
        out.update(st.extras())
        out.update(self.summary)
        out.update({"mode": "closed", "rate": None, "concurrent": spec.concurrent,
                    "reps": spec.reps, "seconds": spec.seconds, "keepalive": None,
                    "aborted": self.aborted, "interrupted": interrupted,
                    "started_at": None, "generator_cpu_percent": None,
                    "urls": [t.url if t.method == "GET" else f"{t.url} {t.method}"
                             for t in spec.targets],
                    "series": st.series, "bottleneck": None,
                    "siege": {"version": self.version, "verbose_lines": self.lines,
                              "summary": bool(self.summary)}})
        if self.summary.get("elapsed_time"):
            t = out["transactions"] + out["failed_transactions"]
            out["request_rate"] = t / out["elapsed_time"]
        return out

    def summary_text(self) -> str:
        """siege's own closing words, as it printed them (the -v lines left out)."""
        keep = [ln for ln in self.text if ln.strip() and not SOCKET.match(ln.strip())]
        start = next((i for i, ln in enumerate(keep) if SUMMARY_LINE.match(ln.strip())
                      or "aborted due to" in ln), len(keep))
        return "\n".join(keep[start:]) + ("\n" if keep[start:] else "")

"""siege's closing summary, field for field and tab for tab (siege 4.0.x), then the extras.

siege writes `Label:<tabs>%12.2f unit` so that values line up at column 24 on an
8-column terminal; the labs quote these lines, so we print the same bytes.
"""

from __future__ import annotations

import json


def _label(text: str) -> str:
    """'Label:' followed by the tabs siege uses to reach column 24."""
    text += ":"
    return text + "\t" * max(0, 3 - len(text) // 8)


SIEGE_LINES = (
    ("Transactions", "transactions", "{:12d} hits"),
    ("Availability", "availability", "{:12.2f} %"),
    ("Elapsed time", "elapsed_time", "{:12.2f} secs"),
    ("Data transferred", "data_transferred", "{:12.2f} MB"),
    ("Response time", "response_time", "{:12.2f} secs"),
    ("Transaction rate", "transaction_rate", "{:12.2f} trans/sec"),
    ("Throughput", "throughput", "{:12.2f} MB/sec"),
    ("Concurrency", "concurrency", "{:12.2f}"),
    ("Successful transactions", "successful_transactions", "{:12d}"),
    ("Failed transactions", "failed_transactions", "{:12d}"),
    ("Longest transaction", "longest_transaction", "{:12.2f}"),
    ("Shortest transaction", "shortest_transaction", "{:12.2f}"),
)


def siege_block(result: dict) -> str:
    """Exactly what siege prints to stderr at the end (leading blank line included)."""
    lines = [""]
    for label, key, fmt in SIEGE_LINES:
        lines.append(_label(label) + fmt.format(result[key]))
    return "\n".join(lines) + "\n \n"


def _ms(value: float | None) -> str:
    return "{:12.2f} ms".format(value * 1000) if value is not None else "{:>12} ms".format("-")


def extras_block(result: dict) -> str:
    """What siege lacks: connection mode, latency percentiles, codes, error kinds."""
    lat = result["latency"]
    lines = [_label("Connections") + "{:>12}".format(
        "keep-alive" if result["keepalive"] else "close")]
    if result["mode"] == "open":
        lines.append(_label("Target rate") + "{:12.2f} req/sec".format(result["rate"]))
        lines.append(_label("Achieved rate") + "{:12.2f} req/sec".format(result["request_rate"]))
        lines.append(_label("Late sends") + "{:12d}".format(result["late_sends"]))
        lines.append(_label("Dropped sends") + "{:12d}".format(result["dropped_sends"]))
        why = BOTTLENECK.get(result.get("bottleneck"))
        if why:
            lines.append(_label("Bottleneck") + why.format(c=result["concurrent"]))
    cpu = result.get("generator_cpu_percent")
    if cpu is not None:
        n = result.get("workers") or 1
        note = f"  ({n} processes)" if n > 1 else ""
        if cpu / n >= 90:
            note += "  (saturated: the generator is the limit)"
        lines.append(_label("Generator CPU") + "{:12.1f} %".format(cpu) + note)
    for key in ("p50", "p90", "p95", "p99", "p99.9", "max"):
        lines.append(_label(f"Latency {key}") + _ms(lat[key]))
    codes = result["status_codes"]
    lines.append(_label("Status codes") + ("  ".join(f"{c}: {n}" for c, n in codes.items())
                                            if codes else "none"))
    errors = result["errors"]
    lines.append(_label("Errors") + ("  ".join(f"{k}: {n}" for k, n in errors.items())
                                      if errors else "none"))
    return "\n".join(lines) + "\n"


BOTTLENECK = {
    "generator": "  the generator: it could not send at this rate (the server was not the limit)",
    "in-flight": "  -c {c}: every in-flight slot was busy (raise -c, or the server is too slow)",
}

ABORT = ("siege aborted due to excessive socket failure; you\n"
         "can change the failure threshold with --failures (now {n})\n")


def text(result: dict, failures: int) -> str:
    out = ABORT.format(n=failures) if result["aborted"] else ""
    return out + siege_block(result) + extras_block(result)


def as_json(result: dict) -> str:
    return json.dumps(result, indent=2)


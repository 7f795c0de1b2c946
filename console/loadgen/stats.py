"""siege's counting, plus what siege lacks: an HDR histogram, codes, error kinds, a series.

siege (src/browser.c, src/main.c, src/data.c) counts like this, and so do we:
- a response with 408 or 5xx: its time and bytes are counted, it is a *failed*
  transaction and not a transaction ("hits");
- any other response (2xx, 3xx, 4xx) is a transaction; it is *successful* when the
  code is below 400, or 401/407 (auth challenges);
- a socket error (refused, reset, timeout) is a failed transaction, with no time;
- Availability = transactions / (transactions + failed) * 100;
- Response time = total response time / transactions (5xx time included);
- Concurrency = total response time / elapsed;
- Shortest transaction is 0 when nothing succeeded.
"""

from __future__ import annotations

import math
import time
from collections import Counter

from hdrh.histogram import HdrHistogram

from console.loadgen.core import Recorder

PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)
_US = 1_000_000
_SERIES_SAMPLE = 20_000  # latencies kept per second for that second's percentiles


def is_failed_code(code: int) -> bool:
    return code == 408 or code >= 500


def is_success_code(code: int) -> bool:
    return code < 400 or code in (401, 407)


def _histogram() -> HdrHistogram:
    return HdrHistogram(1, 3600 * _US, 3)  # 1 us .. 1 h, 3 significant digits


class _Second:
    __slots__ = ("responses", "transactions", "failed", "errors", "bytes", "lat")

    def __init__(self):
        self.responses = self.transactions = self.failed = self.errors = self.bytes = 0
        self.lat: list[float] = []

    def raw(self, t: int) -> tuple:
        """This second as another process sends it, to be added up before it is closed."""
        return (t, self.responses, self.transactions, self.failed, self.errors, self.bytes,
                self.lat)

    def add(self, raw: tuple) -> None:
        _, responses, transactions, failed, errors, nbytes, lat = raw
        self.responses += responses
        self.transactions += transactions
        self.failed += failed
        self.errors += errors
        self.bytes += nbytes
        self.lat += lat

    def close(self, t: int) -> dict:
        lat = sorted(self.lat)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(len(lat) * p / 100))], 6) if lat else None

        total = self.transactions + self.failed
        return {"t": t, "requests": self.responses + self.errors,
                "transactions": self.transactions, "failed": self.failed,
                "errors": self.errors, "bytes": self.bytes,
                "availability": round(self.transactions / total * 100, 2) if total else None,
                "p50": pct(50), "p99": pct(99), "max": round(lat[-1], 6) if lat else None}


def _setter(name: str):
    def put(self, value) -> None:
        self._taken_in()
        setattr(self, name, value)
    return put


_SUMS = ("transactions", "successful", "failed", "total_time", "bytes", "late", "dropped",
         "slot_waits")


class Stats(Recorder):
    """Everything a run measured. record()/error() are the hot path: keep them cheap.

    A run split over processes (pool.py) is one Stats per process, each sending
    state() and its raw seconds (streamed=True); the coordinator's Stats is made of
    those by merge() and a SeriesMerge, so it answers exactly as one process would.
    """

    def __init__(self, clock=time.perf_counter, streamed: bool = False,
                 start: float | None = None):
        super().__init__()
        self.clock = clock
        self.start = clock() if start is None else start
        self.stop_time: float | None = None
        self._transactions = 0      # siege's "hits"
        self._successful = 0
        self._failed = 0
        self._codes: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self._hist = _histogram()
        self._last_kept = False
        self.late = 0               # open loop: sends that left after their intended time
        self.dropped = 0            # open loop: sends given up before they could leave
        self.slot_waits = 0         # open loop: sends that waited for a free in-flight slot
        self.series: list[dict] = []
        # streamed: closed seconds are kept raw for the coordinator, not closed here
        self.outbox: list[tuple] | None = [] if streamed else None
        self._sec_index = 0
        self._sec = _Second()
        self._next = self.start + 1  # when the current second ends (-inf once finished)

    # Totals: what the lists hold is added in first.
    transactions = property(lambda self: self._taken_in()._transactions, _setter("_transactions"))
    successful = property(lambda self: self._taken_in()._successful, _setter("_successful"))
    failed = property(lambda self: self._taken_in()._failed, _setter("_failed"))
    total_time = property(lambda self: self._taken_in()._total_time, _setter("_total_time"))
    bytes = property(lambda self: self._taken_in()._bytes, _setter("_bytes"))
    longest = property(lambda self: self._taken_in()._longest)
    lowest = property(lambda self: self._taken_in()._lowest)
    codes = property(lambda self: self._taken_in()._codes)

    # -- recording -------------------------------------------------------------
    def _second(self, now: float) -> _Second:
        idx = int(now - self.start)
        while idx > self._sec_index:  # close every second up to now, even quiet ones
            self._close_second()
            self._sec_index += 1
            self._sec = _Second()
        self._next = self.start + self._sec_index + 1
        return self._sec

    def _close_second(self) -> None:
        self._take_in()
        sec = self._sec
        sec.lat = self._lat[:_SERIES_SAMPLE]
        self._lat.clear()
        self._code.clear()
        self._nb.clear()
        self._taken = 0
        if self.outbox is None:
            self.series.append(sec.close(self._sec_index))
        else:
            self.outbox.append(sec.raw(self._sec_index))

    def _take_in(self) -> None:
        """Add the answers recorded since the last call to the totals, the current
        second and the histogram's pending buckets (Recorder._tally)."""
        got = self._tally()
        if got is None:
            return
        count, nbytes, codes = got
        sec = self._sec
        sec.responses += count
        sec.bytes += nbytes
        self._codes.update(codes)
        for code, n in codes.items():
            if is_success_code(code):
                self._successful += n
                self._transactions += n
                sec.transactions += n
            elif is_failed_code(code):
                self._failed += n
                sec.failed += n
            else:
                self._transactions += n
                sec.transactions += n

    def _taken_in(self) -> Stats:
        self._take_in()
        return self

    @property
    def closed_seconds(self) -> int:
        """How many seconds from the start are closed (shipped, when streamed)."""
        return self._sec_index + (1 if self.stop_time is not None and self._last_kept else 0)

    def tick(self, now: float | None = None) -> list[dict]:
        """Close the seconds that have passed (quiet ones too); the series so far."""
        if self.stop_time is None:
            self._second(self.clock() if now is None else now)
        return self.series

    def error(self, kind: str, now: float | None = None) -> None:
        if self.stop_time is not None:
            return
        sec = self._second(self.clock() if now is None else now)
        self._failed += 1
        self.errors[kind] += 1
        sec.errors += 1
        sec.failed += 1

    def finish(self) -> None:
        if self.stop_time is None:
            self.stop_time = self.clock()
            self._second(self.stop_time)
            self._next = -math.inf  # record() from now on: too late
            self._last_kept = bool(self._lat or self._sec.errors)
            if self._last_kept:  # the last, partial second counts when something happened in it
                self._close_second()
                self._sec = _Second()

    # -- reading ---------------------------------------------------------------
    @property
    def elapsed(self) -> float:
        """Seconds since the start (0 before it: a pool's common start is a moment ahead)."""
        return max(0.0, (self.stop_time if self.stop_time is not None else self.clock())
                   - self.start)

    @property
    def hist(self) -> HdrHistogram:
        """Every latency so far, in microseconds."""
        self._fold()
        return self._hist

    def _fold(self) -> None:
        self._take_in()
        for v, n in self._pour().items():
            self._hist.record_value(v, n)

    def percentiles(self) -> dict[str, float | None]:
        hist = self.hist
        n = hist.get_total_count()
        values = hist.get_percentile_to_value_dict(list(PERCENTILES)) if n else {}
        out: dict[str, float | None] = {}
        for p in PERCENTILES:
            key = "p" + (f"{p:g}" if p % 1 else str(int(p)))
            out[key] = values[p] / _US if n else None
        out["max"] = hist.get_max_value() / _US if n else None
        out["mean"] = hist.get_mean_value() / _US if n else None
        return out

    # -- merging (pool.py) --------------------------------------------------------
    def take_seconds(self) -> list[tuple]:
        """The raw seconds closed since the last call (streamed Stats only)."""
        out, self.outbox = self.outbox, []
        return out

    def state(self, hist: bool = True) -> dict:
        """Every figure, picklable, for merge() in another process; `hist`: with the
        latency histogram (HdrHistogram's encoding), which costs a fold and an encode."""
        out = {k: getattr(self, k) for k in _SUMS}
        out.update(start=self.start, stop_time=self.stop_time, longest=self.longest,
                   lowest=self.lowest, codes=dict(self.codes), errors=dict(self.errors))
        if hist:
            out["hist"] = self.hist.encode()
        return out

    def merge(self, state: dict) -> None:
        """Add another process's state() to this one (the same run, the same start)."""
        for k in _SUMS:
            setattr(self, k, getattr(self, k) + state[k])
        self._longest = max(self.longest, state["longest"])
        low = state["lowest"]
        if low >= 0 and (self._lowest < 0 or low < self._lowest):
            self._lowest = low
        self.codes.update(state["codes"])
        self.errors.update(state["errors"])
        if state.get("hist"):
            self.hist.decode_and_add(state["hist"])
        stop = state["stop_time"]
        if stop is not None and (self.stop_time is None or stop > self.stop_time):
            self.stop_time = stop

    def siege(self) -> dict:
        """siege's twelve figures, computed as siege computes them (unrounded)."""
        el = self.elapsed
        t, f = self.transactions, self.failed
        return {
            "transactions": t,
            "availability": t / (t + f) * 100 if t else 0.0,
            "elapsed_time": el,
            "data_transferred": self.bytes / (1024 * 1024),
            "response_time": self.total_time / t if t and self.total_time else 0.0,
            "transaction_rate": t / el if t and el else 0.0,
            "throughput": self.bytes / (el * 1024 * 1024) if el else 0.0,
            "concurrency": self.total_time / el if el else 0.0,
            "successful_transactions": self.successful,
            "failed_transactions": f,
            "longest_transaction": self.longest,
            "shortest_transaction": self.lowest if self.successful and self.lowest > 0 else 0.0,
        }

    def extras(self) -> dict:
        n = self.transactions + self.failed
        return {
            "requests": sum(self.codes.values()) + sum(self.errors.values()),
            "latency": self.percentiles(),
            "status_codes": {str(k): v for k, v in sorted(self.codes.items())},
            "errors": dict(sorted(self.errors.items())),
            "late_sends": self.late,
            "dropped_sends": self.dropped,
            "slot_waits": self.slot_waits,
            "request_rate": n / self.elapsed if self.elapsed else 0.0,
        }


class SeriesMerge:
    """The per-second series of a run split over processes: each sends its raw seconds
    as they close (Stats.take_seconds) and how many it has closed; a second is closed
    here, added up, once every process still running has closed it, so the series
    only grows, as one process's does."""

    def __init__(self, workers: int):
        self.series: list[dict] = []
        self._open: dict[int, _Second] = {}
        self._closed = [0] * workers
        self._going = set(range(workers))

    def add(self, worker: int, raws: list[tuple], closed: int, final: bool = False) -> None:
        """`final`: that process has ended (its last seconds are in `raws`)."""
        for raw in raws:
            sec = self._open.get(raw[0])
            if sec is None:
                sec = self._open[raw[0]] = _Second()
            sec.add(raw)
        self._closed[worker] = max(self._closed[worker], closed)
        if final:
            self._going.discard(worker)
        self._close(min(self._closed[w] for w in self._going) if self._going
                    else max(self._closed))

    def finish(self) -> list[dict]:
        """Every process has ended: close all that any of them closed."""
        self._close(max(self._closed, default=0))
        return self.series

    def _close(self, upto: int) -> None:
        for t in range(len(self.series), upto):
            self.series.append((self._open.pop(t, None) or _Second()).close(t))


def bottleneck(result: dict) -> str | None:
    """What held an open-loop run below its --rate: "generator", "in-flight", or None.

    From the result's figures alone (so merged statistics give the same answer): more
    than 1 % of arrivals late or dropped means the rate was not met; a generator near
    a whole core (per worker process) is the limit itself, otherwise a cap (-c) whose
    slots were all busy (a slow server) when sends had to wait for one.
    """
    if result.get("mode") != "open":
        return None
    late, dropped = result["late_sends"], result["dropped_sends"]
    arrivals = result["requests"] + dropped
    if not arrivals or late + dropped <= arrivals / 100:
        return None
    cpu = (result.get("generator_cpu_percent") or 0) / (result.get("workers") or 1)
    if cpu >= 90 or not result.get("slot_waits"):
        return "generator"
    return "in-flight"

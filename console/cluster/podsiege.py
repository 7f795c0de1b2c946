"""A load run inside the lab's siege pod: `kubectl exec -it siege -- siege -v ...`,
its output read as it comes (console/loadgen/siegeout.py).

It has the load worker's face (running, snapshots(), stop(), result(timeout),
error), so LoadRuns treats both paths alike. It runs on a terminal, as a person
would run it, so that stop() can type ^C and siege still prints its summary;
`-v` is added when missing, for live figures. The run is written to the run log
from here (source "siege-pod"), second by second, like the worker's.
"""

from __future__ import annotations

import re
import shlex
import threading
import time

from console.errors import UsageError

# kubelab siege's own options: a real siege would refuse them
KUBELAB_ONLY = ("--rate", "--no-keepalive", "--timeout", "--failures", "--no-log",
                "--log-bodies", "--no-progress", "--connect-to")
_TIME = re.compile(r"^(\d+(?:\.\d+)?)([SMH]?)$", re.I)


def _scaled_time(value: str, timescale: float) -> str:
    m = _TIME.match(value)
    if not m:
        return value
    seconds = float(m.group(1)) * {"": 60, "S": 1, "M": 60, "H": 3600}[m.group(2).upper()]
    return f"{max(1, round(seconds / timescale))}S"


def _option(a: str, short: str, long_: str) -> bool:
    return a == long_ or a.startswith(long_ + "=") or (a.startswith(short) and not a.startswith("--"))


def pod_argv(text: str, timescale: float = 1.0) -> list[str]:
    """siege's argv for the pod: -v added, -t and -d compressed with the cluster's clock."""
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"siege command line: {exc}") from None
    if argv[:1] == ["siege"]:           # the lab's line as typed: siege -c20 ...
        argv = argv[1:]
    out, args = [], iter(argv)
    for a in args:
        if a.split("=", 1)[0] in KUBELAB_ONLY:
            raise UsageError(f"{a.split('=', 1)[0]} is kubelab siege's own; the siege pod runs "
                             "siege itself")
        for short, long_ in (("-t", "--time"), ("-d", "--delay")):
            if not _option(a, short, long_):
                continue
            value = a.partition("=")[2] if a.startswith("--") else a[2:]
            value = value or next(args, "")
            if timescale != 1 and short == "-t":
                value = _scaled_time(value, timescale)
            elif timescale != 1:
                try:
                    value = f"{float(value.rstrip('Ss')) / timescale:g}"
                except ValueError:
                    pass               # siege says what is wrong with it
            a = f"{long_}={value}" if a.startswith("--") else f"{short}{value}"
            break
        out.append(a)
    # -v, --verbose, or flags bundled with it (-bv)
    if not any(a == "--verbose" or re.fullmatch(r"-[bgipqv]*v[bgipqv]*", a) for a in out):
        out.insert(0, "-v")
    return ["siege", *out]


class PodSiege:
    def __init__(self, conn, pod: str, argv: list[str], spec, route: dict, log: bool = True):
        from console.loadgen.siegeout import SiegeOutput

        self.conn, self.pod, self.argv, self.spec = conn, pod, argv, spec
        self.route = route
        self.out = SiegeOutput()
        self.error: str | None = None
        self._result: dict | None = None
        self._interrupt = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._last_snap = 0.0
        self._log = None
        if log and spec.log:
            try:
                from console.loadgen import runlog
                self._log = runlog.RunLog(spec, source="siege-pod", route=route)
            except OSError:
                self._log = None
        self.thread = threading.Thread(target=self._run, name=f"siege-pod-{pod}", daemon=True)

    def start(self) -> PodSiege:
        self.thread.start()
        return self

    def _feed(self, chunk: str) -> None:
        with self._lock:
            self.out.feed(chunk)

    def _run(self) -> None:
        from console.cluster import execs
        from console.cluster.errors import message_of

        limit = (self.spec.seconds or 3600) + 120
        try:
            res = execs.run(self.conn, self.pod, self.argv, timeout=limit, on_output=self._feed,
                            interrupt=self._interrupt)
            with self._lock:
                self.out.close()
            if not self.out.done:
                tail = (res.output.strip().splitlines() or ["(no output)"])[-1][:300]
                self.error = (f"siege in pod {self.pod} ended without its summary "
                              f"(exit code {res.exit_code}): {tail}")
            else:
                self._result = self.out.result(self.spec, interrupted=self._interrupt.is_set())
                self._result["path"] = self.route
                if self._log is not None:
                    try:
                        self._log.finish(self._result)
                    except OSError:
                        pass
        except Exception as exc:
            self.error = f"siege in pod {self.pod}: {message_of(exc)}"
        finally:
            if self._log is not None and self._result is None:
                self._log.close()
            self._done.set()

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def snapshots(self) -> list[dict]:
        now = time.monotonic()
        if now - self._last_snap < 0.25 or not self.out.lines:
            return []
        self._last_snap = now
        with self._lock:
            snap = self.out.snapshot()
            if self._log is not None:
                try:
                    self._log.seconds(self.out.stats.series)
                except OSError:
                    pass
        return [snap]

    def stop(self) -> None:
        self._interrupt.set()

    def result(self, timeout: float | None = None) -> dict | None:
        self._done.wait(timeout)
        return self._result

    @property
    def summary(self) -> str:
        return self.out.summary_text()

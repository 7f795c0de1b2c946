"""A load run inside a pod: `kubectl exec POD -- siege ARGS`, through the API's exec.

What siege prints is read as it comes: each -v line ("HTTP/1.1 200   0.01 secs: ...")
counts towards live figures, and the closing summary (siege's twelve lines, and
kubelab siege's extras when it is ours) is the result. The same interface as the
load worker (console.loadgen.worker.LoadWorker), so LoadRuns pumps either.
Time is the pod's: -t is not compressed (the siege in the pod keeps its own clock).
"""

from __future__ import annotations

import re
import threading
import time

from console.loadgen import summary

_LINE = re.compile(r"HTTP/\d(?:\.\d)?\s+(\d{3})\s+([\d.]+)\s+secs:")


class PodSiege:
    def __init__(self, conn, pod: str, argv: list[str], spec, timeout: float):
        self.conn, self.pod, self.argv, self.spec = conn, pod, argv, spec
        self.timeout = timeout
        self.error: str | None = None
        self._result: dict | None = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._snaps: list[dict] = []
        self._lock = threading.Lock()
        self._text = ""
        self._t0 = time.monotonic()
        self._codes: dict[str, int] = {}
        self.summary = ""             # siege's closing lines, as it printed them
        self._ok = self._failed = 0

    def start(self) -> PodSiege:
        threading.Thread(target=self._run, name=f"siege-in-{self.pod}", daemon=True).start()
        return self

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def _seen(self, chunk: str) -> None:
        with self._lock:
            self._text += chunk
            for code, _ in _LINE.findall(chunk):
                self._codes[code] = self._codes.get(code, 0) + 1
                if int(code) >= 500 or code == "408":
                    self._failed += 1      # siege's counting: 408 and 5xx fail
                else:
                    self._ok += 1
            t = self._ok
            self._snaps.append({"elapsed": round(time.monotonic() - self._t0, 3),
                                "requests": t + self._failed, "transactions": t, "failed": self._failed,
                                "availability": round(t / (t + self._failed) * 100, 2) if t else 0.0,
                                "status_codes": dict(self._codes), "latency": {}})

    def _run(self) -> None:
        from console.cluster import execs
        from console.cluster.errors import message_of
        try:
            res = execs.run(self.conn, self.pod, ["siege", *self.argv], timeout=self.timeout,
                            on_output=self._seen, stop=self._stop)
            parsed = summary.parse(res.output)
            if parsed is None:
                tail = res.output.strip().splitlines()[-1:] or ["no output"]
                self.error = f"siege in {self.pod} gave no summary (exit {res.exit_code}): {tail[0][:200]}"
            else:
                parsed.setdefault("status_codes", dict(self._codes))
                parsed.setdefault("latency", {})
                parsed.setdefault("errors", {})
                parsed["requests"] = parsed["transactions"] + parsed.get("failed_transactions", 0)
                parsed["pod"] = self.pod
                start = res.output.find("Transactions:")
                self.summary = ("\n" + res.output[start:]) if start >= 0 else res.output
                self._result = parsed
        except Exception as exc:
            self.error = f"siege in {self.pod}: {message_of(exc)}"
        finally:
            self._done.set()

    def snapshots(self) -> list[dict]:
        with self._lock:
            out, self._snaps = self._snaps[-1:], []
        return out

    def stop(self) -> None:
        self._stop.set()

    def result(self, timeout: float | None = None) -> dict | None:
        self._done.wait(timeout)
        return self._result

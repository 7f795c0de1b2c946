"""Does every run end? kubelab siege beside siege, in one run, loopback only.

1. N runs of `-c1 -t1S` against `python3 -m http.server` (HTTP/1.0, a connection per
   request): how many end within 10 s, and their wall times.
2. `--rate 1e6 -t10S` (an open loop no machine reaches): kubelab siege's peak RSS.
3. Time from SIGINT to exit during a `-c10 -t60S` run, both tools.

    .venv/bin/python bench/loadgen/limits.py [N]
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import psutil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KUBELAB = [sys.executable, "-m", "console.cli", "siege", "--no-log", "-q"]
ENV = dict(os.environ, PYTHONPATH=ROOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(cmd, limit=10.0) -> float | None:
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        p.wait(limit)
        return time.monotonic() - t0
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def sigint_to_exit(cmd) -> float:
    p = subprocess.Popen(cmd, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    p.wait(30)
    return time.monotonic() - t0


def peak_rss(cmd, seconds=12.0) -> tuple[int, float]:
    p = subprocess.Popen(cmd, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ps, peak, t0 = psutil.Process(p.pid), 0, time.monotonic()
    while p.poll() is None and time.monotonic() - t0 < seconds + 20:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    if p.poll() is None:
        p.kill()
    p.wait()
    return peak, time.monotonic() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    siege = shutil.which("siege")
    port = free_port()
    root = tempfile.mkdtemp()
    open(os.path.join(root, "index.html"), "w").write("hello\n")
    srv = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)],
                           cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    url = f"http://127.0.0.1:{port}/index.html"
    try:
        tools = {"kubelab siege": KUBELAB}
        if siege:
            tools["siege"] = [siege, "-q"]
        for name, base in tools.items():
            times = [timed(base + ["-c1", "-t1S", url]) for _ in range(n)]
            done = [t for t in times if t is not None]
            print(f"{name:14} -c1 -t1S x{n}: {len(done)}/{n} ended within 10 s; wall "
                  f"min {min(done):.2f} max {max(done):.2f} s" if done else f"{name}: none ended")
        peak, wall = peak_rss(KUBELAB + ["--rate", "1e6", "-t10S", url])
        print(f"kubelab siege  --rate 1e6 -t10S: peak RSS {peak / 2**20:.0f} MB, ended after {wall:.1f} s")
        for name, base in tools.items():
            print(f"{name:14} SIGINT -> exit during -c10 -t60S: "
                  f"{sigint_to_exit(base + ['-c10', '-t60S', url]):.2f} s")
    finally:
        srv.terminate()
        srv.wait()


if __name__ == "__main__":
    main()

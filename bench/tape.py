"""A tape's size and a replay's speed for an L1-like lab run: the order service
(lab L1's manifest and its Service), an HPA of 50 % CPU from 1 to 3 pods, and
siege's 20 users for the whole run, on the embedded cluster, recorded as the
console records (informers, metrics, load, actions on one bus). Then the tape
is read back: its index, a seek to its middle, and a headless export.

    .venv/bin/python bench/tape.py [--minutes 10] [--speed 1] [--keep FILE]

Prints figures; asserts nothing. Loopback only; the run ends by itself.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from console.cluster.connect import from_kubeconfig  # noqa: E402
from console.cluster.session import Session  # noqa: E402
from console.embedded import launch  # noqa: E402
from console.paths import manifests_dir  # noqa: E402
from console.tape.recorder import record  # noqa: E402
from tests.cluster.helpers import answers  # noqa: E402

SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "order", "labels": {"app": "order"}},
           "spec": {"selector": {"app": "order"}, "ports": [{"port": 8080, "targetPort": 8080}]}}


def wait(what, condition, timeout=300.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {what} did not happen in {timeout:.0f} s")
        time.sleep(0.5)


def run(args, path: str) -> dict:
    cluster = launch.start(speed=args.speed, nodes=2, timeout=120)
    try:
        conn = from_kubeconfig(str(cluster.kubeconfig), namespace="default")
        conn.embedded = cluster
        session = Session(conn)
        rec = record(session.bus, path, conn=conn, size=(160, 48), command="bench/tape.py")
        session.watch()
        assert session.act("apply", file=str(manifests_dir() / "l1" / "order.yaml")).ok
        assert session.act("apply", yaml=json.dumps(SERVICE)).ok

        wait("order answering", lambda: answers(conn), 300)     # booted, not just Running
        assert session.act("autoscale", deployment="order", cpuPercent=50, min=1, max=3).ok
        seconds = args.minutes * 60
        t0 = time.monotonic()
        siege = f"-c20 -t{seconds:.0f}S --no-keepalive --failures=1000000 http://order:8080/orders"
        run_ = session.load.start(siege, timescale=args.speed)
        wait("the load run's end", lambda: not run_.running, seconds / args.speed + 120)
        wall = time.monotonic() - t0
        session.close(wait_load=30)
        rec.close({"exit": 0})
        return {"wall": wall, "events": rec.events, "keyframes": rec.keyframes,
                "waited": rec.sub.waited, "bytes": rec.writer.bytes, "seconds": rec.position}
    finally:
        cluster.stop()


def read_back(path: str) -> dict:
    from console import bus
    from console.tape.player import Player
    from console.tape.reader import read_index
    t0 = time.perf_counter()
    tape = read_index(path)
    index = time.perf_counter() - t0
    kinds: collections.Counter = collections.Counter()
    sizes: collections.Counter = collections.Counter()
    with open(path, "rb") as f:
        next(f)
        for line in f:
            d = json.loads(line)
            k = d["event"] + (f":{d['kind']}" if d.get("kind") else "")
            kinds[k] += 1
            sizes[k] += len(line)
    b = bus.Bus()
    p = Player(tape, b, speed=float("inf")).start(playing=False)
    middle = len(tape.keyframes) and tape.keyframes[len(tape.keyframes) // 2].line + 200
    t0 = time.perf_counter()
    p.seek_line(middle or tape.lines // 2)
    p.wait(lambda p: p.line == (middle or tape.lines // 2) or p.line >= tape.lines - 1, 120)
    seek = time.perf_counter() - t0
    p.stop()
    return {"tape": tape, "index": index, "seek": seek, "kinds": kinds, "sizes": sizes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="the lab's length, cluster time")
    ap.add_argument("--speed", type=float, default=1.0, help="the embedded cluster's --speed")
    ap.add_argument("--keep", help="keep the tape there")
    ap.add_argument("--export", action="store_true", help="also time kubelab replay --export")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kubelab-tape-") as tmp:
        path = args.keep or os.path.join(tmp, "l1.tape")
        got = run(args, path)
        back = read_back(path)
        mb = got["bytes"] / 2**20
        print(f"L1-like run: {args.minutes:g} min of cluster time at --speed {args.speed:g} "
              f"({got['wall']:.0f} s wall), siege -c20 all through (no abort on the resets of pods still booting), HPA 1..3 at 50 %")
        print(f"tape              {mb:.2f} MB, {got['events']} events, {got['keyframes']} keyframes, "
              f"{mb / (got['seconds'] / 60):.2f} MB per minute recorded")
        print(f"recorder          publishers waited {got['waited'] * 1000:.0f} ms in all")
        print(f"read back         index {back['index'] * 1000:.0f} ms, seek to the middle "
              f"{back['seek'] * 1000:.0f} ms (from its keyframe)")
        print("bytes by event    " + ", ".join(f"{k} {v / 1024:.0f} kB ({back['kinds'][k]})"
                                               for k, v in back["sizes"].most_common(8)))
        if args.export:
            import subprocess
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "console.cli", "replay", path, "--export",
                            os.path.join(tmp, "l1.cast")], check=True, capture_output=True)
            cast = os.path.getsize(os.path.join(tmp, "l1.cast")) / 2**20
            print(f"export            {time.perf_counter() - t0:.0f} s for the whole tape, cast {cast:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

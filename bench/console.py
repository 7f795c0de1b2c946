"""The console at scale: first screen, key-to-screen latency, memory and the
bytes written to the terminal, under a pod-event storm, beside today's table.

Each run is a child process on a pseudo-terminal with Textual's real driver
(what an SSH session carries is what the parent reads off the pty), no
cluster: a producer thread publishes pod events on the bus as the informers
do, over a namespace of N pods, while keys are pressed, then with no keys
(the bytes the storm alone costs the link). A key's latency runs from
posting it to the first screen refresh that shows its effect (the
selection moved). The same child runs against an older revision of the
console (`--baseline`, by default the last one with the DataTable pods pane),
so "today" is measured in the same run on the same machine. Prints figures
beside their goals; asserts nothing. With --record, each size runs this tree
twice instead, without and with a tape recorder on the bus (console/tape), and
prints what recording costs: key-to-screen p99 with it against without, and the
tape's size.

    .venv/bin/python bench/console.py [--pods 10000] [--rate 2000] [--seconds 15]
        [--sizes 80x24,160x48,240x60] [--baseline REV|none] [--record]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import fcntl
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = "1688be7"   # main before the Line API pods table: DataTable with private internals
GOALS = {"first_screen": 1.5, "storm_p99": 0.100, "rss_mb": 250}


# --- the namespace and the storm (child side) -----------------------------------------
def iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_pod(i: int, now: float) -> dict:
    """A pod about the size the API server sends; ages spread over the last hour
    (a lab's namespace: some pods young enough that AGE ticks every second)."""
    name = f"order-7d9f8b6c5d-{i:05d}"
    created = now - 5 - (i * 7919) % 3600
    return {
        "metadata": {"name": name, "namespace": "bench", "uid": f"uid-{i:05d}",
                     "resourceVersion": "1", "creationTimestamp": iso(created),
                     "labels": {"app": "order", "pod-template-hash": "7d9f8b6c5d"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": "order-7d9f8b6c5d", "uid": "rs-1",
                                          "controller": True}]},
        "spec": {"nodeName": f"kubelab-node-{i % 20 + 1}", "containers": [{
            "name": "order", "image": "ghcr.io/acmexii/order-liveness:latest",
            "ports": [{"containerPort": 8080}], "resources": {"requests": {"cpu": "200m"}},
            "livenessProbe": {"httpGet": {"path": "/actuator/health", "port": 8080}}}]},
        "status": {"phase": "Running", "podIP": f"10.244.{i // 250}.{i % 250}",
                   "conditions": [{"type": t, "status": "True"} for t in
                                  ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
                   "containerStatuses": [{"name": "order", "ready": True, "restartCount": 0,
                                          "started": True,
                                          "state": {"running": {"startedAt": iso(created + 3)}}}]},
    }


def produce(b, bus, pods: list[dict], rate: int, stop: threading.Event, counter: list[int]) -> None:
    """MODIFIED events at `rate` per second, in 50 ms slices: restarts and
    readiness flip as in a crash loop."""
    rv = 1
    slice_ = max(1, rate // 20)
    next_t = time.perf_counter()
    while not stop.is_set():
        for _ in range(slice_):
            p = copy.copy(random.choice(pods))
            rv += 1
            st = copy.deepcopy(p["status"])
            cs = st["containerStatuses"][0]
            cs["restartCount"] = rv % 7
            cs["ready"] = rv % 5 != 0
            if cs["restartCount"]:
                cs["lastState"] = {"terminated": {"exitCode": 143, "reason": "Error",
                                                  "finishedAt": iso(time.time() - rv % 90)}}
            p["status"] = st
            p["metadata"] = {**p["metadata"], "resourceVersion": str(rv)}
            b.publish(bus.ObjectChanged(kind="pods", type="MODIFIED", obj=p))
            counter[0] += 1
        next_t += 0.05
        delay = next_t - time.perf_counter()
        if delay > 0:
            stop.wait(delay)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


async def child(cfg: dict) -> dict:
    """One run on this process's terminal; only the App's public face is used
    (pods_table.printed / selected_uid), which both revisions have."""
    sys.path.insert(0, cfg["source"])
    import psutil
    from textual import events

    from console import bus
    from console.ui.app import KubelabApp

    out: dict = {"source": cfg["source"]}
    n, proc = cfg["pods"], psutil.Process()
    now = time.time()
    pods = [make_pod(i, now) for i in range(n)]
    app = KubelabApp(watch=False)
    rec = None
    if cfg.get("record"):
        from console.tape.recorder import record
        rec = record(app.bus, cfg["record"], size=(cfg["width"], cfg["height"]))

    async def refreshed() -> float:
        done = asyncio.get_running_loop().create_future()
        app.call_after_refresh(lambda: done.done() or done.set_result(time.monotonic()))
        return await done

    async def key(name: str) -> float:
        table = app.pods_table
        before = table.selected_uid()
        t0 = time.monotonic()
        app.post_message(events.Key(name, None))
        while table.selected_uid() == before:
            if not app.is_running or time.monotonic() - t0 > 30:
                raise RuntimeError("the app stopped answering keys")
            await asyncio.sleep(0.0005)
        return await refreshed() - t0

    async with app.run_test(headless=False, size=(cfg["width"], cfg["height"])) as pilot:
        await pilot.pause()
        table = app.pods_table
        table.focus()
        await refreshed()
        t0 = time.monotonic()
        for p in pods:
            app.bus.publish(bus.ObjectChanged(kind="pods", type="ADDED", obj=p))
        app.bus.publish(bus.Synced(kind="pods", uids=[p["metadata"]["uid"] for p in pods]))
        while len(table.printed) < n:
            await asyncio.sleep(0.005)
        out["first_screen"] = await refreshed() - t0
        out["idle_keys"] = [await key(k) for k in ["down", "up"] * 10]
        await asyncio.sleep(1.0)
        out["idle"] = [time.monotonic()]
        await asyncio.sleep(cfg["idle_seconds"])
        out["idle"].append(time.monotonic())

        stop, counter = threading.Event(), [0]
        producer = threading.Thread(target=produce, args=(app.bus, bus, pods, cfg["rate"], stop, counter))
        producer.start()
        lat: list[float] = []
        out["storm"] = [time.monotonic()]
        deadline = out["storm"][0] + cfg["seconds"]
        while time.monotonic() < deadline:
            lat.append(await key("down" if len(lat) % 2 == 0 else "up"))
            await asyncio.sleep(0.1)
        out["storm"].append(time.monotonic())
        # the same storm with no keys: what the events alone cost on the link
        out["quiet"] = [time.monotonic()]
        await asyncio.sleep(cfg["quiet_seconds"])
        out["quiet"].append(time.monotonic())
        stop.set()
        producer.join()
        out.update(storm_keys=lat, events=counter[0], merged=app.sub.merged, dropped=app.sub.dropped,
                   rss_mb=proc.memory_info().rss / 2**20)
    if rec is not None:
        rec.close({"exit": 0})
        out.update(tape_bytes=rec.writer.bytes, tape_events=rec.events, keyframes=rec.keyframes,
                   publishers_waited=rec.sub.waited, tape_seconds=rec.position)
    return out


# --- the parent: one child per (size, revision) on a pty -----------------------------
def run_child(source: str, args, width: int, height: int, record: str | None = None) -> dict:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
    reads: list[tuple[float, int]] = []
    tail = bytearray()
    dump = open(f"{args.dump}-{os.path.basename(source)}-{width}x{height}", "wb") if args.dump else None

    def drain() -> None:   # a fast link: read as soon as anything is written
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                return
            if not data:
                return
            reads.append((time.monotonic(), len(data)))
            tail[:] = (tail + data)[-4000:]
            if dump is not None:
                dump.write(data)

    with tempfile.NamedTemporaryFile("r", suffix=".json") as result:
        cfg = dict(source=source, pods=args.pods, rate=args.rate, seconds=args.seconds,
                   idle_seconds=args.idle_seconds, quiet_seconds=args.quiet_seconds,
                   width=width, height=height, out=result.name, record=record)
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        env.pop("NO_COLOR", None)
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child", json.dumps(cfg)],
                                stdin=slave, stdout=slave, stderr=slave, env=env, cwd=source,
                                start_new_session=True)
        os.close(slave)
        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        try:
            proc.wait(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        reader.join(5)
        os.close(master)
        text = result.read()
    if not text:
        raise SystemExit(f"bench child failed ({source}, {width}x{height}):\n"
                         f"{tail.decode(errors='replace')}")
    out = json.loads(text)
    if "error" in out:
        raise SystemExit(f"bench child failed ({source}, {width}x{height}):\n{out['error']}")
    if dump is not None:
        dump.close()
        with open(dump.name + ".json", "w") as f:   # when each byte came, and the phases
            json.dump({"reads": reads, **{k: out[k] for k in ("idle", "storm", "quiet")}}, f)
    for phase in ("idle", "storm", "quiet"):
        a, b = out[phase]
        out[f"{phase}_bytes"] = sum(n for t, n in reads if a <= t <= b) / (b - a)
    return out


def baseline_tree(rev: str, into: str) -> str:
    """The console at `rev`, unpacked beside this one (git archive: no checkout)."""
    archive = subprocess.run(["git", "-C", ROOT, "archive", rev, "console"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", into], input=archive.stdout, check=True)
    return into


def kb(x: float) -> str:
    return f"{x / 1000:.1f} kB/s"


def report(size: str, new: dict, old: dict | None, args) -> None:
    def ms(x: float) -> str:
        return f"{x * 1000:.0f} ms"

    def p99(d: dict) -> float:
        return pct(d["storm_keys"], 99)

    rows = [
        (f"{args.pods} pods on screen", lambda d: ms(d["first_screen"]),
         f"< {ms(GOALS['first_screen'])}", new["first_screen"] < GOALS["first_screen"]),
        ("key->screen idle p99", lambda d: ms(pct(d["idle_keys"], 99)), "", None),
        (f"key->screen p99, {args.rate} ev/s", lambda d: ms(p99(d)),
         f"< {ms(GOALS['storm_p99'])}", p99(new) < GOALS["storm_p99"]),
        ("key->screen p50 / max", lambda d: f"{ms(pct(d['storm_keys'], 50))} / {ms(max(d['storm_keys']))}",
         "", None),
        ("resident memory", lambda d: f"{d['rss_mb']:.0f} MB", f"< {GOALS['rss_mb']} MB",
         new["rss_mb"] < GOALS["rss_mb"]),
        ("terminal bytes/s, storm", lambda d: kb(d["quiet_bytes"]),
         f"<= {kb(old['quiet_bytes'] / 3)}" if old else "1/3 of today",
         new["quiet_bytes"] <= old["quiet_bytes"] / 3 if old else None),
        ("  same, 10 keys/s pressed", lambda d: kb(d["storm_bytes"]), "", None),
        ("  no events (ages tick)", lambda d: kb(d["idle_bytes"]), "", None),
        # a UI that falls behind draws less: its bytes/s mean little then
        ("events merged in the bus (behind)", lambda d: f"{100 * d['merged'] / max(d['events'], 1):.0f} %",
         "", None),
    ]
    print(f"\n{size}  ({new['events'] / (new['quiet'][1] - new['storm'][0]):.0f} pod events/s published, "
          f"{new['dropped']} dropped; {len(new['storm_keys'])} keys pressed)")
    print(f"  {'figure':34} {'this tree':>16} {'goal':>14} {'':8} {'today':>16}")
    for label, show, goal, met in rows:
        verdict = "" if met is None else ("met" if met else "NOT met")
        print(f"  {label:34} {show(new):>16} {goal:>14} {verdict:8} {show(old) if old else '-':>16}")
    if old:
        ratio = old["quiet_bytes"] / max(new["quiet_bytes"], 1)
        print(f"  ratios today/this tree: bytes under storm {ratio:.1f}x, "
              f"key p99 {p99(old) / p99(new):.1f}x, first screen "
              f"{old['first_screen'] / new['first_screen']:.1f}x")


def pooled(runs: list[dict]) -> dict:
    """Several runs as one: their keys together, the other figures of the last."""
    return {**runs[-1], "storm_keys": [k for r in runs for k in r["storm_keys"]],
            "first_screen": statistics.median(r["first_screen"] for r in runs)}


def record_cost(args, sizes) -> int:
    """Recording on vs off, same tree, same storm, side by side per size; the
    runs alternate (off, on, off, on ...) so that a busy machine weighs on both."""
    for w, h in sizes:
        offs, ons = [], []
        with tempfile.TemporaryDirectory(prefix="kubelab-bench-") as tmp:
            for i in range(args.repeat):
                offs.append(run_child(ROOT, args, w, h))
                ons.append(run_child(ROOT, args, w, h, record=os.path.join(tmp, f"storm-{i}.tape")))
        off, on = pooled(offs), pooled(ons)
        p_off, p_on = pct(off["storm_keys"], 99), pct(on["storm_keys"], 99)
        change = (p_on - p_off) / p_off * 100
        print(f"\n{w}x{h}  recording off / on, {args.rate} pod events/s, "
              f"{len(off['storm_keys'])} / {len(on['storm_keys'])} keys over {args.repeat} runs each")
        print(f"  key->screen p99          {p_off * 1000:7.1f} ms / {p_on * 1000:7.1f} ms   "
              f"change {change:+.1f} %  (goal < 10 %: {'met' if change < 10 else 'NOT met'})")
        for q in (95, 50):
            print(f"  key->screen p{q}          {pct(off['storm_keys'], q) * 1000:7.1f} ms / "
                  f"{pct(on['storm_keys'], q) * 1000:7.1f} ms")
        print(f"  first screen             {off['first_screen'] * 1000:7.0f} ms / {on['first_screen'] * 1000:7.0f} ms")
        print(f"  resident memory          {off['rss_mb']:7.0f} MB / {on['rss_mb']:7.0f} MB")
        mb = on["tape_bytes"] / 2**20
        print(f"  tape                     {on['tape_events']} events, {on['keyframes']} keyframes, "
              f"{mb:.1f} MB over {on['tape_seconds']:.0f} s ({mb / max(on['tape_seconds'], 1) * 60:.0f} MB/min); "
              f"publishers waited {on['publishers_waited'] * 1000:.0f} ms")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--rate", type=int, default=2000, help="pod events per second")
    p.add_argument("--seconds", type=float, default=15.0, help="length of the storm")
    p.add_argument("--idle-seconds", type=float, default=3.0)
    p.add_argument("--quiet-seconds", type=float, default=10.0, help="storm without keys (bytes)")
    p.add_argument("--sizes", default="80x24,160x48,240x60")
    p.add_argument("--baseline", default=BASELINE, help="git revision to compare with, or none")
    p.add_argument("--dump", help="write what each run sends to the terminal to DUMP-<tree>-<size>")
    p.add_argument("--record", action="store_true",
                   help="this tree without and with a tape recorder: what recording costs")
    p.add_argument("--repeat", type=int, default=3, help="--record: runs of each, alternating")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        cfg = json.loads(args.child)
        try:
            out = asyncio.run(child(cfg))
        except BaseException as exc:   # the pty is the child's only other output
            import traceback
            out = {"error": "".join(traceback.format_exception(exc))}
        with open(cfg["out"], "w") as f:
            json.dump(out, f)
        return 0
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    print(f"kubelab console bench: {args.pods} pods, {args.rate} pod events/s for {args.seconds:g} s, "
          f"real driver on a pty (TERM=xterm-256color, truecolor); today = {args.baseline}")
    if args.record:
        return record_cost(args, sizes)
    with tempfile.TemporaryDirectory(prefix="kubelab-bench-") as tmp:
        old_src = baseline_tree(args.baseline, tmp) if args.baseline != "none" else None
        for w, h in sizes:
            old = run_child(old_src, args, w, h) if old_src else None
            new = run_child(ROOT, args, w, h)
            report(f"{w}x{h}", new, old, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

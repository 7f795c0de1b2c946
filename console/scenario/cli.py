"""`kubelab run SCENARIO...` headless, and `kubelab lint SCENARIO...` (check only).

    kubelab run scenarios/l2-zero-downtime.yaml --embedded --speed 20 --report r.json --junit r.xml

Every file is validated before anything runs (exit 2 with file:line:column for each
problem). Then each scenario runs: one line per step as it ends, what a failed step
saw and collected, a final table and every mismatch. Exit 0 all passed, 1 something
failed, 2 bad input, 130 interrupted (Ctrl-C cleans up and writes the report so far).
The lines come from the bus, as the console's scenario pane and a recorder read it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time

from console import bus
from console.errors import UsageError
from console.scenario import words


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kubelab run", description="Run scenarios headless: steps, checks, a report.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario files (scenarios/*.yaml)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--embedded", action="store_true", help="start the embedded cluster for the run")
    where.add_argument("--context", help="a kubeconfig context (default: the current one)")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    p.add_argument("-n", "--namespace", help="run there instead of the scenario's namespace")
    p.add_argument("--speed", type=float, default=None,
                   help="the cluster's clock: the embedded cluster's --speed (default 1); sleeps "
                        "and load durations are cluster time")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="override a variable")
    p.add_argument("--jobs", "-j", type=int, default=1,
                   help="scenarios at a time; above 1 each runs in a namespace named after it")
    p.add_argument("--report", metavar="FILE.json", help="write the whole run as JSON")
    p.add_argument("--junit", metavar="FILE.xml", help="write JUnit XML (a testcase per step)")
    p.add_argument("--lang", choices=("en", "ko"), default="en", help="the report's language")
    p.add_argument("--nodes", type=int, default=2, help="embedded cluster: nodes")
    p.add_argument("--record", metavar="FILE",
                   help="write a tape of the run (one scenario): its namespace as watched, the "
                        "load, each step's result; kubelab replay FILE plays it with no cluster")
    from console.cluster.route import PATHS
    p.add_argument("--load-path", default="auto", choices=PATHS, metavar="PATH",
                   help="how load.start reaches Services: " + ", ".join(PATHS) + " (default auto)")
    p.add_argument("--metrics-manifest", metavar="FILE|URL", default="",
                   help="metrics-server's manifest for a metrics.install step that names no "
                        "source: a local copy of components.yaml, or a URL (default: the latest "
                        "release's)")
    return p


class Printer:
    """Bus -> lines on stdout, as steps end."""

    def __init__(self, sink: bus.Bus, lang: str, out=None):
        self.sub = sink.subscribe()
        self.lang, self.out = lang, out or sys.stdout
        self.on = words.colour_on(self.out)
        self.titles: dict[tuple[str, str], str] = {}
        self.scenarios: dict[str, str] = {}

    def pump(self, timeout: float = 0.2) -> None:
        for ev in self.sub.get_batch(timeout=timeout):
            self.show(ev)

    def show(self, ev: bus.Event) -> None:
        if isinstance(ev, bus.ScenarioStarted):
            self.scenarios[ev.run] = ev.scenario
            for s in ev.steps:
                self.titles[(ev.run, s["id"])] = s["title"]
            self.say(words.word("scenario", self.lang, id=ev.scenario, title=ev.title, ns=ev.namespace))
        elif isinstance(ev, bus.StepFinished):
            title = self.titles.get((ev.run, ev.step), "")
            self.say(words.step_line(ev.status, ev.step, title, ev.seconds, self.lang, self.on))
            for f in ev.failures:
                self.say(f"      {f}")
        elif isinstance(ev, bus.ScenarioFinished):
            self.say("")

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def close(self) -> None:
        self.pump(0)
        self.sub.close()


def _connect(args):
    from console.cluster.connect import connect, default_kubeconfig
    if args.embedded or (not args.kubeconfig and not args.context and default_kubeconfig() is None):
        print("kubelab run: starting the embedded cluster ...", file=sys.stderr, flush=True)
        return connect(embedded=True, speed=args.speed or 1.0, nodes=args.nodes), "the embedded cluster"
    conn = connect(kubeconfig=args.kubeconfig, context=args.context)
    if args.speed:
        conn.speed = args.speed
    return conn, f"context {conn.context}"


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.speed is not None and not 0 < args.speed < 1e6:
        raise UsageError("must be a number above 0", where="--speed")
    if args.jobs < 1:
        raise UsageError("must be at least 1", where="--jobs")
    from console.scenario import loader
    overrides = loader.parse_overrides(args.var)
    loaded = loader.load_all(args.scenarios, overrides, args.namespace)   # exit 2 before anything runs
    if args.jobs > 1:
        if args.namespace:
            raise UsageError("--jobs above 1 runs each scenario in its own namespace", where="--namespace")
        for item in loaded:
            item.namespace = item.id
    ids = [x.id for x in loaded]
    if args.jobs > 1 and len(set(ids)) != len(ids):
        raise UsageError("two scenarios share an id; with --jobs each needs its own namespace", where="--jobs")
    if args.record:
        from console.tape.recorder import check_path
        if len(loaded) != 1:
            raise UsageError("a tape holds one scenario run: give one SCENARIO", where="--record")
        check_path(args.record)
    if args.metrics_manifest:
        from console.cluster.addons import option
        args.metrics_manifest = option(args.metrics_manifest)
    conn, cluster = _connect(args)
    from console.cluster.session import Session
    session = Session(conn)
    session.load_path = args.load_path
    session.metrics_manifest = args.metrics_manifest
    printer = Printer(session.bus, args.lang)
    printer.say(words.word("header", args.lang, n=len(loaded), cluster=cluster)
                + (f" (speed {session.speed:g})" if session.speed != 1 else ""))
    recorder = _record(session, loaded[0], args.record, argv) if args.record else None
    reports, runners = [], []
    outcome = {"exit": 1, "scenario": "error"}
    try:
        reports = _run_all(session, loaded, args, printer, runners)
    finally:
        try:
            printer.close()
            session.close(wait_load=5)
            if reports:
                outcome = {"exit": _finish(reports, args, printer), "scenario": reports[0].status}
        except KeyboardInterrupt:   # while cleaning up: the tape still gets its end
            outcome = {"exit": 130, "scenario": "interrupted"}
            raise
        finally:
            if recorder is not None:   # after the session: the load's last figures are on it
                from console.tape.recorder import report
                recorder.close(outcome)
                printer.say(report(recorder))
    return outcome["exit"]


def _record(session, item, path: str, argv: list[str]):
    """Watch the scenario's namespace as the console would and write it all down."""
    from console.tape.recorder import record, scenario_header
    session.switch(namespace=item.namespace)
    rec = record(session.bus, path, conn=session.conn, command=" ".join(["kubelab", "run", *argv]),
                 scenario=scenario_header(item))
    session.watch()
    return rec


def _run_all(session, loaded, args, printer, runners) -> list:
    """Each scenario in a daemon thread (at most --jobs at once); the main thread prints.
    The first Ctrl-C stops every run (each cleans up), a second one leaves at once."""
    from console.scenario.runner import Runner

    runners += [Runner(session, item, "run", args.lang) for item in loaded]
    slots = threading.Semaphore(args.jobs)
    results: dict[int, object] = {}

    def one(i, r):
        with slots:
            if not r._stop.is_set():
                results[i] = r.run()

    threads = [threading.Thread(target=one, args=(i, r), name=f"scenario-{r.run_id}", daemon=True)
               for i, r in enumerate(runners)]
    for t in threads:
        t.start()
    interrupted = 0
    with _ctrl_c() as pressed:
        while any(t.is_alive() for t in threads) and interrupted < 2:
            try:
                printer.pump(0.2)
            except KeyboardInterrupt:  # where the handler could not be set (not the main thread)
                pressed.append(signal.SIGINT)
            if len(pressed) > interrupted:
                interrupted = len(pressed)
                if interrupted == 1:
                    print(words.word("stopping", args.lang), file=sys.stderr, flush=True)
                    for r in runners:
                        r.stop()
    out = []
    for i, r in enumerate(runners):
        rep = results.get(i, r.report)
        if i not in results and (interrupted or rep.status == "running"):
            rep.status = "interrupted"
        out.append(rep)
    return out


@contextlib.contextmanager
def _ctrl_c():
    """Ctrl-C counted by a handler that only counts, the loop acting on the count.
    Python's own handler raises KeyboardInterrupt wherever the main thread happens to
    be, and where that is a __del__ or a callback run from C, the exception is
    printed as ignored and lost (the likely cause of two CI runs that went on as if
    no Ctrl-C came). A SIGINT ignored by whoever started us stays ignored."""
    pressed: list[int] = []
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield pressed
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def _finish(reports, args, printer) -> int:
    from console.scenario import report as rp
    lang = args.lang
    printer.say(words.table(reports, lang, printer.on))
    fails = [f"{r.scenario}: {f}" for r in reports for f in r.failures]
    printer.say("")
    if fails:
        printer.say(words.word("mismatches", lang, n=len(fails)))
        for f in fails:
            printer.say(f"  - {f}")
    elif reports and all(r.status == "passed" for r in reports):
        printer.say(words.word("none", lang))
    for path, write in ((args.report, rp.write_json), (args.junit, rp.write_junit)):
        if path:
            write(reports, path)
            printer.say(words.word("report", lang, path=path))
    status = rp.overall(reports)
    return {"passed": 0, "interrupted": 130}.get(status, 1)


def lint_main(argv: list[str]) -> int:
    """`kubelab lint SCENARIO...`: validate only (no cluster); `--schema` prints the JSON Schema."""
    p = _Parser(prog="kubelab lint", description="Check scenario files without a cluster.")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO")
    p.add_argument("--schema", action="store_true", help="print the format's JSON Schema")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    args = p.parse_args(argv)
    if args.schema:
        from console.scenario.schema import schema
        print(json.dumps(schema(), indent=2))
        return 0
    if not args.scenarios:
        raise UsageError("give scenario files, or --schema")
    from console.scenario import loader
    t0 = time.monotonic()
    loaded = loader.load_all(args.scenarios, loader.parse_overrides(args.var))
    for item in loaded:
        print(f"{item.path.name}: ok ({item.id}, {len(item.scenario.steps)} steps)")
    print(f"{len(loaded)} scenario(s) valid in {time.monotonic() - t0:.2f}s")
    return 0

"""`kubelab [tui]`: connect (or start the embedded cluster), open the console on the
lab picker (--free: straight to the console), and print the load runs' summaries
when it ends so that they survive a quit. `kubelab play` (console.ui.play) shares it."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from console.errors import UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kubelab", description="The console: pods, HPA, probes, rollout and load.")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    p.add_argument("--context", help="kubeconfig context (default: the current one)")
    p.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    p.add_argument("--embedded", action="store_true",
                   help="start the embedded cluster even if a kubeconfig exists")
    p.add_argument("--speed", type=float, default=1.0,
                   help="embedded cluster: compress controller time N times")
    p.add_argument("--nodes", type=int, default=2, help="embedded cluster: nodes")
    p.add_argument("--load", default="-c20 -t40S -v http://order:8080/orders",
                   help="the load dialog's prefilled siege command")
    p.add_argument("--record", metavar="FILE",
                   help="write a tape of the session (kubelab replay FILE plays it back)")
    p.add_argument("--lang", choices=("en", "ko"), default="en", help="the labs' language")
    from console.cluster.route import PATHS
    p.add_argument("--load-path", default="auto", choices=PATHS, metavar="PATH",
                   help="how load reaches in-cluster Services: auto (the embedded cluster's "
                        "loopback listeners, else a LoadBalancer/NodePort address that answers, "
                        "else a port-forward, else the siege pod), loopback, port-forward, "
                        "siege-pod or direct")
    p.add_argument("--metrics-manifest", metavar="FILE|URL", default="",
                   help="metrics-server's manifest for M: a local copy of components.yaml (an "
                        "air-gapped jump host) or a URL (default: the latest release's)")
    return p


def main(argv: list[str]) -> int:
    p = parser()
    p.add_argument("--free", action="store_true", help="skip the lab picker: the console as it is")
    args = p.parse_args(argv)
    return run_console(args, argv, picker=not args.free)


def run_console(args, argv: list[str], **app_kw) -> int:
    """Connect as kubectl does (or start the embedded cluster) and run the console."""
    from console.embedded.main import check_speed
    check_speed(args.speed)
    if args.nodes < 1:
        raise UsageError("must be >= 1", where="--nodes")
    if args.record:
        from console.tape.recorder import check_path
        check_path(args.record)
    if args.metrics_manifest:
        from console.cluster.addons import option
        args.metrics_manifest = option(args.metrics_manifest)
    logging.basicConfig(level=logging.WARNING, filename=_log_file(), force=True)
    from console.cluster.connect import connect, default_kubeconfig
    if args.embedded or (not args.kubeconfig and default_kubeconfig() is None):
        print("kubelab: starting the embedded cluster ...", file=sys.stderr, flush=True)
    try:
        conn = connect(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace,
                       embedded=args.embedded, speed=args.speed, nodes=args.nodes)
    except UsageError:
        raise
    except Exception as exc:  # the embedded cluster did not come up: say why, no traceback
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log = getattr(exc, "log", None)
        print(f"kubelab: could not start the embedded cluster: {first}"
              + (f" (log: {log})" if log else ""), file=sys.stderr)
        return 1
    from console.cluster.session import Session
    from console.cluster.connect import check
    try:
        check(conn)  # credentials refused, a CA that does not verify: exit 2 before the screen
    except UsageError:
        conn.close()
        raise
    from console.ui.app import KubelabApp
    session = Session(conn)
    session.load_path = args.load_path
    session.metrics_manifest = args.metrics_manifest
    app = KubelabApp(session=session, load_command=args.load, lang=args.lang,
                     recording=bool(args.record), **app_kw)
    recorder = None
    if args.record:
        from console.tape.recorder import record, scenario_header
        scenario = None
        if app_kw.get("play") is not None:      # kubelab play: the lab is known from the start
            from console.scenario import loader
            scenario = scenario_header(loader.load(app_kw["play"], namespace=conn.namespace))
        recorder = record(session.bus, args.record, conn=conn, scenario=scenario,
                          command=" ".join(["kubelab play" if scenario else "kubelab", *argv]))
    outcome = {"exit": 1, "reason": "error"}
    try:
        app.run()
        outcome = {"exit": app.return_code or 0, "reason": "quit"}
    except KeyboardInterrupt:
        outcome = {"exit": 130, "reason": "interrupted"}
        raise
    finally:
        try:
            if app.scenario_running:
                print("kubelab: cleaning up the lab ...", file=sys.stderr, flush=True)
                app.stop_scenario(wait=90)
            session.close()
        except KeyboardInterrupt:       # while cleaning up: the tape still gets its end
            outcome = {"exit": 130, "reason": "interrupted"}
            raise
        finally:
            if recorder is not None:
                from console.tape.recorder import report
                recorder.close(outcome)
                # the real stream: a lab's thread may have left Textual's stand-in in sys.stderr
                print(report(recorder), file=sys.__stderr__)
    for text in session.load.summaries:
        print(text)
    return 0


def _log_file() -> str:
    from console.paths import open_private, state_dir
    path = state_dir() / "console.log"
    try:
        os.close(open_private(path))  # 0600 before logging opens it
    except OSError:
        pass
    return str(path)

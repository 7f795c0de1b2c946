"""`kubelab serve [--port N] [COMMAND OPTIONS]`: the console as a web page on
loopback (textual-serve), for a cloud IDE's port preview or a classroom
projector's browser.

    kubelab serve                          # the console (the lab picker), like `kubelab`
    kubelab serve --port 8000 --free -n lab
    kubelab serve play scenarios/l2-zero-downtime.yaml
    kubelab serve replay lab.tape --pause-at-steps

Every browser tab runs its own console process (textual-serve's model) with
the options given; on the embedded cluster they all share one, started here
before the URL is printed, so a second tab sees the first one's pods. Serves
on 127.0.0.1 only; --port 0 (the default) takes a free port. Ctrl-C stops
the server, its consoles and the cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import signal
import sys
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from console.errors import UsageError

COMMANDS = ("play", "replay")
HOST = "127.0.0.1"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kubelab serve", add_help=False,
                usage="kubelab serve [--port N] [console options | play SCENARIO ... | replay TAPE ...]",
                description="Serve the console as a web page on loopback (textual-serve).")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: a free one)")
    p.add_argument("-h", "--help", action="store_true")
    return p


def split(argv: list[str]) -> tuple[argparse.Namespace, str, list[str]]:
    """serve's own options, then which command each tab runs and its options."""
    args, rest = parser().parse_known_args(argv)
    if args.help:
        raise SystemExit(print(__doc__) or 0)
    if not 0 <= args.port <= 65535:
        raise UsageError("must be 0..65535", where="--port")
    if rest and rest[0] in COMMANDS:
        return args, rest[0], rest[1:]
    return args, "tui", rest


def session_argv(command: str, rest: list[str]) -> tuple[list[str], dict]:
    """The argv each tab's console runs with, checked now (bad input: exit 2 here,
    not in a browser tab), and what the server must start for it."""
    need: dict = {}
    if command == "replay":
        from console.tape.reader import read_index
        from console.ui.replaymain import parser as replay_parser
        args = replay_parser().parse_args(rest)
        if args.export:
            raise UsageError("--export writes files; run kubelab replay --export without serve",
                             where="--export")
        read_index(args.tape)                                 # a bad tape fails here, once
        at = rest.index(args.tape)                            # the tabs may run elsewhere
        return ["replay", *rest[:at], str(Path(args.tape).resolve()), *rest[at + 1:]], need
    from console.ui.main import parser as console_parser
    p = console_parser()
    if command == "play":
        p.add_argument("scenario")
        p.add_argument("--pace", type=float, default=3.0)
    else:
        p.add_argument("--free", action="store_true")
    args = p.parse_args(rest)
    if args.record:
        raise UsageError("each browser tab is a session of its own: record with "
                         "kubelab --record FILE (or run / play --record)", where="--record")
    if command == "play":
        from console.scenario import loader
        loader.load(Path(args.scenario))
    if args.metrics_manifest:       # checked once, and absolute: the tabs may run elsewhere
        from console.cluster.addons import option
        rest = _without(rest, set(), {"--metrics-manifest"}) + [
            "--metrics-manifest", option(args.metrics_manifest)]
    from console.cluster.connect import default_kubeconfig
    if args.embedded or (not args.kubeconfig and default_kubeconfig() is None):
        need = {"embedded": True, "speed": args.speed, "nodes": args.nodes}
        rest = _without(rest, {"--embedded"}, {"--speed", "--nodes"})
    return ([] if command == "tui" else [command]) + rest, need


def _without(argv: list[str], flags: set[str], valued: set[str]) -> list[str]:
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        name = a.split("=", 1)[0]
        if a in flags:
            continue
        if name in valued:
            skip = "=" not in a
            continue
        out.append(a)
    return out


def main(argv: list[str]) -> int:
    args, command, rest = split(argv)
    tab_argv, need = session_argv(command, rest)
    cluster = None
    if need.get("embedded"):
        if need["speed"] <= 0:
            raise UsageError("must be > 0", where="--speed")
        from console.embedded import launch
        from console.paths import state_dir
        print("kubelab serve: starting the embedded cluster ...", file=sys.stderr, flush=True)
        cluster = launch.start(speed=need["speed"], nodes=need["nodes"],
                               kubeconfig=str(state_dir() / "serve-kubeconfig"))
        tab_argv += ["--kubeconfig", str(cluster.kubeconfig)]
    try:
        asyncio.run(serve(tab_argv, args.port))
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


HOST_RE = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def page_origin(request: web.Request) -> str:
    """scheme://host the browser used for the page: behind a cloud IDE's port
    preview (https://8000-<workspace>/, a proxy) that is not our loopback
    address. RFC 7239 Forwarded, else X-Forwarded-Proto/-Host (first hop),
    else the request's own."""
    fwd = request.forwarded[0] if request.forwarded else {}
    proto = fwd.get("proto") or request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip()
    host = fwd.get("host") or request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
    if proto not in ("http", "https"):
        proto = request.scheme
    if not HOST_RE.fullmatch(host or ""):
        host = request.host
    return f"{proto}://{host}"


class ConsoleServer(Server):
    """textual-serve's Server, bound where we say: its own serve() takes a fixed
    port and prints its banner; here the routes are the same, on a runner of ours
    (port 0 works, and the URL is the bound one). The page's script, styles and
    websocket URLs name the address the browser asked for (see page_origin)."""

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        # textual-serve builds the page's URLs from public_url, synchronously
        # (nothing awaited in between): set it for this request.
        self.public_url = page_origin(request)
        return await super().handle_index(request)

    def application(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, show_index=False, name="static"),
        ])
        return app


def tab_command(tab_argv: list[str]) -> str:
    return shlex.join([sys.executable, "-m", "console.cli", *tab_argv])


async def serve(tab_argv: list[str], port: int, ready=None) -> None:
    """Serve the console with these options until SIGINT/SIGTERM."""
    title = f"kubelab {tab_argv[0] if tab_argv and tab_argv[0] in COMMANDS else 'console'}"
    await serve_command(tab_command(tab_argv), port, title, ready)


async def serve_command(command: str, port: int, title: str = "kubelab", ready=None) -> None:
    """Serve `command` (one process per tab) until SIGINT/SIGTERM (or cancelled);
    `ready(url)` (default: print it) once listening."""
    server = ConsoleServer(command, host=HOST, port=port, title=title)
    runner = web.AppRunner(server.application())
    await runner.setup()
    site = web.TCPSite(runner, HOST, port)
    try:
        await site.start()
    except OSError as exc:                 # taken, or not ours to take (< 1024)
        await runner.cleanup()
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        raise UsageError(f"cannot listen on {HOST}:{port}: {why}",
                         where="--port") from None
    bound = runner.addresses[0][1]
    server.public_url = f"http://{HOST}:{bound}"
    url = f"{server.public_url}/"
    if ready is None:
        print(f"kubelab serve: {url}  (each tab is a console; Ctrl-C stops)", flush=True)
    else:
        ready(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()

"""`kubelab cluster`: run the embedded cluster and serve its API on 127.0.0.1.

Prints exactly one line, `KUBECONFIG=<path>`, once the API answers; stops
cleanly on SIGINT/SIGTERM. The kubeconfig (mode 0600) carries a bearer token
fresh for this run.
"""

import argparse
import base64
import asyncio
import logging
import os
import re
import secrets
import signal
import sys
from pathlib import Path

import yaml

from console.errors import UsageError

log = logging.getLogger("kubelab.cluster")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = _Parser(prog="kubelab cluster", description="Run the embedded Kubernetes cluster on "
                "127.0.0.1 and write a kubeconfig for it.")
    p.add_argument("--port", type=int, default=0, help="API port (default: any free port)")
    p.add_argument("--kubeconfig", type=Path, default=None, metavar="PATH",
                   help="where to write the kubeconfig (default: state dir/embedded/kubeconfig)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="compress every controller duration this many times (default 1)")
    p.add_argument("--nodes", type=int, default=2, help="simulated nodes (default 2)")
    p.add_argument("--version", default="v1.33.1", dest="k8s_version", metavar="VERSION",
                   help="Kubernetes version to report (default v1.33.1)")
    p.add_argument("--log-level", default="WARNING", help="stderr log level (default WARNING)")
    a = p.parse_args(argv)
    if not 0 <= a.port <= 65535:
        raise UsageError(f"--port: {a.port} is not a port number (0-65535)")
    if not a.speed > 0:
        raise UsageError(f"--speed: must be positive, not {a.speed}")
    if not 0 <= a.nodes <= 100:
        raise UsageError(f"--nodes: must be 0-100, not {a.nodes}")
    if not re.fullmatch(r"v1\.\d+\.\d+", a.k8s_version):
        raise UsageError(f"--version: expected v1.MINOR.PATCH (like v1.33.1), not {a.k8s_version!r}")
    if a.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise UsageError(f"--log-level: one of DEBUG, INFO, WARNING, ERROR, not {a.log_level!r}")
    return a


def kubeconfig_text(server: str, token: str, ca_pem: bytes) -> str:
    ca = base64.b64encode(ca_pem).decode()
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "kubelab", "cluster": {"server": server,
                                                     "certificate-authority-data": ca}}],
        "users": [{"name": "kubelab", "user": {"token": token}}],
        "contexts": [{"name": "kubelab", "context": {"cluster": "kubelab", "user": "kubelab",
                                                     "namespace": "default"}}],
        "current-context": "kubelab"}, sort_keys=False)


def write_kubeconfig(path: Path, server: str, token: str, ca_pem: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(kubeconfig_text(server, token, ca_pem))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


async def serve(args) -> int:
    from aiohttp import web

    from console.embedded.api import tls
    from console.embedded.cluster import Cluster
    from console.embedded.server import make_app

    cluster = Cluster(speed=args.speed, nodes=args.nodes, version=args.k8s_version)
    token = secrets.token_urlsafe(32)
    app = make_app(cluster, token)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    cert, key = tls.make_cert()
    site = web.TCPSite(runner, "127.0.0.1", args.port, reuse_address=True,
                       ssl_context=tls.server_context(cert, key))
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise UsageError(f"--port: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}")
    port = site._server.sockets[0].getsockname()[1]
    server = f"https://127.0.0.1:{port}"
    cluster.api_port = port
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    parent = os.environ.get("KUBELAB_EXIT_WITH_PARENT")
    if parent and parent.isdigit():
        loop.create_task(_watch_parent(int(parent), stop))
    from console.embedded.api import openapi
    loop.run_in_executor(None, openapi.warm, tuple(cluster.kinds))  # first kubectl apply need not wait
    try:
        await cluster.start()
        if args.kubeconfig is None:
            from console.paths import state_dir
            args.kubeconfig = state_dir() / "embedded" / "kubeconfig"
        path = args.kubeconfig.expanduser().absolute()
        try:
            write_kubeconfig(path, server, token, cert)
        except OSError as exc:
            raise UsageError(f"--kubeconfig: cannot write {path}: {exc.strerror}")
        print(f"KUBECONFIG={path}", flush=True)
        log.info("serving %s", server)
        await stop.wait()
    finally:
        await cluster.stop()
        await runner.cleanup()
    return 0


async def _watch_parent(pid: int, stop: asyncio.Event) -> None:
    """Started by launch.start: do not outlive the process that started us."""
    while not stop.is_set():
        if os.getppid() != pid:
            log.warning("parent %d is gone; stopping", pid)
            stop.set()
            return
        await asyncio.sleep(1.0)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(serve(args))

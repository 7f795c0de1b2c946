"""`kubelab cluster`: run the embedded cluster and serve its API on 127.0.0.1.

Prints exactly one line, `KUBECONFIG=<path>`, once the API answers; stops
cleanly on SIGINT/SIGTERM. The kubeconfig (mode 0600) carries a bearer token
fresh for this run, and one context per `--user` (restricted users, authz.py).

`--data DIR` keeps the cluster in DIR (persist.py): its objects, and what a real
API server keeps across restarts, its serving certificate, its tokens and its
port (reused when free), so clients that were connected reconnect with the same
kubeconfig. Without it everything is in memory and fresh per run.
"""

import argparse
import asyncio
import base64
import gc
import json
import logging
import math
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
    p.add_argument("--max-pods", type=int, default=110, metavar="N",
                   help="pods each node holds (kubelet's --max-pods, default 110; at most 253, "
                        "what a node's /24 pod CIDR has addresses for)")
    p.add_argument("--version", default="v1.33.1", dest="k8s_version", metavar="VERSION",
                   help="Kubernetes version to report (default v1.33.1)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="keep the cluster's objects (and its certificate, tokens and port) in "
                        "DIR across restarts (default: in memory, gone at exit)")
    p.add_argument("--user", action="append", default=[], metavar="NAME=ROLE[:NAMESPACE]",
                   help="add a restricted user with its own token and kubeconfig context "
                        "kubelab-NAME; ROLE is view, edit or cluster-admin, bound in NAMESPACE "
                        "or cluster-wide (repeatable; e.g. --user viewer=view --user dev=edit:default)")
    p.add_argument("--no-metrics", action="store_true",
                   help="start without metrics-server (no metrics.k8s.io: kubectl top and the "
                   "HPA get what a cluster without it gives)")
    p.add_argument("--log-level", default="WARNING", help="stderr log level (default WARNING)")
    p.add_argument("--read-header-timeout", type=float, default=32.0, metavar="SECS",
                   help="close a connection whose request head has not arrived in SECS "
                   "(kube-apiserver's 32)")
    a = p.parse_args(argv)
    from console.embedded import authz
    users = []
    for text in a.user:
        try:
            users.append(authz.parse_user(text))
        except ValueError as exc:
            raise UsageError(f"--user: {exc}") from None
    if len({u[0] for u in users}) != len(users):
        raise UsageError("--user: a user name is given twice")
    a.users = users
    if not 0 <= a.port <= 65535:
        raise UsageError(f"--port: {a.port} is not a port number (0-65535)")
    check_speed(a.speed)
    if not (math.isfinite(a.read_header_timeout) and 0 < a.read_header_timeout <= 3600):
        raise UsageError(f"--read-header-timeout: must be above 0 and at most 3600, "
                         f"not {a.read_header_timeout}")
    if not 0 <= a.nodes <= 100:
        raise UsageError(f"--nodes: must be 0-100, not {a.nodes}")
    from console.embedded.kubelet.node import CIDR_PODS
    if not 1 <= a.max_pods <= CIDR_PODS:
        raise UsageError(f"--max-pods: must be 1-{CIDR_PODS} (a node's /24 pod CIDR has "
                         f"{CIDR_PODS} addresses for pods), not {a.max_pods}")
    if not re.fullmatch(r"v1\.\d+\.\d+", a.k8s_version):
        raise UsageError(f"--version: expected v1.MINOR.PATCH (like v1.33.1), not {a.k8s_version!r}")
    if a.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise UsageError(f"--log-level: one of DEBUG, INFO, WARNING, ERROR, not {a.log_level!r}")
    return a


MAX_SPEED = 1000.0  # beyond this the shortest controller periods turn into busy loops


def check_speed(speed: float, flag: str = "--speed") -> float:
    """A finite --speed above 0 and at most MAX_SPEED; UsageError naming the flag."""
    if not (math.isfinite(speed) and 0 < speed <= MAX_SPEED):
        raise UsageError(f"{flag}: must be a number above 0 and at most {MAX_SPEED:g}, not {speed}")
    return speed


def kubeconfig_text(server: str, token: str, ca_pem: bytes, users=()) -> str:
    """users: authz.User (restricted ones): a user entry and a context kubelab-NAME each."""
    ca = base64.b64encode(ca_pem).decode()
    entries = [{"name": "kubelab", "user": {"token": token}}]
    contexts = [{"name": "kubelab", "context": {"cluster": "kubelab", "user": "kubelab",
                                                "namespace": "default"}}]
    for u in users:
        entries.append({"name": u.name, "user": {"token": u.token}})
        contexts.append({"name": f"kubelab-{u.name}", "context": {
            "cluster": "kubelab", "user": u.name, "namespace": u.namespace or "default"}})
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "kubelab", "cluster": {"server": server,
                                                     "certificate-authority-data": ca}}],
        "users": entries, "contexts": contexts,
        "current-context": "kubelab"}, sort_keys=False)


def write_private(path: Path, text: str) -> None:
    """Atomically, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_kubeconfig(path: Path, server: str, token: str, ca_pem: bytes, users=()) -> None:
    write_private(path, kubeconfig_text(server, token, ca_pem, users))


def credentials(data: Path | None, users: list[tuple[str, str, str | None]]) -> dict:
    """The serving certificate, the tokens and the last port: fresh per run, or kept
    in DATA/server.json (0600) so a restart looks like a real API server's."""
    from console.embedded.api import conn, tls

    saved = {}
    where = data / "server.json" if data is not None else None
    if where is not None and where.exists():
        try:
            saved = json.loads(where.read_text())
            if not isinstance(saved, dict) or not tls.still_valid(saved["cert"].encode()):
                saved = {}
        except (OSError, ValueError, KeyError, AttributeError):
            raise UsageError(f"--data: {where} is not a kubelab server file; move it away "
                             "to start afresh") from None
    if not saved:
        cert, key = tls.make_cert()
        saved = {"cert": cert.decode(), "key": key.decode(), "token": secrets.token_urlsafe(32),
                 "port": 0, "users": {}}
    tokens = saved.setdefault("users", {})
    for name, _, _ in users:
        tokens.setdefault(name, secrets.token_urlsafe(32))
    return saved


async def serve(args) -> int:
    from aiohttp import web

    from console.embedded import authz
    from console.embedded.api import conn, tls
    from console.embedded.cluster import Cluster
    from console.embedded.persist import DataError
    from console.embedded.server import make_app

    data = args.data.expanduser().absolute() if args.data else None
    creds = credentials(data, args.users)
    try:
        cluster = Cluster(speed=args.speed, nodes=args.nodes, version=args.k8s_version, data=data,
                          metrics=not args.no_metrics, max_pods=args.max_pods)
    except DataError as exc:
        raise UsageError(f"--data: {exc}") from None
    token = creds["token"]
    users = [authz.User(name, creds["users"][name], role, ns) for name, role, ns in args.users]
    app = make_app(cluster, token, users)
    # bodies as sent (Go's server decodes no Content-Encoding); idle as IdleTimeout
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2,
                           auto_decompress=False, keepalive_timeout=conn.IDLE_TIMEOUT)
    await runner.setup()
    cert, key = creds["cert"].encode(), creds["key"].encode()
    ctx = tls.server_context(cert, key)
    listener = None
    tries = [args.port] if args.port else ([creds["port"], 0] if creds.get("port") else [0])
    for port in tries:
        try:
            listener = await conn.listen(runner, "127.0.0.1", port, ctx, args.read_header_timeout)
            break
        except OSError as exc:
            if port == tries[-1]:
                await runner.cleanup()
                await cluster.stop()
                raise UsageError(f"--port: cannot listen on 127.0.0.1:{port}: {exc.strerror}")
            log.warning("port %d of the last run is taken; listening on another", port)
    port = listener.sockets[0].getsockname()[1]
    server = f"https://127.0.0.1:{port}"
    cluster.api_port = port
    if data is not None:
        creds["port"] = port
        write_private(data / "server.json", json.dumps(creds))
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
            write_kubeconfig(path, server, token, cert, users)
        except OSError as exc:
            raise UsageError(f"--kubeconfig: cannot write {path}: {exc.strerror}")
        print(f"KUBECONFIG={path}", flush=True)
        log.info("serving %s", server)
        await stop.wait()
    finally:
        listener.close()
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
    # This process holds every object as dicts and lists: ~700,000 tracked containers
    # with 5,000 pods. With the default thresholds (700, 10, 10) a full collection walks
    # them all each time the heap grows by a quarter: 12 of them, ~3 s of CPU, while
    # 5,000 pods come up. One in ten as many full collections (the third threshold
    # 100) costs about one; the young generations are collected as before.
    gc.set_threshold(700, 10, 100)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(serve(args))

"""Local servers on 127.0.0.1 for the load generator's tests.

`server` (aiohttp, in the test's loop): /ok 200 "hello", /missing 404, /boom 500,
/timeout408 408, /slow?ms=N 200 after N ms, /echo (body back), /moved 301 -> /ok,
/loop 302 -> /loop.
It records every request: path, Host header and the client's port (= connection).
`reset_port`: a raw server that answers every request with a TCP RST.
`refused_port`: a port where nothing listens.
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import sys
from dataclasses import dataclass, field

import pytest
from aiohttp import web

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Seen:
    paths: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    peers: set = field(default_factory=set)
    bodies: list[bytes] = field(default_factory=list)
    ctypes: list[str] = field(default_factory=list)


@dataclass
class Server:
    port: int
    seen: Seen

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


BODIES = {"/ok": b"hello", "/missing": b"nope", "/boom": b"boom!", "/timeout408": b"late"}
CODES = {"/ok": 200, "/missing": 404, "/boom": 500, "/timeout408": 408}


@pytest.fixture
async def server():
    seen = Seen()

    async def handle(request: web.Request) -> web.Response:
        seen.paths.append(request.path)
        seen.hosts.append(request.headers.get("Host", ""))
        seen.peers.add(request.transport.get_extra_info("peername"))
        seen.ctypes.append(request.headers.get("Content-Type", ""))
        body = await request.read()
        seen.bodies.append(body)
        if request.path == "/slow":
            await asyncio.sleep(int(request.query.get("ms", "300")) / 1000)
            return web.Response(body=b"slow")
        if request.path == "/moved":
            return web.Response(status=301, headers={"Location": "/ok"}, body=b"gone")
        if request.path == "/loop":
            return web.Response(status=302, headers={"Location": "/loop"})
        if request.path == "/echo":
            return web.Response(body=body or b"-")
        if request.path in CODES:
            return web.Response(status=CODES[request.path], body=BODIES[request.path])
        return web.Response(status=404, body=b"no route")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield Server(port, seen)
    await runner.cleanup()


@pytest.fixture
async def reset_port():
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # linger 0 + close = RST, as a crashing server sends

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield srv.sockets[0].getsockname()[1]
    srv.close()
    await srv.wait_closed()


@pytest.fixture
def refused_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # bound then closed: nothing listens there
    return port


@pytest.fixture
def state(tmp_path, monkeypatch):
    """A private XDG state dir (the run log goes there) and no kubeconfig."""
    d = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(d))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    return d


@pytest.fixture
def siege_cli(tmp_path):
    """Run `python -m console.cli siege ARGS` with a private state dir; (rc, out, err)."""
    state_dir = tmp_path / "cli-state"

    async def run(args: list[str], timeout: float = 60, **env) -> tuple[int, str, str]:
        return await run_cli(args, cli_env(state_dir, **env), timeout)

    async def start(args: list[str], **env) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "console.cli", "siege", *args, env=cli_env(state_dir, **env),
            cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

    run.state_dir = state_dir
    run.start = start
    run.env = lambda **env: cli_env(state_dir, **env)
    run.cwd = REPO
    return run


def cli_env(state_dir, **extra) -> dict:
    env = dict(os.environ, XDG_STATE_HOME=str(state_dir), PYTHONPATH=REPO)
    env.update(extra)
    return env


async def run_cli(args: list[str], env: dict, timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console.cli", "siege", *args, env=env, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out.decode(), err.decode()

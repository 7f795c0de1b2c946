"""`kubelab serve` opened in headless Chromium (Debian's chromium package): the
console is on the page, as a replay of a tape, live on the embedded cluster and
playing a lab, and keys typed into the page reach it."""

import asyncio
import contextlib
import re
import sys
import uuid

import pytest

from console.cluster import actions
from tests.cluster.helpers import namespace_conn
from tests.tape.synthetic import events, write
from tests.web.browser import Browser, chromium

FIRST_FRAME = "document.body && document.body.classList.contains('-first-byte')"


@pytest.fixture
async def browser():
    binary = chromium()
    if binary is None:
        pytest.skip("Debian's chromium is not installed (scripts/browser installs it, as root)")
    b = await Browser(binary).start()
    yield b
    await b.close()


class Served:
    """`kubelab serve --port 0 ARGS` in a process of its own, and the URL it printed."""

    def __init__(self, *args):
        self.args = ["-m", "console.cli", "serve", "--port", "0", *args]

    async def __aenter__(self):
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, *self.args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        line = (await asyncio.wait_for(self.proc.stdout.readline(), 120)).decode()
        m = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert m, line + (await self.proc.stderr.read()).decode()
        self.url = m.group(0)
        return self

    async def __aexit__(self, *exc):
        self.proc.terminate()
        assert await asyncio.wait_for(self.proc.wait(), 60) == 0


async def until_on_screen(browser, *texts, timeout=90.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        screen = await browser.screen()
        if all(t in screen for t in texts):
            return screen
        if loop.time() > deadline:
            raise AssertionError(f"{texts} not on the page:\n{screen}")
        await asyncio.sleep(0.1)


async def test_a_replay_served_to_a_browser_shows_the_console_and_takes_keys(browser, tmp_path):
    write(tmp_path / "lab.tape", events())
    async with Served("replay", str(tmp_path / "lab.tape"), "--step", "2") as served:
        await browser.open(served.url)
        await browser.until(FIRST_FRAME, 90)
        screen = await until_on_screen(browser, "Pods", "order-6", "step 2/6", "Probe events")
        assert "❚❚" in screen                       # paused at the step asked for
        png = await browser.screenshot(tmp_path / "replay.png")
        assert png.startswith(b"\x89PNG") and len(png) > 20_000
        await browser.type("]")
        await until_on_screen(browser, "step 3/6")


async def test_the_live_console_served_on_the_embedded_cluster(browser, cluster, tmp_path):
    conn = namespace_conn(cluster, "web")
    assert actions.apply(conn, "manifests/order.yaml").ok
    async with Served("--free", "--kubeconfig", str(cluster.kubeconfig), "-n", conn.namespace) as served:
        await browser.open(served.url)
        await browser.until(FIRST_FRAME, 90)
        screen = await until_on_screen(browser, "Pods", "● live", conn.namespace, "order-")
        assert "Rollout deployment/order" in screen
        await browser.screenshot(tmp_path / "live.png")


PLAYED = """\
apiVersion: kubelab/v1
kind: Scenario
metadata: {id: served, title: Served lab, lab: T1, source: test}
defaults: {timeouts: {wait: 60s}, interval: 0.2s}
steps:
  - id: web
    title: A pod of its own
    solve:
      - apply:
          yaml:
            apiVersion: v1
            kind: Pod
            metadata: {name: web, labels: {app: web}}
            spec: {containers: [{name: web, image: "nginx:1.17.0"}]}
    wait:
      - podsReady: {name: web}
"""


async def test_a_lab_played_in_a_browser_runs_its_steps_on_the_page(browser, cluster, tmp_path):
    lab = tmp_path / "served.yaml"
    lab.write_text(PLAYED)
    ns = f"web-play-{uuid.uuid4().hex[:5]}"
    async with Served("play", str(lab), "--pace", "0", "--kubeconfig", str(cluster.kubeconfig),
                      "-n", ns) as served:
        await browser.open(served.url)
        await browser.until(FIRST_FRAME, 90)
        screen = await until_on_screen(browser, "Lab: Served lab", "✓ web", "lab passed", ns)
        assert re.search(r"web +1/1 +Running", screen), screen
        await browser.screenshot(tmp_path / "play.png")


def test_serve_checks_its_input_before_serving(tmp_path, capsys):
    from console.cli import main as kubelab
    tape = tmp_path / "ok.tape"
    write(tape, events(20))
    bad = tmp_path / "x.tape"
    bad.write_text("not a tape\n")
    assert kubelab(["serve", "replay", str(bad)]) == 2
    assert f"{bad}:1: not a kubelab tape" in capsys.readouterr().err
    assert kubelab(["serve", "--record", str(tmp_path / "t.tape")]) == 2
    assert "each browser tab is a session of its own" in capsys.readouterr().err
    assert kubelab(["serve", "--port", "70000"]) == 2
    capsys.readouterr()
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert kubelab(["serve", "--port", str(port), "replay", str(tape)]) == 2
    assert f"--port: cannot listen on 127.0.0.1:{port}: Address already in use" in capsys.readouterr().err
    ns = f"x-{uuid.uuid4().hex[:4]}"
    assert kubelab(["serve", "play", str(tmp_path / "missing.yaml"), "-n", ns]) == 2
    capsys.readouterr()
    assert kubelab(["serve", "--metrics-manifest", str(tape)]) == 2     # each tab's M: once, here
    assert f"--metrics-manifest: {tape}:2: expected" in capsys.readouterr().err


def test_serve_hands_the_tabs_an_absolute_metrics_manifest(tmp_path, monkeypatch):
    from console.embedded.metrics import manifests
    from console.ui.serve import session_argv
    import yaml
    monkeypatch.chdir(tmp_path)
    (tmp_path / "components.yaml").write_text(yaml.safe_dump_all([o for _, o in manifests.OBJECTS]))
    argv, _ = session_argv("tui", ["--kubeconfig", "k", "--metrics-manifest=components.yaml"])
    assert argv == ["--kubeconfig", "k", "--metrics-manifest", str(tmp_path / "components.yaml")]


async def test_the_page_names_the_address_the_browser_used_behind_a_port_preview():
    """A cloud IDE's port preview (https://8000-<workspace>/) proxies to our loopback
    port: the page's scripts and websocket must name the preview's address."""
    import aiohttp

    from console.ui.serve import serve_command
    ready = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(serve_command("true", 0, ready=ready.set_result))
    try:
        url = await asyncio.wait_for(ready, 60)
        here = url.rstrip("/").split("://")[1]
        previews = [
            ({}, f"ws://{here}/ws", f"http://{here}/static/"),
            ({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "8000-ws-abc.gitpod.io"},
             "wss://8000-ws-abc.gitpod.io/ws", "https://8000-ws-abc.gitpod.io/static/"),
            ({"Forwarded": 'proto=https;host="kl-8000.app.github.dev"'},
             "wss://kl-8000.app.github.dev/ws", "https://kl-8000.app.github.dev/static/"),
            ({"X-Forwarded-Proto": "gopher", "X-Forwarded-Host": 'x"><script>'},   # not taken
             f"ws://{here}/ws", f"http://{here}/static/"),
        ]
        async with aiohttp.ClientSession() as http:
            for headers, ws, static in previews:
                async with http.get(url, headers=headers) as r:
                    page = await r.text()
                assert r.status == 200 and f'data-session-websocket-url="{ws}"' in page, headers
                assert f'src="{static}js/textual.js"' in page and 'x"><script>' not in page
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server

"""An exported .cast plays in asciinema-player (npm) in headless Chromium: it
loads, shows the console, stops at the step markers it carries, and ends."""

import asyncio
import json
from pathlib import Path

import pytest

from console.cli import main as kubelab
from tests.tape.synthetic import events, write
from tests.web.browser import Browser, chromium

PLAYER = Path(__file__).resolve().parents[2] / ".venv/npm/node_modules/asciinema-player/dist/bundle"

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>{css}</style></head>
<body><div id="player"></div><script>{js}</script><script>
const player = AsciinemaPlayer.create({{data: {cast}}}, document.getElementById("player"),
  {{autoPlay: true, speed: 8, pauseOnMarkers: true}});
window.__events = [];
for (const name of ["play", "playing", "pause", "ended", "marker"])
  player.addEventListener(name, (e) => window.__events.push(name));
window.__player = player;
window.__text = () => document.querySelector(".ap-term, .ap-terminal, pre")?.innerText || "";
</script></body></html>"""


@pytest.fixture
async def browser():
    binary = chromium()
    if binary is None:
        pytest.skip("Debian's chromium is not installed (scripts/browser installs it, as root)")
    if not (PLAYER / "asciinema-player.min.js").is_file():
        pytest.skip("asciinema-player is not installed (scripts/browser installs it with npm)")
    b = await Browser(binary).start()
    yield b
    await b.close()


async def test_an_exported_cast_plays_in_asciinema_player(browser, tmp_path, capsys):
    write(tmp_path / "lab.tape", events(120))          # two step markers
    cast = tmp_path / "lab.cast"
    args = ["replay", str(tmp_path / "lab.tape"), "--export", str(cast), "--size", "100x30"]
    assert await asyncio.to_thread(kubelab, args) == 0          # it runs its own event loop
    capsys.readouterr()
    page = tmp_path / "player.html"
    page.write_text(PAGE.format(css=(PLAYER / "asciinema-player.css").read_text(),
                                js=(PLAYER / "asciinema-player.min.js").read_text(),
                                cast=json.dumps(cast.read_text())), encoding="utf-8")
    await browser.open(page.as_uri())
    await browser.until("window.__player && window.__text().includes('Pods')", 60)
    duration = await browser.until("window.__player.getDuration()", 30)
    last = json.loads(cast.read_text().splitlines()[-1])[0]
    assert duration == pytest.approx(last, abs=0.01)
    # it pauses at the first step's marker; played on, it pauses at the next, then ends
    for _ in range(2):
        await browser.until("window.__events.includes('pause')", 60)
        assert "order-" in await browser.evaluate("window.__text()")
        await browser.evaluate("window.__events = []; window.__player.play()")
    await browser.until("window.__events.includes('ended')", 60)
    assert "step 2/2" in await browser.evaluate("window.__text()")
    await browser.screenshot(tmp_path / "player.png")

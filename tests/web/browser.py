"""Headless Chromium (Debian's chromium package) driven over the DevTools protocol,
with aiohttp's websocket client: open a page, wait for a condition in it, read the
console's terminal text, take a screenshot.

The console is drawn by xterm.js on a canvas, so its text is not in the DOM; a
script added before the page loads keeps the textual-serve terminal objects it
creates (their `websocket_url` property is set first), and the text is then read
through xterm.js's public buffer API.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile

import aiohttp

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--remote-debugging-port=0", "--window-size=1400,900"]

KEEP_TERMINALS = """
Object.defineProperty(Object.prototype, "websocket_url", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "websocket_url", {value, writable: true, enumerable: true, configurable: true});
    (window.__terminals = window.__terminals || []).push(this);
  },
});
"""

FIRST_FRAME = """
document.addEventListener("DOMContentLoaded", () => {
  new MutationObserver(() => {
    if (!window.__firstFrame && document.body.classList.contains("-first-byte"))
      window.__firstFrame = performance.now();   // ms from the page's navigation start
  }).observe(document.body, {attributes: true});
});
"""

SCREEN_TEXT = """
(() => {
  const t = (window.__terminals || [])[0];
  if (!t || !t.terminal) return null;
  const b = t.terminal.buffer.active, out = [];
  for (let i = 0; i < t.terminal.rows; i++) {
    const line = b.getLine(b.viewportY + i);
    out.push(line ? line.translateToString(true) : "");
  }
  return out.join("\\n");
})()
"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    def __init__(self, binary: str):
        self.dir = tempfile.mkdtemp(prefix="kubelab-chromium-")
        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self.dir}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.ids = itertools.count(1)
        self.ws = self.http = self.session = None
        self.events: list[dict] = []
        self.waiting: dict[int, asyncio.Future] = {}

    async def start(self, timeout: float = 60) -> Browser:
        loop = asyncio.get_running_loop()
        url = await asyncio.wait_for(loop.run_in_executor(None, self._devtools_url), timeout)
        self.http = aiohttp.ClientSession()
        self.ws = await self.http.ws_connect(url, max_msg_size=0)
        self.reader = asyncio.create_task(self._read())
        return self

    def _devtools_url(self) -> str:
        for line in self.proc.stderr:
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            if m:
                return m.group(1)
        raise RuntimeError(f"chromium exited ({self.proc.wait()}) before DevTools listened")

    async def _read(self):
        async for msg in self.ws:
            data = json.loads(msg.data)
            fut = self.waiting.pop(data.get("id"), None)
            if fut is not None and not fut.done():
                fut.set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def call(self, method: str, session: str | None = None, timeout: float = 60, **params):
        n = next(self.ids)
        fut = asyncio.get_running_loop().create_future()
        self.waiting[n] = fut
        msg = {"id": n, "method": method, "params": params}
        if session or self.session:
            msg["sessionId"] = session or self.session
        await self.ws.send_str(json.dumps(msg))
        data = await asyncio.wait_for(fut, timeout)
        if "error" in data:
            raise RuntimeError(f"{method}: {data['error']}")
        return data.get("result", {})

    async def open(self, url: str) -> None:
        """A fresh tab at `url`, with the terminal kept for reading."""
        target = await self.call("Target.createTarget", url="about:blank")
        self.target = target["targetId"]
        attached = await self.call("Target.attachToTarget", targetId=self.target, flatten=True)
        self.session = attached["sessionId"]
        await self.call("Page.enable")
        await self.call("Page.addScriptToEvaluateOnNewDocument", source=KEEP_TERMINALS + FIRST_FRAME)
        await self.call("Page.navigate", url=url)

    async def close_tab(self) -> None:
        """Close the tab (its console's websocket closes, and textual-serve ends it)."""
        session, self.session = self.session, None
        await self.call("Target.closeTarget", targetId=self.target)
        self.events = [e for e in self.events if e.get("sessionId") != session]

    async def evaluate(self, expression: str):
        res = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return res.get("result", {}).get("value")

    async def until(self, expression: str, timeout: float = 60.0, every: float = 0.05):
        """The expression's value once it is truthy (AssertionError after `timeout`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if loop.time() > deadline:
                raise AssertionError(f"not in time: {expression[:80]} (last: {value!r})")
            await asyncio.sleep(every)

    async def screen(self) -> str:
        return await self.evaluate(SCREEN_TEXT) or ""

    async def type(self, key: str) -> None:
        """A key typed into the terminal (focused first, as a click would)."""
        await self.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
        await self.call("Input.dispatchKeyEvent", type="keyDown", key=key, text=key)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=key)

    async def screenshot(self, path) -> bytes:
        png = base64.b64decode((await self.call("Page.captureScreenshot", format="png"))["data"])
        with open(path, "wb") as f:
            f.write(png)
        return png

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.http is not None:
            await self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

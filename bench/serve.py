"""`kubelab serve` in headless Chromium: the time from a page's navigation
start to the first frame of the console in it (textual-serve's first bytes
on the terminal) and to the console drawn (its Pods pane on the page),
beside a minimal Textual app served the same way (the floor: a Python
process that starts Textual and writes one screen) in the same run.

    .venv/bin/python bench/serve.py [--runs 5]

Needs Debian's chromium (scripts/browser). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.tape.synthetic import events, write  # noqa: E402
from tests.web.browser import Browser, chromium  # noqa: E402

HELLO = """
from textual.app import App
from textual.widgets import Static
class Hello(App):
    def compose(self):
        yield Static("Pods")
Hello().run()
"""


async def serve(*args: str):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console.cli", "serve", "--port", "0", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
    return proc, re.search(r"http://\S+/", line).group(0)


async def one(browser: Browser, url: str, text: str) -> tuple[float, float]:
    await browser.open(url)
    first = await browser.until("window.__firstFrame", 120, every=0.02)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while text not in await browser.screen():
        if loop.time() > deadline:
            raise SystemExit(f"bench: {text!r} never showed on {url}")
        await asyncio.sleep(0.02)
    drawn = await browser.evaluate("performance.now()")
    await browser.close_tab()
    await asyncio.sleep(0.5)          # its console process ends before the next tab
    return first / 1000, drawn / 1000


async def main_async(args) -> None:
    binary = chromium()
    if binary is None:
        raise SystemExit("bench: Debian's chromium is not installed (scripts/browser)")
    with tempfile.TemporaryDirectory(prefix="kubelab-serve-") as tmp:
        tape = os.path.join(tmp, "lab.tape")
        write(tape, events())
        hello = os.path.join(tmp, "hello.py")
        with open(hello, "w") as f:
            f.write(HELLO)
        browser = await Browser(binary).start()
        results = {}
        try:
            for name, cmd, text in (("kubelab serve replay", ["replay", tape], "Pods"),):
                proc, url = await serve(*cmd)
                try:
                    results[name] = [await one(browser, url, text) for _ in range(args.runs)]
                finally:
                    proc.terminate()
                    await proc.wait()
            # the floor: the same server (textual-serve's handlers) starting a minimal app
            from console.ui import serve as ours
            urls: list[str] = []
            task = asyncio.create_task(ours.serve_command(f"{sys.executable} {hello}", 0, ready=urls.append))
            while not urls:
                await asyncio.sleep(0.05)
            results["textual-serve, a minimal Textual app"] = [await one(browser, urls[0], "Pods")
                                                               for _ in range(args.runs)]
            task.cancel()
        finally:
            await browser.close()
    floor = statistics.median(f for f, _ in results["textual-serve, a minimal Textual app"])
    print(f"headless Chromium, {args.runs} page loads each; times from navigation start (median, max)")
    for name, runs in results.items():
        first = [f for f, _ in runs]
        drawn = [d for _, d in runs]
        print(f"  {name:40} first frame {statistics.median(first) * 1000:5.0f} ms (max {max(first) * 1000:.0f})"
              f"   console drawn {statistics.median(drawn) * 1000:5.0f} ms"
              f"   first frame / floor {statistics.median(first) / floor:.2f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    t0 = time.time()
    asyncio.run(main_async(args))
    print(f"({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

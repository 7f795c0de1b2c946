"""Keys on fixed data (no cluster): filter, confirmations on a real cluster, palette, errors."""

from console.cluster.connect import Connection
from console.ui.app import KubelabApp
from tests.ui import data
from tests.ui.feed import feed, until


def app(conn=None):
    return KubelabApp(conn, now=lambda: data.NOW, watch=False)


async def test_filter_narrows_the_pods_and_empty_shows_all():
    a = app()
    async with a.run_test(size=(120, 36)) as pilot:
        await feed(a, pilot, with_load=False)
        await pilot.press("slash", *"crash", "enter")
        await until(pilot, lambda: len(a.pods_table.printed) == 1)
        assert next(iter(a.pods_table.printed.values())).status == "CrashLoopBackOff"
        assert a.pods_table.border_subtitle == "/crash  1/5"
        await pilot.press("slash")
        await pilot.press(*["backspace"] * 5, "enter")
        await until(pilot, lambda: len(a.pods_table.printed) == 5)


def real_conn():
    from kubernetes import client
    cfg = client.Configuration()
    cfg.host = "https://127.0.0.1:9"        # nothing listens: any call fails fast
    return Connection(client.ApiClient(cfg), "default", "prod", None)


async def test_destructive_keys_ask_first_on_a_real_cluster():
    a = app(real_conn())
    async with a.run_test(size=(120, 36)) as pilot:
        await feed(a, pilot, with_load=False)
        a.pods_table.focus()
        await pilot.press("k")
        await until(pilot, lambda: type(a.screen).__name__ == "ConfirmDialog")
        assert "Delete pod order-5f4b8c7d9-j7k8l on prod?" in str(a.screen.query_one(".title").render())
        await pilot.press("n")
        await until(pilot, lambda: type(a.screen).__name__ == "Screen")
        assert not a._notifications            # nothing was sent
        await pilot.press("u", "y")            # undo, confirmed: the API error is shown
        await until(pilot, lambda: any("cannot reach the API server" in str(n.message)
                                       for n in a._notifications), 60)


async def test_scale_up_asks_nothing_and_reports_the_api_error():
    a = app(real_conn())
    async with a.run_test(size=(80, 24)) as pilot:
        await feed(a, pilot, with_load=False)
        await pilot.press("plus")
        await until(pilot, lambda: any(n.title == "scale" for n in a._notifications), 60)
        note = next(n for n in a._notifications if n.title == "scale")
        assert note.severity == "error" and "Traceback" not in note.message


async def test_every_action_is_in_the_command_palette():
    a = app()
    async with a.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(a.screen).__name__ == "CommandPalette")
        await pilot.press(*"autoscale")
        await until(pilot, lambda: "Autoscale (create / delete HPA)" in
                    " ".join(str(o.prompt) for o in a.screen.query_one("CommandList")._options))
        await pilot.press("escape")


async def test_help_lists_every_key():
    a = app()
    async with a.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: type(a.screen).__name__ == "HelpScreen")
        listed = {k for k, _ in a.screen.keys}
        assert {"l", "L", "r", "u", "+", "-", "a", "k", "f", "/", ":", "?", "q"} <= listed

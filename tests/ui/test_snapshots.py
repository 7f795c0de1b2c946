"""Every pane and dialog at 80x24 and 160x48 (and 120x36, the wide layout at its
narrowest), from fixed data fed through the bus."""

import pytest

from console import bus
from console.ui.app import KubelabApp
from tests.ui import data
from tests.ui.feed import feed, until

SIZES = [(80, 24), (160, 48)]
WITH_120 = SIZES + [(120, 36)]


def app():
    a = KubelabApp(now=lambda: data.NOW, watch=False)
    # The fixed data may reach the table in one batch or, on a busy machine, in two;
    # the second would flash its rows. Flashes have Pilot tests of their own.
    a.pods_table.flash_seconds = 0
    return a


def before(*keys, load=True):
    async def run(pilot):
        from textual.widgets import Input
        await feed(pilot.app, pilot, with_load=load)
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
        # a blinking cursor is on or off depending on when the picture is taken: off,
        # so a dialog's snapshot does not hang on the machine's speed
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()
    return run


@pytest.mark.parametrize("size", WITH_120)
def test_pods_and_probe_events(snap_compare, size):
    # 120x36 is about the pods columns and the log; its progress bar sits on a
    # half-cell boundary that the bar does not draw the same way every time.
    load = size != (120, 36)
    assert snap_compare(app(), terminal_size=size, run_before=before("1", load=load))


@pytest.mark.parametrize("size", SIZES)
def test_hpa_pane(snap_compare, size):
    assert snap_compare(app(), terminal_size=size, run_before=before("2"))


@pytest.mark.parametrize("size", SIZES)
def test_rollout_pane(snap_compare, size):
    assert snap_compare(app(), terminal_size=size, run_before=before("3"))


@pytest.mark.parametrize("size", SIZES)
def test_load_pane_running(snap_compare, size):
    assert snap_compare(app(), terminal_size=size, run_before=before("4"))


SUMMARY = """Transactions:\t\t        4180 hits
Availability:\t\t       99.29 %
Elapsed time:\t\t       40.02 secs
Response time:\t\t        0.05 secs
Transaction rate:\t      104.45 trans/sec
Successful transactions:        4180
Failed transactions:\t          30
Longest transaction:\t        0.90
Shortest transaction:\t        0.01"""


@pytest.mark.parametrize("size", WITH_120)
def test_load_pane_finished_with_siege_summary(snap_compare, size):
    async def run(pilot):
        await before("4")(pilot)
        pilot.app.bus.publish(bus.LoadDone(run="r1", summary=SUMMARY, data={"availability": 99.29}))
        await until(pilot, lambda: "Load finished" in str(pilot.app.query_one("#load").border_title))
        pilot.app.clear_notifications()
        await pilot.pause()
    assert snap_compare(app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_empty_namespace(snap_compare, size):
    async def run(pilot):
        for kind in ("pods", "deployments", "hpas"):
            pilot.app.bus.publish(bus.Synced(kind=kind, uids=[]))
        pilot.app.bus.publish(bus.Metrics(available=False, hint="error: Metrics API not available"))
        await until(pilot, lambda: pilot.app.state.metrics_seen and "hpas" in pilot.app.state.synced)
        await pilot.press("2")
        await pilot.pause()
    assert snap_compare(app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", [(80, 24)])
def test_a_long_question_wraps(snap_compare, size):
    from console.ui.screens.dialogs import ConfirmDialog

    async def run(pilot):
        pilot.app.push_screen(ConfirmDialog("Roll back deployment/order on "
                                            "arn:aws:eks:us-east-1:123456789012:cluster/abc-eks?"))
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmDialog")
        await pilot.pause()
    assert snap_compare(app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, size):
    assert snap_compare(app(), terminal_size=size, run_before=before("question_mark", load=False))


@pytest.mark.parametrize("key", ["a", "f", "r"])
def test_dialogs(snap_compare, key):
    assert snap_compare(app(), terminal_size=(80, 24), run_before=before(key, load=False))


def test_load_dialog_prefilled_with_the_labs_command(snap_compare):
    assert snap_compare(app(), terminal_size=(80, 24), run_before=before("l", load=False))

"""Snapshots of the pods table: sorted, filtered, a flashing row, after a
resize, 10,000 rows scrolled to the end, and NO_COLOR."""

import copy

import pytest

from console import bus
from console.ui.app import KubelabApp
from tests.ui import data
from tests.ui.feed import feed, until
from tests.ui.test_pods_table import loaded

SIZES = [(80, 24), (160, 48)]


def app():
    return KubelabApp(now=lambda: data.NOW, watch=False)


def keys(*pressed):
    async def run(pilot):
        await feed(pilot.app, pilot, with_load=False)
        await pilot.press(*pressed)
        await pilot.pause()
    return run


@pytest.mark.parametrize("size", SIZES)
def test_sorted_by_restarts(snap_compare, size):
    assert snap_compare(app(), terminal_size=size, run_before=keys("down", "T"))


def test_sorted_by_age_reversed(snap_compare):
    assert snap_compare(app(), terminal_size=(80, 24), run_before=keys("A", "A"))


def test_filtered(snap_compare):
    async def run(pilot):
        await keys("slash", *"node-2", "enter")(pilot)
        table = pilot.app.pods_table
        await until(pilot, lambda: len(table.printed) == 2 and not table.pending)
        await pilot.pause()
    assert snap_compare(app(), terminal_size=(80, 24), run_before=run)


def test_a_flashing_row(snap_compare):
    async def run(pilot):
        await feed(pilot.app, pilot, with_load=False)
        table = pilot.app.pods_table
        table.flash_seconds = 3600          # still flashing when the picture is taken
        pod = copy.deepcopy(table.pods["uid-order-7c9d8f6b5-g5h6i"])
        pod["status"]["containerStatuses"][0]["ready"] = True
        pod["status"]["conditions"][0].update(status="True", lastTransitionTime=data.iso(data.NOW))
        pilot.app.bus.publish(bus.ObjectChanged(kind="pods", type="MODIFIED", obj=pod, ts=data.NOW))
        await until(pilot, lambda: table.printed["uid-order-7c9d8f6b5-g5h6i"].ready == "1/1"
                    and not table.pending)
        pilot.app.clear_notifications()
        await pilot.pause()
    assert snap_compare(app(), terminal_size=(80, 24), run_before=run)


def test_resized_from_160x48_to_80x24(snap_compare):
    async def run(pilot):
        await keys("down", "down")(pilot)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
    assert snap_compare(app(), terminal_size=(160, 48), run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_10000_rows_scrolled_to_the_end(snap_compare, size):
    async def run(pilot):
        await loaded(pilot.app, pilot, 10_000)
        await pilot.press("end")
        await pilot.pause()
    assert snap_compare(app(), terminal_size=size, run_before=run)


def test_no_color(snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(app(), terminal_size=(80, 24), run_before=keys("down", "down"))

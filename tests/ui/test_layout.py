"""Layout at the sizes people use: the pods columns fit, siege's summary keeps
each field on one line, probe events wrap under their own time stamp."""

import pytest
from rich.console import Console
from rich.text import Text

from console.loadgen import summary as siege
from console.ui.app import KubelabApp
from console.ui.panes.columns import GAP, NAMES, clip, fit, squeeze
from console.ui.panes.probes import INDENT, Hanging
from console.ui.panes.summary import SiegeSummary
from tests.ui import data
from tests.ui.feed import feed

LONGEST = {"NAME": 21, "STATUS": 17, "RESTARTS": 11, "NODE": 14}   # the embedded cluster's


@pytest.mark.parametrize("avail", [66, 70, 72, 76, 98, 150])
def test_columns_fill_the_pane_exactly(avail):
    widths = fit(avail, LONGEST)
    assert sum(widths) + GAP * len(NAMES) == avail   # NODE, last, takes what is left
    assert widths[0] >= 12 and widths[-1] >= 8


def test_columns_never_below_their_minimum():
    widths = fit(40, LONGEST)
    assert widths[0] == 12 and widths[-1] == 8       # the table scrolls rather than shows nothing


def test_name_is_kept_whole_first_then_node_gets_the_rest():
    at_120 = fit(72, LONGEST)                        # 120 columns: the wide layout's pods pane
    assert at_120[0] >= 19 and at_120[-1] >= 8
    assert fit(74, LONGEST)[0] == 21
    assert fit(98, LONGEST) == (21, 5, 17, 11, 5, 33)  # 100 columns: all of it, NODE last
    assert fit(60, LONGEST)[0] < 21                  # too narrow: NAME gives way too


def test_status_and_restarts_as_wide_as_their_values():
    narrow = fit(72, {"NAME": 21, "STATUS": 7, "RESTARTS": 1, "NODE": 14})
    assert narrow[2] == len("STATUS") + 1 and narrow[3] == len("RESTARTS")
    assert narrow[-1] >= 14                          # the whole node name
    assert fit(72, {"STATUS": 40})[2] == 17          # capped


def test_squeeze_keeps_both_ends():
    assert squeeze("order-cc74d88b9-m9wm4", 21) == "order-cc74d88b9-m9wm4"
    cut = squeeze("order-cc74d88b9-m9wm4", 15)
    assert len(cut) == 15 and cut.startswith("order") and cut.endswith("m9wm4") and "…" in cut
    assert squeeze("kubelab-node-1", 11) == "kube…node-1"
    assert clip("CreateContainerConfigError", 17) == "CreateContainerC…"


SUMMARY = siege.siege_block({
    "transactions": 12014, "availability": 100.0, "elapsed_time": 40.0, "data_transferred": 2.72,
    "response_time": 0.07, "transaction_rate": 282.89, "throughput": 0.07, "concurrency": 19.85,
    "successful_transactions": 12014, "failed_transactions": 0, "longest_transaction": 0.5,
    "shortest_transaction": 0.0})


@pytest.mark.parametrize("width", [20, 30, 39, 44, 80])
def test_siege_summary_one_line_per_field(width):
    console = Console(width=width, color_system=None, record=True)
    console.print(SiegeSummary(SUMMARY))
    lines = console.export_text().rstrip("\n").split("\n")
    assert len(lines) == 12 and all(len(line) <= width for line in lines)
    rate = next(line for line in lines if "282.89" in line)
    assert rate.endswith("282.89 trans/sec")         # the unit stays with its value


def test_siege_summary_aligned_when_wide():
    lines = [t.plain for t in SiegeSummary(SUMMARY).lines(60)]
    assert lines[0] == "Transactions:" + " " * 13 + "12014 hits"
    assert {line.index(".") for line in lines[1:8]} == {28}   # the decimal points line up


def test_abort_notice_is_one_paragraph():
    text = siege.ABORT.format(n=10) + SUMMARY
    lines = [t.plain for t in SiegeSummary(text).lines(80)]
    assert lines[0].startswith("siege aborted") and lines[0].endswith("(now 10)")
    assert lines[1].startswith("Transactions:")


def test_probe_event_continues_indented():
    text = Text("09:13:28 Unhealthy  order-cc74d88b9-wpjm4 Readiness probe failed: Get "
                '"http://10.244.2.2:8080/actuator/health": dial tcp 10.244.2.2:8080: connect: '
                "connection refused (x2)")
    lines = [t.plain for t in Hanging(text).lines(Console(), 60)]
    assert len(lines) > 1 and lines[0].startswith("09:13:28")
    assert all(line.startswith(" " * INDENT) and line[INDENT] != " " for line in lines[1:])
    assert all(len(line) <= 60 for line in lines)
    assert " ".join(line.strip() for line in lines).replace("  ", " ") == \
        " ".join(text.plain.split())                  # nothing lost


async def test_pods_show_node_at_120_columns_and_log_fits():
    app = KubelabApp(now=lambda: data.NOW, watch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await feed(app, pilot, with_load=False)
        table = app.query_one("#pods")
        assert sum(table.widths) + GAP * len(NAMES) <= table.scrollable_content_region.width
        assert table.widths[0] >= len("order-7c9d8f6b5-a1b2c")   # names whole
        log = app.query_one("#probes")
        assert all(strip.cell_length <= log.scrollable_content_region.width for strip in log.lines)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert all(strip.cell_length <= log.scrollable_content_region.width for strip in log.lines)


async def test_a_lab_at_80x24_leaves_the_pods_rows_to_see():
    """The lab pane on top and the probe log below must not squeeze the pods to nothing."""
    from console import bus
    app = KubelabApp(now=lambda: data.NOW, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await feed(app, pilot, with_load=False)
        app.scenario_pane.display = True
        steps = [{"id": f"step-{i}", "title": f"Step {i}"} for i in range(8)]
        for ev in (bus.ScenarioStarted(run="r", scenario="l1", title="A lab", mode="learner",
                                       steps=steps),
                   bus.StepStarted(run="r", step="step-0", title="Step 0", gate="learner",
                                   narration="A long narration. " * 12,
                                   command="kubectl autoscale deployment order --cpu-percent=50"),
                   bus.CheckResult(run="r", step="step-0", check="hpa order", observed="none",
                                   final=False)):
            app.scenario_event(ev)
        await pilot.press("1")                       # the probe log below the pods
        await pilot.pause()
        table = app.query_one("#pods")
        assert table.scrollable_content_region.height >= 5, table.scrollable_content_region
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert app.query_one("#pods").scrollable_content_region.height >= 20

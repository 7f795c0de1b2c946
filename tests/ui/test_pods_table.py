"""The pods table with Pilot: sorting, the filter, flashes, resize, the
selection staying on its pod, the mouse, and 10,000 rows."""

import copy
import random

from console import bus
from console.cluster.printer import pod_row
from console.ui.app import KubelabApp
from console.ui.panes.columns import GAP, NAMES
from console.ui.panes.pods import FLASH_SECONDS
from console.ui.panes.rows import SORTS, PodRows
from tests.ui import data
from tests.ui.feed import feed, until

NAME = {p["metadata"]["uid"]: p["metadata"]["name"] for p in
        (e.obj for e in data.events() if isinstance(e, bus.ObjectChanged) and e.kind == "pods")}


def app():
    return KubelabApp(now=lambda: data.NOW, watch=False)


def screen_lines(table) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def shown_names(table) -> list[str]:
    return [table.printed[uid].name for uid in table.model.order]


def reversed_line(table, uid) -> bool:
    """Is the row of `uid` drawn in reverse (flashing)?"""
    top = int(table.scroll_offset.y)
    y = table.model.order.index(uid) - top + 1
    return any(seg.style and seg.style.reverse for seg in table.render_line(y))


def publish_pods(a, pods, synced=True):
    for p in pods:
        a.bus.publish(bus.ObjectChanged(kind="pods", type="ADDED", obj=p, ts=data.NOW))
    if synced:
        a.bus.publish(bus.Synced(kind="pods", uids=[p["metadata"]["uid"] for p in pods], ts=data.NOW))


def many(n, prefix="web"):
    return [data.pod(f"{prefix}-{i:05d}", restarts=i % 7, age=10 + (i * 37) % 5000,
                     node=f"kubelab-node-{i % 3 + 1}") for i in range(n)]


async def loaded(a, pilot, n):
    """`n` pods listed and drawn; returns them."""
    pods = many(n)
    publish_pods(a, pods)
    await until(pilot, lambda: len(a.pods_table.printed) == n and not a.pods_table.pending, 120)
    return pods


async def test_every_column_sorts_and_the_selection_stays_on_its_pod():
    a = app()
    async with a.run_test(size=(120, 36)) as pilot:
        await feed(a, pilot, with_load=False)
        table = a.pods_table
        assert shown_names(table)[0] == "order-5f4b8c7d9-j7k8l"          # by name, as kubectl
        assert "NAME↑" in screen_lines(table)[0]
        await pilot.press("down")
        picked = table.selected_uid()
        assert NAME[picked] == "order-7c9d8f6b5-a1b2c"

        await pilot.press("T")                                            # most restarts first
        assert shown_names(table)[0] == "order-7c9d8f6b5-d3e4f"
        assert "RESTARTS↓" in screen_lines(table)[0]
        assert table.selected_uid() == picked
        await pilot.press("T")                                            # again: reversed
        assert shown_names(table)[-1] == "order-7c9d8f6b5-d3e4f"
        assert "RESTARTS↑" in screen_lines(table)[0]

        await pilot.press("A")                                            # youngest first
        assert shown_names(table)[:2] == ["order-7c9d8f6b5-m9n0p", "order-7c9d8f6b5-g5h6i"]
        assert shown_names(table)[-1] == "order-5f4b8c7d9-j7k8l"
        await pilot.press("S")                                            # worst first
        assert [table.printed[u].status for u in table.model.order][:2] == ["CrashLoopBackOff",
                                                                            "ContainerCreating"]
        assert table.printed[table.model.order[-1]].ready == "1/1"
        await pilot.press("R")                                            # least ready first
        assert [table.printed[u].ready for u in table.model.order] == ["0/1"] * 3 + ["1/1"] * 2
        await pilot.press("O")
        assert [table.printed[u].node for u in table.model.order] == ["kubelab-node-1"] * 3 + \
            ["kubelab-node-2"] * 2
        await pilot.press("N")
        assert shown_names(table) == sorted(shown_names(table))
        assert table.selected_uid() == picked                             # through every sort
        row = table.model.order.index(picked) - int(table.scroll_offset.y) + 1
        assert "order-7c9d8f6b5-a1b2c" in screen_lines(table)[row]


async def test_filter_keeps_or_moves_the_selection_and_shows_in_the_border():
    a = app()
    async with a.run_test(size=(120, 36)) as pilot:
        await feed(a, pilot, with_load=False)
        table = a.pods_table
        await pilot.press("down", "down")
        assert NAME[table.selected_uid()] == "order-7c9d8f6b5-d3e4f"     # on kubelab-node-2
        await pilot.press("slash", *"node-2", "enter")
        await until(pilot, lambda: len(table.printed) == 2)
        assert table.border_subtitle == "/node-2  2/5"
        assert NAME[table.selected_uid()] == "order-7c9d8f6b5-d3e4f"     # still there: kept
        await pilot.press("slash", *["backspace"] * 6, *"running", "enter")
        await until(pilot, lambda: len(table.printed) == 2)
        # the selected pod is filtered out: the one that took its place is selected
        assert NAME[table.selected_uid()] == "order-7c9d8f6b5-g5h6i"
        assert all("Running" in line for line in screen_lines(table)[1:3])
        await pilot.press("slash", *["backspace"] * 7, "enter")
        await until(pilot, lambda: len(table.printed) == 5)
        assert table.border_subtitle == "5"


async def test_pods_not_shown_change_or_go_without_a_repaint():
    """A pod the filter hides changes, one never listed is deleted (a replay
    seeked past its creation): nothing on screen moves, nothing breaks."""
    a = app()
    async with a.run_test(size=(120, 36)) as pilot:
        await feed(a, pilot, with_load=False)
        table = a.pods_table
        await pilot.press("slash", *"node-2", "enter")
        await until(pilot, lambda: len(table.printed) == 2 and not table.pending)
        before = screen_lines(table)
        hidden = next(p for p in many(3) if p["spec"]["nodeName"] == "kubelab-node-1")
        publish_pods(a, [hidden], synced=False)
        a.bus.publish(bus.ObjectChanged(kind="pods", type="DELETED", obj=data.pod("gone-x"), ts=data.NOW))
        await until(pilot, lambda: hidden["metadata"]["uid"] in table.model.rows and not table.pending)
        await pilot.pause()
        assert screen_lines(table) == before and len(table.printed) == 2


async def test_a_changed_row_flashes_then_settles_and_a_new_pod_flashes():
    a = app()
    async with a.run_test(size=(120, 36)) as pilot:
        await feed(a, pilot, with_load=False)
        a.bus.publish(bus.Synced(kind="pods", uids=list(NAME), ts=data.NOW))   # the list is in
        table = a.pods_table
        uid = "uid-order-7c9d8f6b5-g5h6i"
        assert not reversed_line(table, uid)
        pod = copy.deepcopy(table.pods[uid])
        pod["status"]["containerStatuses"][0]["ready"] = True
        pod["status"]["conditions"][0].update(status="True", lastTransitionTime=data.iso(data.NOW))
        a.bus.publish(bus.ObjectChanged(kind="pods", type="MODIFIED", obj=pod))
        await until(pilot, lambda: table.printed[uid].ready == "1/1")
        assert reversed_line(table, uid)
        assert any(line.reason == "Ready" for line in a.state.events)    # readiness change logged
        await until(pilot, lambda: not reversed_line(table, uid), FLASH_SECONDS + 30)

        new = data.pod("order-7c9d8f6b5-zz999", phase="Pending", ready=False,
                       waiting="ContainerCreating", age=1)
        publish_pods(a, [new], synced=False)
        await until(pilot, lambda: "uid-order-7c9d8f6b5-zz999" in table.printed)
        assert reversed_line(table, "uid-order-7c9d8f6b5-zz999")


async def test_rows_off_screen_change_without_flashing_and_show_when_scrolled_to():
    a = app()
    async with a.run_test(size=(80, 24)) as pilot:
        pods = await loaded(a, pilot, 60)
        table = a.pods_table
        last = pods[-1]
        changed = copy.deepcopy(last)
        changed["status"]["containerStatuses"][0].update(restartCount=9, ready=False)
        a.bus.publish(bus.ObjectChanged(kind="pods", type="MODIFIED", obj=changed))
        await until(pilot, lambda: table.printed[last["metadata"]["uid"]].restart_count == 9)
        assert last["metadata"]["uid"] not in table.flash_until
        await pilot.press("end")
        await pilot.pause()
        assert table.selected_uid() == last["metadata"]["uid"]
        assert not reversed_line(table, last["metadata"]["uid"])
        assert screen_lines(table)[-1].split()[:4] == ["web-00059", "0/1", "Running", "9"]


async def test_columns_fit_the_pane_at_every_size():
    a = app()
    async with a.run_test(size=(160, 48)) as pilot:
        await feed(a, pilot, with_load=False)
        table = a.pods_table
        for size in [(80, 24), (120, 36), (240, 60), (60, 20), (160, 48)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            width = table.scrollable_content_region.width
            total = sum(table.widths) + GAP * len(NAMES)
            # NODE takes the rest; too narrow for the minimums, the table scrolls sideways
            assert total == width or total > width and (table.widths[0], table.widths[-1]) == (12, 8)
            lines = screen_lines(table)
            assert all(len(line.rstrip()) <= width for line in lines), (size, lines)
            if size[0] >= 160:
                assert "order-7c9d8f6b5-a1b2c" in lines[2] and "kubelab-node-1" in lines[2]
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        row = screen_lines(table)[2]
        assert "kube…-node-1" in row and "CrashLoopBackOff" not in row       # NODE in the middle


async def test_the_selection_follows_its_pod_through_adds_and_deletes():
    a = app()
    async with a.run_test(size=(80, 24)) as pilot:
        await loaded(a, pilot, 30)
        table = a.pods_table
        await pilot.press("down", "down", "down")
        picked = table.selected_uid()
        assert table.printed[picked].name == "web-00003"
        publish_pods(a, many(20, prefix="api"), synced=False)            # all sort before it
        await until(pilot, lambda: len(table.printed) == 50)
        assert table.selected_uid() == picked
        assert "web-00003" in "\n".join(screen_lines(table))              # scrolled along
        table.scroll_to(y=30, animate=False)                             # looking elsewhere
        await pilot.pause()
        changed = copy.deepcopy(table.pods[picked])
        changed["status"]["containerStatuses"][0]["restartCount"] = 42
        a.bus.publish(bus.ObjectChanged(kind="pods", type="MODIFIED", obj=changed))
        await until(pilot, lambda: table.printed[picked].restart_count == 42)
        assert int(table.scroll_offset.y) == 30                           # not pulled back
        gone = copy.deepcopy(table.pods[picked])
        a.bus.publish(bus.ObjectChanged(kind="pods", type="DELETED", obj=gone))
        await until(pilot, lambda: picked not in table.printed)
        assert table.printed[table.selected_uid()].name == "web-00004"   # its successor, as k9s


async def test_mouse_selects_a_row_and_sorts_by_a_title():
    a = app()
    async with a.run_test(size=(120, 36)) as pilot:
        await feed(a, pilot, with_load=False)
        table = a.pods_table
        left, top = table.content_region.x - table.region.x, table.content_region.y - table.region.y
        await pilot.click(table, offset=(left + 3, top + 3))             # the third row
        assert NAME[table.selected_uid()] == shown_names(table)[2]
        age_x = sum(w + GAP for w in table.widths[:NAMES.index("AGE")])
        await pilot.click(table, offset=(left + age_x + 1, top))         # the AGE title
        assert table.model.sort.column == "AGE"
        assert shown_names(table)[0] == "order-7c9d8f6b5-m9n0p"


async def test_10000_rows_draw_only_what_is_on_screen_and_scroll_to_the_end():
    a = app()
    async with a.run_test(size=(80, 24)) as pilot:
        await loaded(a, pilot, 10_000)
        table = a.pods_table
        await pilot.pause()
        assert table.border_subtitle == "10000"
        drawn = []
        draw = table.render_line

        def counting(y):
            drawn.append(y)
            return draw(y)
        table.render_line = counting
        await pilot.press("end")
        await pilot.pause()
        height = table.scrollable_content_region.height
        assert 0 < len(drawn) <= 3 * height                               # a screenful, not 10,000 rows
        assert table.printed[table.selected_uid()].name == "web-09999"
        assert screen_lines(table)[-1].startswith("web-09999")
        assert int(table.scroll_offset.y) == 10_000 - (height - 1)
        await pilot.press("pageup")
        assert table.model.order.index(table.selected_uid()) == 9_999 - (height - 2)
        await pilot.press("T", "home")
        assert table.printed[table.selected_uid()].restart_count == 6     # most restarts on top
        assert screen_lines(table)[1].split()[3] == "6"


def test_incremental_order_is_the_full_sort():
    """PodRows.put keeps the order a full sort would give, for every column and
    direction, through adds, changes, deletes and a filter."""
    rnd = random.Random(13)
    for column, sort in SORTS.items():
        for descending in (False, True):
            rows = PodRows()
            rows.set_sort(column, descending)
            rows.set_filter("node-1" if descending else "")
            for _ in range(400):
                i = rnd.randrange(60)
                uid = f"uid-p{i}"
                if rnd.random() < 0.2:
                    rows.put(uid, None)
                    continue
                pod = data.pod(f"p{i}", ready=rnd.random() < 0.5, restarts=rnd.randrange(4),
                               age=rnd.randrange(1, 900), node=f"kubelab-node-{rnd.randrange(1, 3)}",
                               waiting=rnd.choice([None, "CrashLoopBackOff", "ContainerCreating"]))
                rows.put(uid, pod_row(pod, data.NOW))
            incremental = list(rows.order)
            rows.rebuild()
            assert incremental == rows.order, (column, descending)
            assert set(rows.order) == set(rows.shown) <= set(rows.rows)
            keys = [sort.key(rows.shown[u]) for u in rows.order]
            assert keys == sorted(keys, reverse=descending), (column, descending)


async def test_the_selection_looks_focused_or_not_and_follows_the_theme():
    a = app()
    async with a.run_test(size=(80, 24)) as pilot:
        await feed(a, pilot, with_load=False)
        table = a.pods_table

        def selection_style():
            return next(iter(table.render_line(1))).style

        focused = selection_style()
        a.set_focus(None)
        await pilot.pause()
        blurred = selection_style()
        assert blurred.bgcolor != focused.bgcolor
        table.focus()
        await pilot.pause()
        assert selection_style() == focused
        a.theme = "textual-light"
        await pilot.pause()
        assert selection_style().bgcolor != focused.bgcolor

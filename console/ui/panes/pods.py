"""Pods: NAME READY STATUS RESTARTS AGE NODE, as kubectl prints them.

Rows are keyed by uid and updated by diffing (update_cell only for changed
cells); a row whose READY/STATUS/RESTARTS changed flashes for a moment.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from console.cluster.printer import PodRow, pod_row, status_class
from console.ui.panes.columns import GAP, NAMES, clip, fit, squeeze

COLUMNS = tuple((label, label.lower()) for label in NAMES)
STYLES = {"good": "green", "warn": "yellow", "bad": "bold red", "done": "dim"}
FLASH_SECONDS = 1.5
REDRAW = 0.5


class PodsTable(DataTable):
    BORDER_TITLE = "Pods"

    def __init__(self, now=time.time, **kw):
        super().__init__(cursor_type="row", zebra_stripes=False, **kw)
        self.now = now
        self.printed: dict[str, PodRow] = {}
        self.pods: dict[str, dict] = {}
        self.flash_until: dict[str, float] = {}
        self.filter = ""
        self._dirty = False
        self._redraw_pending = False
        self._silent = False
        self._dirty_rows: set[str] = set()
        self.widths = fit(80, {})
        self.longest: dict[str, int] = {}   # column -> the widest value seen

    def on_mount(self) -> None:
        # No cell padding: the gap is part of each column, so six columns fit 70 cells.
        self.cell_padding = 0
        for (label, key), width in zip(COLUMNS, self.widths):
            self.add_column(label, key=key, width=width + GAP)
        self.set_interval(1.0, self.tick)

    def on_resize(self) -> None:
        self.relayout()

    def relayout(self) -> None:
        """Fit the columns to the pane; rows are re-cut only when widths change."""
        avail = self.scrollable_content_region.width
        if avail <= 0:
            return
        widths = fit(avail, self.longest)
        if widths == self.widths:
            return
        self.widths = widths
        for (_, key), width in zip(COLUMNS, widths):
            self.columns[ColumnKey(key)].width = width + GAP
        for uid, row in self.printed.items():
            self._update(uid, None, row, force=True, visible=False)
        self._clear_caches()
        self._require_update_dimensions = True
        self._update_count += 1
        self.refresh()

    # --- drawing ---------------------------------------------------------------
    def cells(self, row: PodRow, flashing: bool) -> list:
        status_style = STYLES[status_class(row.status, row.ready)]
        if row.status == "Terminating":
            status_style = "bold magenta"
        base = "reverse" if flashing else ""
        restarts_style = "yellow" if row.restarts != "0" else ""
        styles = (base, base, f"{status_style} {base}", f"{restarts_style} {base}", base, base)
        cut = (squeeze, clip, clip, clip, clip, squeeze)
        return [Text(c(value, w), style=style.strip(), end="", no_wrap=True)
                for value, style, c, w in zip(row.cells, styles, cut, self.widths)]

    def visible(self, row: PodRow) -> bool:
        if not self.filter:
            return True
        needle = self.filter.lower()
        return any(needle in c.lower() for c in (row.name, row.status, row.node))

    # --- diffing -----------------------------------------------------------------
    def sync(self, pods: dict[str, dict], changed: set[str] | None = None) -> None:
        """Bring the table in line with `pods` (uid -> pod); `changed` limits the work."""
        self.pods = pods
        now = self.now()
        uids = set(pods) if changed is None else changed | (set(self.printed) - set(pods))
        added = False
        longest = dict(self.longest)
        shown = set(self.visible_uids()) if self.printed else set()
        with self.app.batch_update():
            for uid in uids:
                pod = pods.get(uid)
                row = pod_row(pod, now) if pod is not None else None
                if row is None or not self.visible(row):
                    if uid in self.printed:
                        self.remove_row(uid)
                        del self.printed[uid]
                        self.flash_until.pop(uid, None)
                    continue
                for label, value in zip(NAMES, row.cells):
                    if len(value) > longest.get(label, 0):
                        longest[label] = len(value)
                old = self.printed.get(uid)
                if old is None:
                    self.add_row(*self.cells(row, False), key=uid)
                    added = True
                elif old != row:
                    if uid in shown and (old.ready, old.status, old.restarts.split(" ")[0]) != \
                            (row.ready, row.status, row.restarts.split(" ")[0]):
                        self.flash_until[uid] = time.monotonic() + FLASH_SECONDS
                    self._update(uid, old, row, visible=uid in shown)
                self.printed[uid] = row
            if added:
                self._sort_by_name()
            if longest != self.longest:
                self.longest = longest
                self.relayout()
            self._flush()
        subtitle = f"{len(self.printed)}/{len(pods)}" if self.filter else f"{len(pods)}"
        if subtitle != self.border_subtitle:   # setting it repaints the whole table
            self.border_subtitle = subtitle

    def _sort_by_name(self) -> None:
        """DataTable.sort on the full names (the cells may be shortened)."""
        printed = self.printed
        order = sorted(self._data, key=lambda rk: printed[rk.value].name if rk.value in printed else "")
        self._row_locations = TwoWayDict({rk: i for i, rk in enumerate(order)})
        self._update_count += 1
        self.refresh()

    def _update(self, uid: str, old: PodRow | None, row: PodRow, force: bool = False,
                visible: bool = True) -> None:
        """update_cell without its per-cell refresh: a burst redraws once (the
        DataTable internals used here are those of the pinned Textual)."""
        flashing = self.flash_until.get(uid, 0) > time.monotonic()
        new = self.cells(row, flashing)
        data = self._data.get(RowKey(uid))
        if data is None:
            return
        for i, (_, key) in enumerate(COLUMNS):
            if force or old is None or old.cells[i] != row.cells[i] or i == 2:
                data[ColumnKey(key)] = new[i]
        if visible:
            self._update_count += 1   # invalidates the render caches: only worth it on screen
            self._dirty = True
            self._dirty_rows.add(uid)
        else:
            self._silent = True       # cached renders of off-screen rows are now stale

    def watch_scroll_y(self, old: float, new: float) -> None:
        if self._silent:
            self._silent = False
            self._update_count += 1
        super().watch_scroll_y(old, new)

    def _flush(self) -> None:
        """Redraw at most every REDRAW seconds: under an event storm each frame
        re-renders the visible rows, and keys must not wait behind frames."""
        if self._dirty and not self._redraw_pending:
            self._redraw_pending = True
            self.set_timer(REDRAW, self._redraw)

    def _redraw(self) -> None:
        """Repaint only the rows that changed (other lines keep their pixels)."""
        self._redraw_pending = False
        rows, self._dirty_rows = self._dirty_rows, set()
        if not self._dirty:
            return
        self._dirty = False
        if len(rows) > 20:
            self.refresh()
            return
        for uid in rows:
            try:
                self.refresh_row(self.get_row_index(uid))
            except Exception:   # removed meanwhile
                pass

    def tick(self) -> None:
        """Ages move and flashes fade: redraw only what changed."""
        now, mono = self.now(), time.monotonic()
        with self.app.batch_update():
            for uid, until in list(self.flash_until.items()):
                if until <= mono and uid in self.printed:
                    del self.flash_until[uid]
                    self._update(uid, None, self.printed[uid], force=True)
            for uid in self.visible_uids():     # off-screen ages catch up when scrolled to
                old = self.printed.get(uid)
                if old is None:
                    continue
                row = old.at(now)
                if row is not old:
                    self._update(uid, old, row)
                    self.printed[uid] = row
                    if len(row.restarts) > self.longest.get("RESTARTS", 0):   # "(59s ago)" -> "(1m0s ago)"
                        self.longest = {**self.longest, "RESTARTS": len(row.restarts)}
                        self.relayout()
            self._flush()

    def visible_uids(self) -> list[str]:
        start = max(0, int(self.scroll_offset.y))
        rows = self.ordered_rows[start:start + self.size.height + 1]
        return [r.key.value for r in rows]

    def set_filter(self, text: str) -> None:
        self.filter = text
        self.sync(self.pods)

    def selected_uid(self) -> str | None:
        if not self.printed or self.cursor_row < 0:
            return None
        try:
            return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        except Exception:
            return None

"""Pods: NAME READY STATUS RESTARTS AGE NODE, as kubectl prints them.

Rows are keyed by uid and updated by diffing (update_cell only for changed
cells); a row whose READY/STATUS/RESTARTS changed flashes for a moment.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

from console.cluster.printer import PodRow, pod_row, status_class

# Fixed widths: NAME..AGE fit a 120-column terminal's pods pane; NODE may scroll.
COLUMNS = (("NAME", "name", 24), ("READY", "ready", 5), ("STATUS", "status", 16),
           ("RESTARTS", "restarts", 11), ("AGE", "age", 5), ("NODE", "node", 14))
STYLES = {"good": "green", "warn": "yellow", "bad": "bold red", "done": "dim"}
FLASH_SECONDS = 1.5


class PodsTable(DataTable):
    BORDER_TITLE = "Pods"

    def __init__(self, now=time.time, **kw):
        super().__init__(cursor_type="row", zebra_stripes=False, **kw)
        self.now = now
        self.printed: dict[str, PodRow] = {}
        self.pods: dict[str, dict] = {}
        self.flash_until: dict[str, float] = {}
        self.filter = ""

    def on_mount(self) -> None:
        for label, key, width in COLUMNS:
            self.add_column(label, key=key, width=width)
        self.set_interval(1.0, self.tick)

    # --- drawing ---------------------------------------------------------------
    def cells(self, row: PodRow, flashing: bool) -> list:
        status_style = STYLES[status_class(row.status, row.ready)]
        if row.status == "Terminating":
            status_style = "bold magenta"
        base = "reverse" if flashing else ""
        restarts_style = "yellow" if row.restarts != "0" else ""
        styles = (base, base, f"{status_style} {base}", f"{restarts_style} {base}", base, base)
        return [Text(value, style=style.strip(), end="", no_wrap=True, overflow="ellipsis")
                for value, style in zip(row.cells, styles)]

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
                old = self.printed.get(uid)
                if old is None:
                    self.add_row(*self.cells(row, False), key=uid)
                    added = True
                elif old != row:
                    if (old.ready, old.status, old.restarts.split(" ")[0]) != \
                            (row.ready, row.status, row.restarts.split(" ")[0]):
                        self.flash_until[uid] = time.monotonic() + FLASH_SECONDS
                    self._update(uid, old, row)
                self.printed[uid] = row
            if added:
                self.sort("name", key=lambda name: name.plain)
        self.border_subtitle = f"{len(self.printed)}/{len(pods)}" if self.filter else f"{len(pods)}"

    def _update(self, uid: str, old: PodRow | None, row: PodRow, force: bool = False) -> None:
        flashing = self.flash_until.get(uid, 0) > time.monotonic()
        new = self.cells(row, flashing)
        for i, (_, key, _) in enumerate(COLUMNS):
            if force or old is None or old.cells[i] != row.cells[i] or i == 2:
                self.update_cell(uid, key, new[i])

    def tick(self) -> None:
        """Ages move and flashes fade: redraw only what changed."""
        now, mono = self.now(), time.monotonic()
        with self.app.batch_update():
            for uid, until in list(self.flash_until.items()):
                if until <= mono and uid in self.printed:
                    del self.flash_until[uid]
                    self._update(uid, None, self.printed[uid], force=True)
            for uid, old in list(self.printed.items()):
                pod = self.pods.get(uid)
                if pod is None:
                    continue
                row = pod_row(pod, now)
                if row != old:
                    self._update(uid, old, row)
                    self.printed[uid] = row

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

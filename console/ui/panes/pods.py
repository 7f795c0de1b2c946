"""Pods: NAME READY STATUS RESTARTS AGE NODE, as kubectl prints them, for
namespaces of 10,000 pods under an event storm.

A Line API widget (ScrollView + render_line, the way Textual's Log and
Toolong's log view are built): only the lines on screen are drawn, and only
the lines that changed are sent to the terminal. Rows are keyed by uid and
kept sorted incrementally (console.ui.panes.rows); the selection is a pod,
not a line number, so it stays on that pod across updates, filters and sorts.
Data-driven repaints are coalesced to a few frames a second; keys and scrolls
repaint at once. A row whose READY/STATUS/RESTARTS changed, or a pod that
appeared, flashes for a moment when it is on screen; ages tick once a second
by repainting just those cells.
"""

from __future__ import annotations

import time

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.cluster.printer import PodRow, pod_row, status_class
from console.ui.panes.columns import GAP, NAMES, clip, fit, squeeze
from console.ui.panes.rows import SORTS, PodRows

STYLES = {"good": "green", "warn": "yellow", "bad": "bold red", "done": "dim",
          "terminating": "bold magenta", "restarted": "yellow"}
# NO_COLOR: what must stand out does so without colour (Textual greys the rest)
PLAIN = {"good": "", "warn": "", "bad": "bold", "done": "dim", "terminating": "italic", "restarted": ""}
FLASH_SECONDS = 1.5
REDRAW = 0.25       # data-driven repaints at most this often: a storm repaints a line once per frame
CLOCK = 2           # seconds between repaints of ages that moved (k9s refreshes every 2 s)
CUTS = (squeeze, clip, clip, clip, clip, squeeze)
AGE, RESTARTS = NAMES.index("AGE"), NAMES.index("RESTARTS")
SORT_KEYS = {"N": "NAME", "R": "READY", "S": "STATUS", "T": "RESTARTS", "A": "AGE", "O": "NODE"}


def worth_a_flash(old: PodRow, new: PodRow) -> bool:
    """What a person watches changed: READY, STATUS or the restart count."""
    return (old.ready, old.status, old.restart_count) != (new.ready, new.status, new.restart_count)


class PodsTable(ScrollView, can_focus=True):
    BORDER_TITLE = "Pods"
    COMPONENT_CLASSES = {"pods--header", "pods--cursor"}
    DEFAULT_CSS = """
    PodsTable {
        background: $surface;
        color: $foreground;
        & > .pods--header { text-style: bold; background: $panel; color: $foreground; }
        & > .pods--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .pods--header { background-tint: $foreground 5%; }
            & > .pods--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
    }
    """
    # k9s's pod view keys: shift + the column's letter sorts; again reverses
    BINDINGS = [
        Binding("up", "move(-1)", show=False),
        Binding("down", "move(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
    ] + [Binding(key, f"sort('{column}')", f"Sort by {column} (again: reverse)", show=False)
         for key, column in SORT_KEYS.items()]

    def __init__(self, now=time.time, **kw):
        super().__init__(**kw)
        self.now = now
        self.model = PodRows()
        self.pods: dict[str, dict] = {}
        self.source: dict[str, dict] = {}    # uid -> the pod its row was printed from
        self.flash_until: dict[str, float] = {}
        self.flash_seconds = FLASH_SECONDS
        self.filter = ""
        self.longest: dict[str, int] = {}    # column -> the widest value seen
        self.widths = fit(80, {}, "NAME")
        self.clock = now()                   # the moment ages are printed for
        self.cursor_uid: str | None = None   # None: the first row, until a key picks a pod
        self.listed = False                  # a full list arrived: new pods flash from now on
        self.dirty: set[str] = set()         # rows whose content changed
        self.moved: list[tuple[int, int]] = []   # position ranges whose rows changed places
        self.full = False
        self.flush_timer = None
        self.last_flush = 0.0
        self.ticks = 0
        self.looks: tuple[Style, Style, Style] | None = None

    # --- the App's interface --------------------------------------------------------
    @property
    def printed(self) -> dict[str, PodRow]:
        """The rows shown (they pass the filter), uid -> row."""
        return self.model.shown

    def selected_uid(self) -> str | None:
        pos = self.cursor_position()
        return None if pos is None else self.model.order[pos]

    def set_filter(self, text: str) -> None:
        self.filter = text
        self.reorder(lambda: self.model.set_filter(text))

    def sort_by(self, column: str, descending: bool | None = None) -> None:
        """Sort by `column`; without `descending`, k9s's toggle: a new column
        starts in its first direction, the same column reverses."""
        if descending is None:
            same = self.model.sort.column == column
            descending = not self.model.descending if same else SORTS[column].first_descending
        self.reorder(lambda: self.model.set_sort(column, descending))
        self.relayout(force=True)

    def clear(self) -> None:
        self.model.clear()
        self.source.clear()
        self.flash_until.clear()
        self.cursor_uid = None
        self.listed = False
        self.pods = {}
        self.show_count()
        self.update_size()
        self.refresh()

    def sync(self, pods: dict[str, dict], changed: set[str] | None = None) -> None:
        """Bring the table in line with `pods` (uid -> pod); `changed` limits the
        work to those uids, None is a full list."""
        self.pods = pods
        now, model = self.now(), self.model
        uids = (set(pods) | set(model.rows)) if changed is None else changed
        cursor = self.cursor_position()
        top, bottom = self.window()
        bulk = len(uids) > max(64, len(model) // 4)
        longest, notable = self.longest, []
        for uid in uids:
            pod = pods.get(uid)
            if pod is not None and pod is self.source.get(uid):
                continue                     # printed from this very object already
            row = pod_row(pod, now) if pod is not None else None
            old = model.rows.get(uid)
            if row is None:
                self.source.pop(uid, None)
                self.flash_until.pop(uid, None)
            else:
                self.source[uid] = pod
                for label, value in zip(NAMES, row.cells):
                    if len(value) > longest.get(label, 0):
                        longest = {**longest, label: len(value)}
                if old is None and self.listed or old is not None and worth_a_flash(old, row):
                    notable.append(uid)
            if bulk:
                if row is None:
                    model.rows.pop(uid, None)
                else:
                    model.rows[uid] = row
                continue
            moved = model.put(uid, row)
            if moved is None:
                self.dirty.add(uid)
                continue
            before, after = moved
            if before is None and after is None:    # not shown, then or now (filtered, unknown)
                continue
            if before is None or after is None:     # rows below shift by one
                self.moved.append((before if after is None else after, 1 << 62))
            elif before != after:
                self.moved.append((min(before, after), max(before, after)))
            else:
                self.dirty.add(uid)
        if bulk:
            model.rebuild()
            self.full = True
        if changed is None:
            self.listed = True
        mono = time.monotonic()
        on_screen = set(self.on_screen())
        for uid in notable:
            if uid in on_screen:
                self.flash_until[uid] = mono + self.flash_seconds
                self.dirty.add(uid)
        self.keep_selection(cursor, follow=cursor is not None and top <= cursor <= bottom)
        if longest != self.longest:
            self.longest = longest
            self.relayout()
        self.show_count()
        self.schedule()

    # --- order, selection, scrolling -----------------------------------------------------
    def cursor_position(self) -> int | None:
        if not self.model.order:
            return None
        pos = self.model.position(self.cursor_uid) if self.cursor_uid else None
        return 0 if pos is None else pos

    def body_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)   # less the column titles

    def window(self) -> tuple[int, int]:
        """Positions of the first and last row on screen."""
        top = int(self.scroll_offset.y)
        return top, top + self.body_height() - 1

    def on_screen(self) -> list[str]:
        """The uids of the rows on screen, top to bottom."""
        top, bottom = self.window()
        return self.model.order[top:bottom + 1]

    def keep_selection(self, before: int | None, follow: bool = True) -> None:
        """The selected pod went away (deleted, filtered out): select the one
        that took its place, as k9s does. With `follow`, scroll to keep the
        selection on screen (not when it was scrolled away from on purpose)."""
        if self.cursor_uid is not None and self.cursor_uid not in self.model.keys:
            order = self.model.order
            self.cursor_uid = order[min(before or 0, len(order) - 1)] if order else None
        if self.cursor_uid is not None and follow:
            self.show_cursor()

    def show_cursor(self, offset: int | None = None) -> None:
        """Scroll as little as possible to keep the selection on screen (or at
        `offset` lines below the first row)."""
        pos = self.cursor_position()
        if pos is None:
            return
        top, height = int(self.scroll_offset.y), self.body_height()
        if offset is not None:
            top = pos - offset
        top = min(max(top, pos - height + 1), pos)
        top = max(0, min(top, len(self.model) - height))
        if top != int(self.scroll_offset.y):
            self.update_size()
            self.scroll_to(y=top, animate=False)

    def reorder(self, change) -> None:
        """A new order for every row (filter, sort): the selected pod keeps its
        place on screen when it can."""
        pos = self.cursor_position()
        offset = None if pos is None else pos - int(self.scroll_offset.y)
        change()
        self.keep_selection(pos)
        self.update_size()
        self.show_cursor(offset)
        self.show_count()
        self.refresh()

    def move_to(self, pos: int) -> None:
        order = self.model.order
        if not order:
            return
        old = self.cursor_position()
        pos = max(0, min(pos, len(order) - 1))
        self.cursor_uid = order[pos]
        for p in (old, pos):
            self.refresh_position(p)
        self.show_cursor()

    def action_move(self, delta: int) -> None:
        pos = self.cursor_position()
        if pos is not None:
            self.move_to(pos + delta)

    def action_page(self, pages: int) -> None:
        pos = self.cursor_position()
        if pos is not None:
            self.move_to(pos + pages * max(1, self.body_height() - 1))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(len(self.model) - 1)

    def action_sort(self, column: str) -> None:
        self.sort_by(column)

    def on_click(self, event: events.Click) -> None:
        at = event.get_content_offset(self)
        if at is None:
            return
        if at.y == 0:            # a column title: sort by it
            x = at.x + int(self.scroll_offset.x)
            for column, width in zip(NAMES, self.widths):
                if x < width + GAP:
                    self.sort_by(column)
                    return
                x -= width + GAP
            return
        self.move_to(int(self.scroll_offset.y) + at.y - 1)

    # --- repainting --------------------------------------------------------------------
    @property
    def pending(self) -> bool:
        """Changes not on screen yet (a coalesced repaint is due)."""
        return bool(self.dirty or self.moved or self.full)

    def schedule(self) -> None:
        """The first change after a quiet spell is drawn at once; more within
        REDRAW wait for one repaint at the end of it."""
        if not self.pending or self.flush_timer is not None or not self.is_mounted:
            return
        wait = self.last_flush + REDRAW - time.monotonic()
        if wait <= 0:
            self.flush()
        else:
            self.flush_timer = self.set_timer(wait, self.flush)

    def flush(self) -> None:
        """Repaint what changed since the last frame, on screen only."""
        self.flush_timer = None
        self.last_flush = time.monotonic()
        dirty, moved, full = self.dirty, self.moved, self.full
        self.dirty, self.moved, self.full = set(), [], False
        self.update_size()
        if full:
            self.refresh()
            return
        top, bottom = self.window()
        lines: set[int] = set()
        for lo, hi in moved:
            lines.update(range(max(lo, top), min(hi, bottom) + 1))
        lines.update(top + i for i, uid in enumerate(self.on_screen()) if uid in dirty)
        for pos in lines:
            self.refresh_position(pos)

    def refresh_position(self, pos: int | None, column: int | None = None) -> None:
        """Repaint the row at `pos` (or just one of its cells) if on screen."""
        top, bottom = self.window()
        if pos is None or not top <= pos <= bottom:
            return
        y = pos - top + 1
        if column is None:   # not the scrollbar: it would be sent along
            self.refresh(Region(0, y, self.scrollable_content_region.width, 1))
            return
        x = sum(w + GAP for w in self.widths[:column]) - int(self.scroll_offset.x)
        self.refresh(Region(max(0, x), y, self.widths[column] + GAP, 1))

    def update_size(self) -> None:
        size = Size(sum(self.widths) + GAP * len(NAMES), len(self.model) + 1)
        if size != self.virtual_size:
            self.virtual_size = size

    def show_count(self) -> None:
        total, shown = len(self.pods), len(self.model)
        subtitle = f"/{self.filter}  {shown}/{total}" if self.filter else f"{total}"
        if subtitle != self.border_subtitle:   # setting it repaints the whole table
            self.border_subtitle = subtitle

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick)
        self.update_size()

    def on_resize(self) -> None:
        self.relayout(force=True)
        if self.cursor_uid is not None:
            self.show_cursor()

    def relayout(self, force: bool = False) -> None:
        """Fit the columns to the pane; everything is redrawn when widths change."""
        avail = self.scrollable_content_region.width
        if avail <= 0:
            return
        widths = fit(avail, self.longest, self.model.sort.column)
        if widths != self.widths or force:
            self.widths = widths
            self.update_size()
            self.refresh()

    def tick(self) -> None:
        """Once a second flashes end; every CLOCK seconds AGE and "(5s ago)"
        move on screen, in the rows on screen whose text changed: under a
        crash-looping storm every row's "(Ns ago)" moves each second, and a
        slow link would carry them all."""
        mono = time.monotonic()
        for uid, until in list(self.flash_until.items()):
            if until <= mono:
                del self.flash_until[uid]
                self.dirty.add(uid)
        self.ticks += 1
        if self.ticks % CLOCK == 0:
            self.tick_clock()
        self.schedule()

    def settle(self) -> None:
        """Flashes off, ages at now(), and all of it drawn now (a screenshot is due)."""
        self.flash_until.clear()
        self.tick_clock()
        self.full = True
        self.flush()

    def tick_clock(self) -> None:
        before, self.clock = self.clock, self.now()
        top, bottom = self.window()
        order, shown = self.model.order, self.model.shown
        for pos in range(top, min(bottom + 1, len(order))):
            row = shown[order[pos]]
            if row.created is None and not row.last_restart:
                continue
            was, now = row.at(before), row.at(self.clock)
            if was.age != now.age:
                self.refresh_position(pos, AGE)
            if was.restarts != now.restarts:
                self.refresh_position(pos, RESTARTS)
                if len(now.restarts) > self.longest.get("RESTARTS", 0):  # "(59s ago)" -> "(1m0s ago)"
                    self.longest = {**self.longest, "RESTARTS": len(now.restarts)}
                    self.relayout()

    # --- drawing -----------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.looks = None


    def styles_now(self) -> tuple[Style, Style, Style]:
        """The widget's, the titles' and the selection's Rich styles, computed
        once until the CSS changes (focus, theme): working them out takes
        longer than drawing a row."""
        if self.looks is None:
            self.looks = (self.rich_style, self.get_component_rich_style("pods--header"),
                          self.get_component_rich_style("pods--cursor"))
        return self.looks

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, top = int(self.scroll_offset.x), int(self.scroll_offset.y)
        base, header, selected = self.styles_now()
        if y == 0:
            return self.title_strip(base + header).crop_extend(scroll_x, scroll_x + width, base)
        pos = top + y - 1
        order = self.model.order
        if pos >= len(order):
            return Strip.blank(width, base)
        uid = order[pos]
        cursor = selected if pos == self.cursor_position() else None
        flashing = self.flash_until.get(uid, 0) > time.monotonic()
        strip = self.row_strip(self.model.shown[uid].at(self.clock), base, flashing, cursor)
        return strip.crop_extend(scroll_x, scroll_x + width, base + cursor if cursor else base)

    def title_strip(self, style: Style) -> Strip:
        arrow = "↓" if self.model.descending else "↑"
        segments = []
        for label, width in zip(NAMES, self.widths):
            text = label + arrow if label == self.model.sort.column else label
            segments.append(Segment(clip(text, width).ljust(width + GAP), style))
        return Strip(segments, sum(self.widths) + GAP * len(NAMES)).simplify()

    def row_strip(self, row: PodRow, base: Style, flashing: bool, cursor: Style | None) -> Strip:
        look = PLAIN if self.app.no_color else STYLES
        status = look["terminating" if row.status == "Terminating" else status_class(row.status, row.ready)]
        styles = ("", "", status, look["restarted"] if row.restarts != "0" else "", "", "")
        segments = []
        for value, style, cut, width in zip(row.cells, styles, CUTS, self.widths):
            s = base + Style.parse(style) if style else base
            if flashing:
                s += Style(reverse=True)
            if cursor is not None:
                s += cursor
            segments.append(Segment(cut(value, width).ljust(width + GAP), s))
        # one style change per run of same-styled cells: fewer bytes on the wire
        return Strip(segments, sum(self.widths) + GAP * len(NAMES)).simplify()

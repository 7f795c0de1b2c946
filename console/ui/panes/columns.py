"""Column widths for the pods table: every column fits the pane, NAME and NODE
give way (shortened in the middle, where pod names differ least) before
anything is pushed off the right edge."""

from __future__ import annotations

NAMES = ("NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE")
# As kubectl, STATUS and RESTARTS are as wide as their widest value so far, up to
# these caps (ContainerCreating, "12 (3m4s ago)"); READY and AGE barely vary.
CAPS = {"STATUS": 17, "RESTARTS": 13}
FIXED = {"READY": 5, "AGE": 5}
MIN_NAME, MIN_NODE = 12, 8
GAP = 1   # blank cells after each column


def fit(avail: int, longest: dict[str, int], sort: str | None = None) -> tuple[int, ...]:
    """Widths (without the gap) for NAMES in `avail` cells; `longest`: the
    widest value seen per column; `sort`: the sorted column, whose title
    carries an arrow (one cell more).

    NAME gets what its longest value needs first; NODE takes the rest (at
    least MIN_NODE); when even that does not fit, NAME shrinks to MIN_NAME.
    """
    title = {n: len(n) + (n == sort) for n in NAMES}
    w = {n: max(title[n], min(longest.get(n, 0), cap)) for n, cap in CAPS.items()}
    w.update({n: max(width, title[n]) for n, width in FIXED.items()})
    name_len = max(longest.get("NAME", 0), title["NAME"])
    node_len = max(longest.get("NODE", 0), title["NODE"])
    free = avail - sum(w.values()) - GAP * len(NAMES)
    node = max(min(node_len, MIN_NODE), free - name_len)
    name = max(MIN_NAME, free - node)
    if name > name_len:       # room to spare: NODE (the last column) takes it
        node += name - name_len
        name = name_len
    w.update(NAME=name, NODE=node)
    return tuple(w[n] for n in NAMES)


def squeeze(text: str, width: int) -> str:
    """Shorten to `width` with an ellipsis in the middle, keeping more of the
    end, where names differ: order-cc7…b9-m9wm4, kube…node-1."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    head = (width - 1) * 2 // 5
    tail = width - 1 - head
    return text[:head] + "…" + text[len(text) - tail:]


def clip(text: str, width: int) -> str:
    """Shorten to `width` with an ellipsis at the end."""
    if len(text) <= width:
        return text
    return text[:max(0, width - 1)] + "…" if width >= 1 else ""

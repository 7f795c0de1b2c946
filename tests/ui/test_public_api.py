"""console/ui uses only the public API of Textual and Rich: no private module
(`textual._two_way_dict`), no private name imported from them, and no
`obj._attr` / getattr(obj, "_attr") where `_attr` is a private name that
Textual or Rich define (read from their own sources). Strict and simple: a
name of ours that shadows one of theirs counts too (overriding a private
member of a Textual base class breaks just as easily)."""

import ast
import functools
from pathlib import Path

import rich
import textual

UI = Path(__file__).resolve().parents[2] / "console" / "ui"
PACKAGES = ("textual", "rich")


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@functools.cache
def their_private_names() -> frozenset[str]:
    """Every private name Textual and Rich define: functions, classes,
    attributes assigned on self/cls, class and module variables."""
    names = set()
    for package in (textual, rich):
        for path in Path(package.__file__).parent.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    names.add(node.name)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add(node.attr)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
    return frozenset(n for n in names if private(n))


def violations(source: str, filename: str = "<src>") -> list[str]:
    theirs = their_private_names()
    out = []
    for node in ast.walk(ast.parse(source)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in PACKAGES and any(private(p) for p in parts):
                    out.append(f"{where}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] in PACKAGES:
                if any(private(p) for p in parts):
                    out.append(f"{where}: from {node.module} import ...")
                out += [f"{where}: from {node.module} import {a.name}" for a in node.names if private(a.name)]
        elif isinstance(node, ast.Attribute) and private(node.attr) and node.attr in theirs:
            out.append(f"{where}: .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) >= 2:
            arg = node.args[1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value in theirs:
                out.append(f"{where}: {node.func.id}(..., {arg.value!r})")
    return out


def test_the_check_catches_what_the_old_pods_table_did():
    old = """
from textual._two_way_dict import TwoWayDict
import textual._compositor
from textual.widgets import _data_table
from rich._wrap import divide_line
self._row_locations = TwoWayDict({})
self._clear_caches()
value = self._data
getattr(self, "_update_count")
"""
    found = violations(old)
    assert len(found) == 8, found
    ours = "self.batch_done = 1\nself._batch_done_here = 2\nfrom textual.widgets import DataTable"
    assert not violations(ours)


def test_console_ui_uses_no_private_name_of_textual_or_rich():
    assert "_data" in their_private_names() and "_clear_caches" in their_private_names()
    found = []
    for path in sorted(UI.rglob("*.py")):
        found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(UI.parent.parent)))
    assert not found, "private Textual/Rich names in console/ui:\n" + "\n".join(found)

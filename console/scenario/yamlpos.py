"""YAML with positions: plain values (dict, list, str, int ...) plus the line and
column of every node, keyed by its path (("steps", 0, "solve", 1, "scale")).

Safe-loader semantics (no tags beyond the core schema); a key given twice is an
error, not a silent overwrite as in PyYAML.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

Path = tuple  # of str keys and int indexes


@dataclass(frozen=True)
class Pos:
    line: int      # 1-based, as editors count
    column: int


class YamlError(Exception):
    def __init__(self, message: str, pos: Pos | None):
        super().__init__(message)
        self.pos = pos


def _pos(node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder(yaml.constructor.SafeConstructor):
    pass


def load(text: str) -> tuple[object, dict[Path, Pos]]:
    """The one document of `text` and the position of each of its nodes."""
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        msg = f"not valid YAML: {problem}" + (f" ({context})" if context else "")
        raise YamlError(msg, Pos(mark.line + 1, mark.column + 1) if mark else None) from None
    nodes = [n for n in nodes if n is not None]
    if not nodes:
        raise YamlError("the file is empty", None)
    if len(nodes) > 1:
        raise YamlError("one scenario per file (found a second document)", _pos(nodes[1]))
    positions: dict[Path, Pos] = {}
    builder = _Builder()

    def build(node, path: Path):
        positions[path] = _pos(node)
        if isinstance(node, yaml.MappingNode):
            out = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise YamlError("YAML merge keys (<<) are not supported here", _pos(key_node))
                key = builder.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    raise YamlError("a mapping key must be a plain value", _pos(key_node))
                key = str(key) if not isinstance(key, str) else key
                if key in out:
                    raise YamlError(f"key {key!r} is given twice", _pos(key_node))
                positions[path + (key, "<key>")] = _pos(key_node)
                out[key] = build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(item, path + (i,)) for i, item in enumerate(node.value)]
        try:
            return builder.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise YamlError(f"not valid YAML: {getattr(exc, 'problem', exc)}", _pos(node)) from None

    return build(nodes[0], ()), positions


def nearest(positions: dict[Path, Pos], path: Path) -> Pos | None:
    """The position of `path`, or of the closest node above it that has one."""
    for n in range(len(path), -1, -1):
        pos = positions.get(tuple(path[:n]))
        if pos is not None:
            return pos
    return None


def dotted(path: Path) -> str:
    """("steps", 0, "solve", 1, "scale") -> steps[0].solve[1].scale"""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"

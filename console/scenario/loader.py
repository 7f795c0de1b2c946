"""Read a scenario file: YAML with positions, ${var} substitution, validation by the
models, then what only a file system can tell (manifests that exist and parse, siege
lines that parse). Every problem is reported with file:line:column and the field's
path, all of them at once, before anything runs: ScenarioError, exit 2.
"""

from __future__ import annotations

import difflib
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from console.cluster import catalogue
from console.errors import UsageError
from console.scenario import model, yamlpos
from console.scenario.yamlpos import Pos, dotted

_VAR = re.compile(r"\$\{([^}]*)\}")
BUILTIN_VARS = ("namespace",)


@dataclass
class Problem:
    path: tuple
    message: str
    pos: Pos | None = None
    file: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.pos:
            where += f":{self.pos.line}:{self.pos.column}"
        field = dotted(self.path) if self.path else ""
        return f"{where}: {field + ': ' if field else ''}{self.message}"


class ScenarioError(UsageError):
    """One or more problems in scenario files; each names its file, line and field."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems

    def __str__(self) -> str:
        return self.args[0]


@dataclass
class Loaded:
    """A validated scenario and what was needed to read it."""
    scenario: model.Scenario
    path: Path
    namespace: str
    vars: dict
    text: str = ""
    positions: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)     # the data validated (after ${var}), for positions

    @property
    def id(self) -> str:
        return self.scenario.metadata.id

    def manifest(self, name: str) -> Path:
        return manifest_path(self.path, self.scenario.defaults.manifests, name)


def manifest_path(scenario: Path, folder: str, name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() else (scenario.parent / folder / p).resolve()


def suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- ${var} ----------------------------------------------------------------------------------
def parse_overrides(pairs: list[str]) -> dict:
    """--var k=v: the value read as YAML would read it (3 is a number, true a boolean)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{pair!r}: expected NAME=VALUE", where="--var")
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = value
    return out


def substitute(data, values: dict, problems: list[Problem], path=()):
    """${name} in every string below; a string that is only ${name} takes the value's type."""
    if isinstance(data, dict):
        return {k: substitute(v, values, problems, path + (k,)) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute(v, values, problems, path + (i,)) for i, v in enumerate(data)]
    if not isinstance(data, str) or "${" not in data:
        return data
    whole = _VAR.fullmatch(data.strip())
    if whole and whole.group(1).strip() in values:
        return values[whole.group(1).strip()]

    def one(m):
        name = m.group(1).strip()
        if name not in values:
            problems.append(Problem(path, f"undefined variable ${{{name}}}"
                                    + suggest(name, values) + f" (defined: {', '.join(values) or 'none'})"))
            return m.group(0)
        return str(values[name])
    return _VAR.sub(one, data.replace("$${", "\0")).replace("\0", "${")


# --- pydantic's errors, said with positions -----------------------------------------------------
def raw_path(data, loc) -> tuple:
    """The path in the file for a pydantic loc (which also names union tags and models)."""
    out, node = [], data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            out.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            out.append(part)
    return tuple(out)


def _unwrap(t):
    while True:
        origin = typing.get_origin(t)
        if origin is typing.Annotated:
            t = typing.get_args(t)[0]
        else:
            return t


def _members(t) -> list:
    t = _unwrap(t)
    if typing.get_origin(t) in (typing.Union, __import__("types").UnionType):
        out = []
        for arg in typing.get_args(t):
            out += _members(arg)
        return out
    return [t]


def _tags(t) -> dict[str, type]:
    out = {}
    t2 = t
    while typing.get_origin(t2) is typing.Annotated:
        t2 = typing.get_args(t2)[0]
    if typing.get_origin(t2) in (typing.Union,):
        for arg in typing.get_args(t2):
            if typing.get_origin(arg) is typing.Annotated:
                inner, *meta = typing.get_args(arg)
                for m in meta:
                    if type(m).__name__ == "Tag":
                        out[m.tag] = inner
    return out


def model_at(loc) -> list:
    """The types that may stand at `loc` (walking the models as pydantic did)."""
    types = [model.Scenario]
    for part in loc:
        nxt = []
        for t in types:
            for m in _members(t):
                tagged = _tags(m) if not isinstance(m, type) else {}
                if tagged:
                    if part in tagged:
                        nxt.append(tagged[part])
                    continue
                origin = typing.get_origin(m)
                if origin is list and isinstance(part, int):
                    nxt.append(typing.get_args(m)[0])
                elif origin is dict and isinstance(part, str):
                    nxt.append(typing.get_args(m)[1])
                elif isinstance(m, type) and issubclass(m, BaseModel):
                    for name, f in m.model_fields.items():
                        if (f.alias or name) == part:
                            nxt.append(f.annotation)
                    if part in (type(m).__name__, m.__name__):
                        nxt.append(m)
                elif part in (getattr(m, "__name__", None), str(m)):
                    nxt.append(m)
        types = nxt or types
    return types


def _fields(types) -> list[str]:
    out = []
    for t in types:
        for m in _members(t):
            if isinstance(m, type) and issubclass(m, BaseModel):
                out += [f.alias or n for n, f in m.model_fields.items()]
    return out


def _item_kind(expected: str) -> str:
    tags = re.findall(r"'([^']+)'", expected)
    if tags and all(t in catalogue.BY_NAME or t in model.COLLECTORS for t in tags):
        return "action"
    if tags and all(t in model.CONDITION_MODELS for t in tags):
        return "condition"
    return "item"


def _say(err: dict, data) -> str:
    kind, loc, ctx = err["type"], err["loc"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        name = str(loc[-1])
        if " " in name.strip():
            return (f"unknown field {name!r}: a comma inside {{...}} ends the text before it; "
                    "put the text in quotes")
        return f"unknown field {name!r}" + suggest(name, _fields(model_at(loc[:-1])))
    if kind == "union_tag_invalid":
        what = _item_kind(ctx.get("expected_tags", ""))
        tags = re.findall(r"'([^']+)'", ctx.get("expected_tags", ""))
        return f"unknown {what} {ctx.get('tag')!r}" + suggest(str(ctx.get("tag")), tags)
    if kind == "union_tag_not_found":
        node = data
        for part in raw_path(data, loc):
            node = node[part]
        if not isinstance(node, dict):
            return f"expected a mapping such as {{name: {{...}}}}, found {type(node).__name__} {str(node)[:40]!r}"
        common = model.CONDITION_COMMON if set(node) & {"message"} else model.ACTION_COMMON
        keys = [k for k in node if k not in common]
        if not keys:
            return "which action or condition? the item has only " + ", ".join(node)
        return f"one action or condition per item: found {', '.join(keys)} (make each its own list item)"
    if kind == "missing":
        return f"missing field {str(loc[-1])!r}"
    msg = err["msg"]
    msg = msg.removeprefix("Value error, ")
    if kind in ("literal_error", "enum") and "input" in err:
        msg += f", found {err['input']!r}"
    return msg


def translate(exc: ValidationError, data, positions, file: str) -> list[Problem]:
    by_path: dict[tuple, list[str]] = {}
    for err in exc.errors():
        path = raw_path(data, err["loc"])
        if err["type"] == "extra_forbidden":
            path = path if path[-1:] == (err["loc"][-1],) else path + (err["loc"][-1],)
        msg = _say(err, data)
        by_path.setdefault(path, [])
        if msg not in by_path[path]:
            by_path[path].append(msg)
    out = []
    for path, msgs in by_path.items():
        pos = positions.get(path + ("<key>",)) if msgs[0].startswith("unknown field") else None
        out.append(Problem(path, " or ".join(msgs[:2]), pos or yamlpos.nearest(positions, path), file))
    # an error deeper down also makes every union above it fail: keep the deepest
    deepest = [p for p in out if not any(q is not p and q.path[:len(p.path)] == p.path
                                         and len(q.path) > len(p.path) for q in out)]
    return sorted(deepest, key=lambda p: (p.pos.line, p.pos.column) if p.pos else (0, 0))


# --- the file --------------------------------------------------------------------------------
def _actions(sc: model.Scenario):
    """(path, name, params) of every action item, wherever it stands."""
    def items(path, lst):
        for i, item in enumerate(lst or []):
            if item.tag in model.COLLECTORS:
                continue
            name, params = model.action_of(item)
            yield path + (i,), name, params, item
            if getattr(item, "rollback", None) and isinstance(item.rollback, list):
                yield from items(path + (i, "rollback"), item.rollback)
    yield from items(("setup",), sc.setup)
    for s, step in enumerate(sc.steps):
        for part in ("solve", "catch", "finally"):
            yield from items(("steps", s, part), getattr(step, part if part != "finally" else "finally_"))
    yield from items(("cleanup", "actions"), sc.cleanup.actions)


def _file_checks(loaded: Loaded, problems: list[Problem], positions) -> None:
    from console.cluster import rest
    from console.loadgen.options import parse_line
    sc = loaded.scenario
    seen = {}
    for i, step in enumerate(sc.steps):
        if step.id in seen:
            problems.append(Problem(("steps", i, "id"), f"step id {step.id!r} is also step {seen[step.id]}'s"))
        seen[step.id] = i
    for path, name, params, item in _actions(sc):
        at = path + (name,)
        if params.get("file"):
            target = loaded.manifest(params["file"])
            fpath = at + ("file",) if isinstance(_raw(loaded.raw, at), dict) else at
            if not target.is_file():
                problems.append(Problem(fpath, f"manifest {params['file']!r} not found "
                                        f"(looked for {target})"))
            else:
                try:
                    rest.load_manifest(target)
                except UsageError as exc:
                    problems.append(Problem(fpath, f"manifest {params['file']!r}: {exc}"))
        if name == "load.start":
            try:
                parse_line(params["siege"])
            except UsageError as exc:
                problems.append(Problem(at + ("siege",), str(exc)))
        if getattr(item, "rollback", None) is True and not catalogue.get(name).undo:
            problems.append(Problem(path + ("rollback",), f"{name} has no undo in the catalogue: "
                                    "list the rollback actions instead of true"))


def _raw(data, path):
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def load(path: str | Path, overrides: dict | None = None, namespace: str | None = None,
         strict_vars: bool = True) -> Loaded:
    """A validated scenario, or ScenarioError listing every problem.

    `strict_vars`: an override the scenario does not declare is an error (with several
    files, load_all checks that some file declares it instead)."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError("no such scenario file", where=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(getattr(exc, "strerror", None) or str(exc), where=file) from None
    try:
        data, positions = yamlpos.load(text)
    except yamlpos.YamlError as exc:
        raise ScenarioError([Problem((), str(exc), exc.pos, file)]) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem((), "a scenario is a mapping (apiVersion, kind, metadata, steps)",
                                     Pos(1, 1), file)])
    version = data.get("apiVersion")
    if version != model.API_VERSION:
        raise ScenarioError([Problem(("apiVersion",), f"apiVersion {version!r}: this kubelab reads "
                                     f"{model.API_VERSION!r}", yamlpos.nearest(positions, ("apiVersion",)),
                                     file)])
    problems: list[Problem] = []
    declared = data.get("vars") if isinstance(data.get("vars"), dict) else {}
    values = dict(declared)
    for key, value in (overrides or {}).items():
        if key not in declared and strict_vars:
            problems.append(Problem(("vars",), f"--var {key}: the scenario has no such variable"
                                    + suggest(key, declared) + f" (it has: {', '.join(declared) or 'none'})"))
        values[key] = value
    defaults = data.get("defaults") if isinstance(data.get("defaults"), dict) else {}
    ns = namespace or substitute(defaults.get("namespace", "default"), values, problems, ("defaults", "namespace"))
    values["namespace"] = ns
    body = {k: (v if k == "vars" else substitute(v, values, problems, (k,))) for k, v in data.items()}
    for p in problems:
        p.file, p.pos = file, p.pos or yamlpos.nearest(positions, p.path)
    try:
        sc = model.Scenario.model_validate(body)
    except ValidationError as exc:
        found = problems + translate(exc, body, positions, file)
        raise ScenarioError(sorted(found, key=lambda p: (p.pos.line, p.pos.column) if p.pos else (0, 0))) from None
    if problems:
        raise ScenarioError(problems)
    loaded = Loaded(sc, path.resolve(), str(ns), dict(values), text, positions, body)
    _file_checks(loaded, problems, positions)
    if problems:
        for p in problems:
            p.file, p.pos = file, p.pos or yamlpos.nearest(positions, p.path)
        raise ScenarioError(problems)
    return loaded


def load_all(paths, overrides: dict | None = None, namespace: str | None = None) -> list[Loaded]:
    """Every file, or one ScenarioError with every file's problems."""
    out, problems = [], []
    paths = list(paths)
    for p in paths:
        try:
            out.append(load(p, overrides, namespace, strict_vars=len(paths) == 1))
        except ScenarioError as exc:
            problems += exc.problems
        except UsageError as exc:
            problems.append(Problem((), exc.args[0], None, exc.where or str(p)))
    declared = {k for loaded in out for k in loaded.scenario.vars}
    for key in overrides or {}:
        if len(paths) > 1 and out and key not in declared:
            problems.append(Problem((), f"--var {key}: no scenario has such a variable", None, "--var"))
    if problems:
        raise ScenarioError(problems)
    return out

"""Fuzzing the files a user hands kubelab: scenario files (`kubelab lint`), tapes
(`kubelab replay`'s reader) and kubeconfigs (how the console connects). Whatever the
mutation, the outcome is the file working or one clear line naming the file (exit 2
on the command line), never a traceback.

Mutations start from real files (the labs' scenarios, a recorded tape, the embedded
cluster's kubeconfig) and replace one value anywhere in them with another of any
type, cut them short, or change bytes. Kubeconfig seeds carry no exec or
auth-provider users: a fuzzed command line must never be run.
"""

import json
import os
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console import cli
from console.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("l*.yaml"))
# FUZZ_EXAMPLES=2000 for a longer, random hunt; the suite's own run is short and repeatable
SETTINGS = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=None,
                    derandomize="FUZZ_EXAMPLES" not in os.environ,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**64, 2**64) | st.floats(allow_nan=True)
    | st.text(string.printable, max_size=40) | st.sampled_from(["", "-1", "1e309", "${x}", "~", "*",
                                                               "null", "0x10", "\x00", "é" * 3]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)


def paths_of(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths_of(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths_of(v, prefix + (i,))


def replaced(doc, path, value):
    if not path:
        return value
    doc = json.loads(json.dumps(doc, default=str))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@st.composite
def mutated_text(draw, seeds: list[str]):
    text = draw(st.sampled_from(seeds))
    how = draw(st.sampled_from(["value", "value", "value", "cut", "bytes"]))
    if how == "cut":
        return text[:draw(st.integers(0, len(text)))]
    if how == "bytes":
        i = draw(st.integers(0, max(0, len(text) - 1)))
        return text[:i] + draw(st.text(max_size=6)) + text[i + draw(st.integers(0, 8)):]
    docs = list(yaml.safe_load_all(text))
    k = draw(st.integers(0, len(docs) - 1))
    paths = list(paths_of(docs[k]))
    docs[k] = replaced(docs[k], draw(st.sampled_from(paths)), draw(values))
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True)


def no_traceback(capsys):
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    return out


@SETTINGS
@given(text=mutated_text([p.read_text() for p in SCENARIOS]))
def test_scenario_files_lint_or_say_why(tmp_path, capsys, text):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    code = cli.main(["lint", str(path)])
    out = no_traceback(capsys)
    assert code in (0, 1, 2)
    if code == 2:
        assert str(path) in out.err or "s.yaml" in out.err, out.err


@pytest.fixture(scope="module")
def tape_seed(tmp_path_factory):
    from tests.tape import synthetic
    path = tmp_path_factory.mktemp("tape") / "seed.tape"
    synthetic.write(path, synthetic.events(40))
    return path


@st.composite
def mutated_lines(draw, seed: Path):
    lines = seed.read_text().splitlines(keepends=True)
    i = draw(st.integers(0, len(lines) - 1))
    how = draw(st.sampled_from(["value", "value", "cut", "bytes", "drop"]))
    if how == "drop":
        return "".join(lines[:i] + lines[i + 1:])
    if how == "cut":
        return "".join(lines[:i]) + lines[i][:draw(st.integers(0, len(lines[i])))]
    if how == "bytes":
        j = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:j] + draw(st.text(max_size=5)) + lines[i][j:]
        return "".join(lines)
    record = json.loads(lines[i])
    record = replaced(record, draw(st.sampled_from(list(paths_of(record)))), draw(values))
    lines[i] = json.dumps(record) + "\n"
    return "".join(lines)


@SETTINGS
@given(data=st.data())
def test_tapes_read_or_say_why(tmp_path, tape_seed, data):
    from console.tape.reader import read_index
    path = tmp_path / "t.tape"
    path.write_text(data.draw(mutated_lines(tape_seed)), encoding="utf-8", errors="surrogateescape")
    try:
        tape = read_index(path)
        for _ in tape.records():
            pass
    except UsageError as exc:
        assert str(path) in str(exc) or "t.tape" in str(exc), str(exc)


@pytest.fixture(scope="module")
def kubeconfig_text(cluster):
    doc = yaml.safe_load(cluster.kubeconfig.read_text())
    doc["users"].append({"name": "basic", "user": {"username": "a", "password": "b"}})
    doc["contexts"].append({"name": "other", "context": {"cluster": "kubelab", "user": "basic",
                                                          "namespace": "lab"}})
    return yaml.safe_dump(doc)


def safe(text: str) -> bool:
    """No user that would run a program (exec) or call out (auth-provider)."""
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return True
    return "exec" not in json.dumps(docs, default=str) and "auth-provider" not in json.dumps(docs, default=str)


@SETTINGS
@given(data=st.data())
def test_kubeconfigs_connect_or_say_why(tmp_path, kubeconfig_text, data):
    from console.cluster.connect import from_kubeconfig
    text = data.draw(mutated_text([kubeconfig_text]).filter(safe))
    path = tmp_path / "kc"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    for context in (None, "other"):
        try:
            conn = from_kubeconfig(str(path), context=context, retries=0)
        except UsageError as exc:
            assert str(path) in str(exc) or "--context" in str(exc), str(exc)
        else:
            conn.close()

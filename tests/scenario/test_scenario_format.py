"""Broken scenarios are refused before anything runs, each problem with file:line:column,
the field and a precise message (did-you-mean where it helps), exit 2, no traceback;
the published JSON Schema is the models' own; every lab scenario is valid."""

import json
from pathlib import Path

import pytest

from console import cli
from console.scenario import loader, schema

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

GOOD = """\
apiVersion: kubelab/v1
kind: Scenario
metadata: {id: t, title: T, source: test}
vars: {app: order, replicas: 3}
steps:
  - id: one
    title: One
    solve:
      - scale: {deployment: "${app}", replicas: "${replicas}"}
      - sleep: 2s
    wait:
      - podsReady: {selector: "app=${app}", count: {gte: 3}}
        timeout: 2m
"""


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def problems(tmp_path, text, **kw) -> list[str]:
    p = write(tmp_path, text)
    with pytest.raises(loader.ScenarioError) as exc:
        loader.load(p, **kw)
    return [str(x).replace(str(p), "s.yaml") for x in exc.value.problems]


def test_good(tmp_path):
    sc = loader.load(write(tmp_path, GOOD), {"replicas": 5})
    step = sc.scenario.steps[0]
    from console.scenario.model import action_of, condition_of
    assert action_of(step.solve[0]) == ("scale", {"deployment": "order", "replicas": 5})
    assert action_of(step.solve[1]) == ("sleep", {"seconds": 2.0})
    assert condition_of(step.wait[0]).selector == "app=order" and step.wait[0].timeout == 120
    assert sc.namespace == "default"


def test_yaml_syntax_names_the_line(tmp_path):
    out = problems(tmp_path, GOOD.replace("title: One", "title: [One"))
    assert out[0].startswith("s.yaml:8:") and "not valid YAML" in out[0]


def test_unknown_action_and_condition_suggest_the_right_name(tmp_path):
    text = GOOD.replace("- scale:", "- scael:").replace("- podsReady:", "- podReady:")
    assert problems(tmp_path, text) == [
        "s.yaml:9:9: steps[0].solve[0]: unknown action 'scael' (did you mean 'scale'?)",
        "s.yaml:12:9: steps[0].wait[0]: unknown condition 'podReady' (did you mean 'podsReady'?)",
    ]


def test_unknown_field_points_at_the_key(tmp_path):
    out = problems(tmp_path, GOOD.replace("replicas: \"${replicas}\"", "replica: 3"))
    assert out == ["s.yaml:9:39: steps[0].solve[0].scale.replica: unknown field 'replica' "
                   "(did you mean 'replicas'?)"]
    out = problems(tmp_path, GOOD.replace("    title: One", "    titel: One"))
    assert out[0].startswith("s.yaml:7:5: steps[0].titel: unknown field 'titel' (did you mean 'title'?)")


def test_wrong_type(tmp_path):
    out = problems(tmp_path, GOOD.replace('replicas: "${replicas}"', "replicas: three"))
    assert out == ["s.yaml:9:49: steps[0].solve[0].scale.replicas: Input should be a valid integer, "
                   "unable to parse string as an integer"]
    out = problems(tmp_path, GOOD.replace("sleep: 2s", "sleep: soon"))
    assert out == ["s.yaml:10:16: steps[0].solve[1].sleep: 'soon' is not a duration "
                   "(e.g. 30s, 2m, 1m30s, 500ms)"]


def test_undefined_var_and_unknown_override(tmp_path):
    out = problems(tmp_path, GOOD.replace("app=${app}", "app=${ap}"))
    assert out == ["s.yaml:12:31: steps[0].wait[0].podsReady.selector: undefined variable ${ap} "
                   "(did you mean 'app'?) (defined: app, replicas, namespace)"]
    out = problems(tmp_path, GOOD, overrides={"replica": 2})
    assert out[0].startswith("s.yaml:4:7: vars: --var replica: the scenario has no such variable "
                             "(did you mean 'replicas'?)")


def test_missing_manifest(tmp_path):
    text = GOOD.replace("      - sleep: 2s", "      - sleep: 2s\n      - apply: l9/nothing.yaml")
    out = problems(tmp_path, text)
    assert len(out) == 1 and out[0].startswith("s.yaml:11:16: steps[0].solve[2].apply: manifest "
                                               "'l9/nothing.yaml' not found (looked for ")


def test_a_manifest_that_is_not_yaml_is_named_with_its_own_line(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "bad.yaml").write_text("kind: Pod\nmetadata: [\n")
    text = GOOD.replace("source: test}", "source: test}\ndefaults: {manifests: m}").replace(
        "      - sleep: 2s", "      - sleep: 2s\n      - apply: {file: bad.yaml}")
    out = problems(tmp_path, text)
    assert "steps[0].solve[2].apply.file: manifest 'bad.yaml':" in out[0] and "bad.yaml:3" in out[0]


def test_every_problem_at_once_and_the_cli_exits_2_without_a_traceback(tmp_path, capsys):
    text = GOOD.replace("- scale:", "- scael:").replace("sleep: 2s", "sleep: x").replace(
        "kind: Scenario", "kind: Scenario\nextra: 1")
    p = write(tmp_path, text)
    assert cli.main(["lint", str(p)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count(str(p)) == 3
    assert err.strip().endswith("kubelab lint: 3 problems")
    assert cli.main(["run", str(p), "--embedded"]) == 2     # refused before any cluster starts
    assert "starting the embedded cluster" not in capsys.readouterr().err


@pytest.mark.parametrize("edit, expected", [
    (lambda t: t.replace("apiVersion: kubelab/v1", "apiVersion: kubelab/v2"),
     "s.yaml:1:13: apiVersion: apiVersion 'kubelab/v2': this kubelab reads 'kubelab/v1'"),
    (lambda t: t.replace("    title: One", "    title: One\n    title: Two"),
     "s.yaml:8:5: key 'title' is given twice"),
    (lambda t: t.replace("      - sleep: 2s", "      - {sleep: 2s, apply: x.yaml}"),
     "s.yaml:10:9: steps[0].solve[1]: one action or condition per item: found sleep, apply "
     "(make each its own list item)"),
    (lambda t: t.replace("      - sleep: 2s", "      - load.start: {siege: '-c x http://order:8080/'}"),
     "s.yaml:10:29: steps[0].solve[1].load.start.siege: -c/--concurrent 'x': expected a whole number"),
    (lambda t: t.replace("id: one", "id: One Step"),
     "s.yaml:6:9: steps[0].id: String should match pattern '^[a-z0-9][a-z0-9-]*$'"),
    (lambda t: t + "---\nmore: 1\n", "s.yaml:15:1: one scenario per file (found a second document)"),
    (lambda t: t.replace("count: {gte: 3}", "count: {between: [6, 3]}"),
     "s.yaml:12:52: steps[0].wait[0].podsReady.count: between [6, 3]: the first is larger"),
    (lambda t: t.replace("      - sleep: 2s", "      - {scale: {deployment: x, replicas: 1}, rollback: true}"),
     "s.yaml:10:57: steps[0].solve[1].rollback: scale has no undo in the catalogue: list the rollback "
     "actions instead of true"),
])
def test_each_kind_of_bad_input(tmp_path, edit, expected):
    assert expected in problems(tmp_path, edit(GOOD))


def test_empty_and_not_a_mapping(tmp_path):
    assert problems(tmp_path, "") == ["s.yaml: the file is empty"]
    assert problems(tmp_path, "- a\n- b\n")[0].startswith("s.yaml:1:1: a scenario is a mapping")


def test_the_published_schema_is_the_models_own():
    published = json.loads((ROOT / "scenarios" / schema.SCHEMA_FILE).read_text())
    assert published == json.loads(json.dumps(schema.schema())), \
        "scenarios/schema.json is stale: kubelab lint --schema > scenarios/schema.json"
    actions = published["$defs"]["ScaleParams"]["properties"]
    assert {"deployment", "replicas", "by"} <= set(actions)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_lab_scenario_is_valid_and_names_its_schema(path):
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=schema.json\n")
    loaded = loader.load(path)
    assert loaded.scenario.metadata.lab and loaded.scenario.metadata.source
    assert all(s.title for s in loaded.scenario.steps)

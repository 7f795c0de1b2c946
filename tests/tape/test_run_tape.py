"""`kubelab run SCENARIO --record FILE`: a tape of a scenario run whose step markers
are the scenario's steps with their results, replayed headless with no cluster."""

import hashlib
import json
import uuid
from pathlib import Path

import pytest
import yaml

from console import cli
from console.cluster.printer import pod_row
from console.tape.fold import Fold
from console.tape.reader import read_index
from console.ui.replay import ReplayApp
from tests.tape.panes import panes
from tests.ui.feed import until

LAB = Path(__file__).resolve().parents[2] / "scenarios" / "l7-basics.yaml"


@pytest.fixture
def run_tape(cluster, tmp_path, capsys):
    ns = f"tape-l7-{uuid.uuid4().hex[:5]}"
    tape_path = tmp_path / "l7.tape"
    code = cli.main(["run", str(LAB), "--kubeconfig", str(cluster.kubeconfig), "-n", ns,
                     "--speed", "20", "--record", str(tape_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"kubelab: tape {tape_path}: " in out
    return tape_path, ns


async def test_a_recorded_run_replays_step_by_step(run_tape):
    tape_path, ns = run_tape

    tape = read_index(tape_path)
    head = tape.header
    assert head["scenario"]["id"] == "l7-basics"
    assert head["scenario"]["sha256"] == hashlib.sha256(LAB.read_bytes()).hexdigest()
    assert head["cluster"]["namespace"] == ns and head["cluster"]["kind"] == "kubeconfig"
    steps = [s["id"] for s in yaml.safe_load(LAB.read_text())["steps"]]
    assert [m.id for m in tape.markers] == steps and all(m.ok for m in tape.markers)
    assert all(m.title for m in tape.markers) and tape.end == {"exit": 0, "scenario": "passed"}
    names = {json.loads(line).get("event") for line in tape_path.read_text().splitlines()[1:]}
    assert {"object", "synced", "action", "scenario.step", "scenario.step.done"} <= names

    # what the tape says the namespace held at each step, folded line by line
    expected, fold, marks = [], Fold(), iter(tape.markers)
    mark = next(marks)
    for rec in tape.records():
        if rec.event is not None:
            fold.apply(rec.event)
        if mark is not None and rec.line == mark.line:
            at = tape.start + mark.t
            expected.append(sorted(pod_row(p, at).cells for p in fold.cluster.pods))
            mark = next(marks, None)

    app = ReplayApp(tape, speed=float("inf"), pause_at_steps=True, pace=True)
    p = app.player
    seen = []
    async with app.run_test(size=(160, 48)) as pilot:
        for m, pods in zip(tape.markers, expected):
            await until(pilot, lambda: p.step is m and not p.playing, 60)
            await pilot.pause()
            shown = panes(app, tape.start + m.t)
            assert shown["pods"] == pods, m.id
            lab, subtitle = shown["lab"]                 # the Lab pane, as the run left it
            assert f"✓ {m.id}" in lab and subtitle.endswith(f"{m.index + 1}/{len(tape.markers)}")
            seen.append(shown)
            p.play()
        await until(pilot, lambda: p.ended, 60)
        middle = len(tape.markers) // 2
        p.seek_step(middle)
        await until(pilot, lambda: p.step is tape.markers[middle] and app.sub.idle, 60)
        await pilot.pause()
        assert panes(app, tape.start + tape.markers[middle].t) == seen[middle]
    assert any(pods for pods in expected) and expected[-1] != expected[0]


def test_ctrl_c_while_a_run_cleans_up_still_ends_its_tape(cluster, tmp_path, capsys, monkeypatch):
    from console.cluster.session import Session
    lab = tmp_path / "one.yaml"
    lab.write_text("""\
apiVersion: kubelab/v1
kind: Scenario
metadata: {id: one, title: One step, lab: T1, source: test}
steps:
  - id: nodes
    title: Nodes
    expect:
      - object: {kind: Node, path: 'status.conditions[?(@.type=="Ready")].status', value: "True"}
""")
    close = Session.close

    def interrupted(self, *a, **kw):                # the second Ctrl-C, as the run cleans up
        close(self, *a, **kw)
        raise KeyboardInterrupt
    monkeypatch.setattr(Session, "close", interrupted)
    tape_path = tmp_path / "one.tape"
    code = cli.main(["run", str(lab), "--kubeconfig", str(cluster.kubeconfig), "-n",
                     f"tape-int-{uuid.uuid4().hex[:5]}", "--record", str(tape_path)])
    assert code == 130
    assert f"kubelab: tape {tape_path}: " in capsys.readouterr().out
    tape = read_index(tape_path)
    assert not tape.truncated and tape.end == {"exit": 130, "scenario": "interrupted"}
    assert [m.id for m in tape.markers] == ["nodes"]

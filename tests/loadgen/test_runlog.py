"""The run log: one JSON line per run under $XDG_STATE_HOME/kubelab/runs.jsonl."""

from console.loadgen import runlog
from console.loadgen.options import parse


def test_append_and_read(state):
    spec = parse(["-c2", "-r1", "http://localhost:1/x POST a=1"])
    p = runlog.append(spec.to_dict(), {"transactions": 1}, source="test")
    runlog.append(spec.to_dict(), {"transactions": 2})
    assert p == state / "kubelab" / "runs.jsonl"
    with p.open("a") as f:
        f.write("{not json\n")  # a torn line from elsewhere must not hide the others
    runs = runlog.read()
    assert [r["result"]["transactions"] for r in runs] == [1, 2]
    assert runs[0]["source"] == "test" and runs[0]["spec"]["targets"][0]["body"] == "a=1"
    assert runs[0]["argv"] == ["-c2", "-r1", "http://localhost:1/x POST a=1"]
    assert [r["result"]["transactions"] for r in runlog.read(limit=1)] == [2]


def test_empty(state):
    assert runlog.read() == []

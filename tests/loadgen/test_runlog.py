"""The run log: $XDG_STATE_HOME/kubelab/runs.jsonl, written as a run goes, private, no secrets."""

import hashlib
import json
import os
import stat

from console.loadgen import runlog
from console.loadgen.options import parse


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_lines_as_the_run_goes_then_read_whole(state):
    spec = parse(["-c2", "-r1", "http://localhost:1/x POST a=1"])
    log = runlog.RunLog(spec, source="test")
    p = state / "kubelab" / "runs.jsonl"
    assert log.path == p
    series = [{"t": 0, "requests": 3}]
    log.seconds(series)
    series.append({"t": 1, "requests": 4})
    log.seconds(series)
    log.seconds(series)  # nothing new: nothing written twice
    kinds = [json.loads(line)["kind"] for line in p.read_text().splitlines()]
    assert kinds == ["siege-start", "siege-second", "siege-second"]
    log.finish({"transactions": 7, "series": series + [{"t": 2, "requests": 0}]})
    second = runlog.RunLog(spec)
    second.finish({"transactions": 2, "series": []})
    with p.open("a") as f:
        f.write("{not json\n")  # a torn line from elsewhere must not hide the others
    runs = runlog.read()
    assert [r["result"]["transactions"] for r in runs] == [7, 2]
    assert [s["t"] for s in runs[0]["result"]["series"]] == [0, 1, 2]
    assert runs[0]["source"] == "test" and runs[1]["source"] == "cli"
    assert runs[0]["argv"][:2] == ["-c2", "-r1"]
    assert [r["result"]["transactions"] for r in runlog.read(limit=1)] == [2]


def test_a_killed_run_keeps_its_seconds(state):
    log = runlog.RunLog(parse(["-c1", "-t9S", "http://localhost:1/"]))
    log.seconds([{"t": 0, "requests": 5}, {"t": 1, "requests": 6}])
    # no finish(): the process died here
    (run,) = runlog.read()
    assert run["incomplete"] is True and run["argv"] == ["-c1", "-t9S", "http://localhost:1/"]
    assert [s["requests"] for s in run["result"]["series"]] == [5, 6]


def test_private_directory_and_file(state, tmp_path):
    state.mkdir(parents=True)
    (state / "kubelab").mkdir(mode=0o755)          # as an older version left it
    old = state / "kubelab" / "runs.jsonl"
    old.write_text("")
    old.chmod(0o644)
    runlog.RunLog(parse(["http://localhost:1/"])).finish({"series": []})
    assert _mode(state / "kubelab") == 0o700
    assert _mode(old) == 0o600


def test_secrets_and_bodies_stay_out(state):
    argv = ["-H", "Authorization: Bearer s3cret-token", "--header=cookie: session=abc123",
            "-HProxy-Authorization: Basic cHJveHk=", "-H", "X-Trace: visible",
            "http://user:hunter2@localhost:1/orders POST {\"card\":\"4111\"}"]
    spec = parse(argv)
    runlog.RunLog(spec).finish({"urls": [], "series": []})
    text = (state / "kubelab" / "runs.jsonl").read_text()
    for secret in ("s3cret-token", "abc123", "cHJveHk=", "hunter2", "4111"):
        assert secret not in text
    (run,) = runlog.read()
    assert run["spec"]["headers"] == {"Authorization": "<redacted>", "cookie": "<redacted>",
                                      "Proxy-Authorization": "<redacted>", "X-Trace": "visible"}
    body = b'{"card":"4111"}'
    assert run["spec"]["targets"][0]["body"] == {"bytes": len(body),
                                                 "sha256": hashlib.sha256(body).hexdigest()}
    assert run["spec"]["targets"][0]["url"] == "http://user:<redacted>@localhost:1/orders"
    assert run["argv"][1] == "Authorization: <redacted>" and run["argv"][4:6] == ["-H", "X-Trace: visible"]
    assert run["argv"][-1].startswith("http://user:<redacted>@localhost:1/orders POST <body: 15 bytes")


def test_bodies_kept_when_asked(state):
    runlog.RunLog(parse(["--log-bodies", "http://localhost:1/x POST a=1"])).finish({"series": []})
    (run,) = runlog.read()
    assert run["spec"]["targets"][0]["body"] == "a=1"
    assert run["argv"][-1] == "http://localhost:1/x POST a=1"


def test_empty(state):
    assert runlog.read() == []

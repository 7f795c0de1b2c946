"""Watches that survive: dropped streams, cut connections, a compacted history (410)
and an API server killed and restarted with --data, under a session's informers
and under a running `kubelab run`. No state is lost and none is duplicated: the
pods the session holds are what `kubectl get po` shows, and the scenario goes on."""

import subprocess
import sys
import threading
import time

import pytest
from kubehelp import run_kubectl

from console import bus
from console.cluster import actions
from console.cluster.connect import from_kubeconfig
from console.cluster.session import Session
from console.embedded import launch
from tests.cluster.helpers import Watched, wait_for

pytestmark = pytest.mark.kubectl


def kubectl_pods(c) -> dict[str, str]:
    """name -> STATUS column of `kubectl get po`."""
    out = run_kubectl(c, "get", "po", "--no-headers").stdout
    return {line.split()[0]: line.split()[2] for line in out.splitlines() if line.strip()}


def session_pods(w: Watched) -> dict[str, str]:
    from console.kubeprint import pod_status
    return {p["metadata"]["name"]: pod_status(p).reason for p in w.state.objects["pods"].values()}


def converged(c, w: Watched):
    state = w.pump()
    mine, theirs = session_pods(w), kubectl_pods(c)
    # one row per pod: the state is keyed by uid, so a duplicate shows as a second uid
    uids = [p["metadata"]["uid"] for p in state.objects["pods"].values()]
    return mine if mine == theirs and len(uids) == len(set(uids)) and mine else None


@pytest.fixture
def lab(tmp_path):
    data, kc = tmp_path / "data", tmp_path / "kubeconfig"
    c = launch.start(speed=20, data=data, kubeconfig=kc)
    assert actions.apply(from_kubeconfig(str(kc)), "manifests/order.yaml").ok
    box = {"cluster": c, "data": data, "kubeconfig": kc}
    yield box
    box["cluster"].stop()


def restart(box, kill=True):
    c = box["cluster"]
    c.kill() if kill else c.stop()
    box["cluster"] = launch.start(speed=20, data=box["data"], kubeconfig=box["kubeconfig"])
    return box["cluster"]


def test_dropped_cut_and_compacted_watches_lose_and_double_nothing(lab):
    c = lab["cluster"]
    session = Session(from_kubeconfig(str(c.kubeconfig)))
    w = Watched(session.bus)
    session.watch()
    try:
        wait_for(lambda: (got := converged(c, w)) and len(got) == 2, 120, "2 pods")
        for hit in (lambda: c.drop_watches(), lambda: c.drop_watches(reset=True),
                    lambda: (c.compact(), c.drop_watches())):
            relists = sum(i.relists for i in session.informers.items)
            hit()
            assert actions.scale_by(session.conn, "order", 1).ok      # a change meanwhile
            wait_for(lambda: converged(c, w), 120, "the session to match kubectl")
        assert len(session_pods(w)) == 5
        # the compaction made every informer relist (410), the others only resumed
        assert sum(i.relists for i in session.informers.items) > relists
    finally:
        session.close(disconnect=True)


def test_a_restarted_api_server_under_a_session(lab, capsys):
    c = lab["cluster"]
    session = Session(from_kubeconfig(str(c.kubeconfig)))
    w = Watched(session.bus)
    session.watch()
    try:
        # Running before the kill: a container that never started comes back with 0 restarts
        before = wait_for(lambda: (got := converged(c, w)) and len(got) == 2
                          and set(got.values()) == {"Running"} and got, 120, "2 pods running")
        c = restart(lab)
        t0 = time.monotonic()
        wait_for(lambda: w.pump().link_summary()[0] == "live"
                 and any(isinstance(e, bus.WatchState) and e.state != "live" for e in w.seen),
                 120, "live again")
        live = time.monotonic() - t0
        def restarted():
            got = converged(c, w)               # pumps the bus first
            counts = [((p.get("status") or {}).get("containerStatuses") or [{}])[0].get("restartCount", 0)
                      for p in w.state.objects["pods"].values()]
            return got if got and all(n >= 1 for n in counts) else None
        after = wait_for(restarted, 120, "the pods back")
        assert set(after) == set(before)                  # the same pods, restarted, no doubles
        with capsys.disabled():
            print(f"\n[API server restart] the session was live again {live:.1f}s after the "
                  "new server was up")
    finally:
        session.close(disconnect=True)


SCENARIO = """\
apiVersion: kubelab/v1
kind: Scenario
metadata: {id: survive, title: Through an API server restart, lab: T, source: test}
defaults: {timeouts: {wait: 240s}, interval: 0.5s}
steps:
  - id: up
    title: order is up
    wait:
      - podsReady: {selector: app=order, count: 2}
  - id: after
    title: scaled to three after the restart
    wait:
      - podsReady: {selector: app=order, count: 3}
    expect:
      - podsReady: {selector: app=order, count: 3}
"""


def test_a_restarted_api_server_under_kubelab_run(lab, tmp_path):
    path = tmp_path / "survive.yaml"
    path.write_text(SCENARIO)
    report = tmp_path / "report.json"
    proc = subprocess.Popen([sys.executable, "-m", "console.cli", "run", str(path), "--kubeconfig",
                             str(lab["kubeconfig"]), "-n", "default", "--report", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: [lines.append(x) for x in proc.stdout], daemon=True).start()
    try:
        wait_for(lambda: any("order is up" in x and "✓" in x for x in lines) or
                 any("after" in x for x in lines), 180, "the first step done")
        c = restart(lab)
        run_kubectl(c, "scale", "deployment", "order", "--replicas=3", check=True)
        assert proc.wait(300) == 0, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
    import json
    steps = json.loads(report.read_text())["scenarios"][0]["steps"]
    assert [s["status"] for s in steps] == ["passed", "passed"]

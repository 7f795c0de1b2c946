"""The runner against the embedded cluster: a wait that times out fails its step with
what it saw last and what was collected, and cleanup still runs; Ctrl-C during
`kubelab run` cleans up and writes the report so far; learner mode fails the check
with the hint until the learner acts; rollbacks; progress on the bus."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from console import bus
from console.cluster import rest
from console.cluster.session import Session
from console.loadgen import pool
from console.scenario import loader
from console.scenario.runner import Runner
from tests.cluster.helpers import namespace_conn, wait_for

HEAD = """\
# yaml-language-server: $schema=schema.json
apiVersion: kubelab/v1
kind: Scenario
metadata: {{id: {id}, title: T, lab: T1, source: test}}
defaults: {{timeouts: {{wait: {wait}}}, interval: 0.2s}}
steps:
"""

NGINX = """\
      - apply:
          yaml:
            apiVersion: v1
            kind: Pod
            metadata: {name: web, labels: {app: web}}
            spec: {containers: [{name: web, image: "nginx:1.17.0"}]}
"""


def scenario(tmp_path, body: str, id="t", wait="60s"):
    p = tmp_path / f"{id}.yaml"
    p.write_text(HEAD.format(id=id, wait=wait) + body)
    return p


def run(cluster, path, mode="run", **kw):
    conn = namespace_conn(cluster, "sc")
    session = Session(conn, speed=20)
    loaded = loader.load(path, namespace=conn.namespace)
    runner = Runner(session, loaded, mode, **kw)
    return session, runner


def test_a_timed_out_wait_fails_with_what_it_saw_collects_and_still_cleans_up(cluster, tmp_path):
    body = """\
  - id: bad-image
    title: A pod whose image never pulls
    solve:
      - apply:
          yaml:
            apiVersion: v1
            kind: Pod
            metadata: {name: broken, labels: {app: broken}}
            spec: {containers: [{name: app, image: "nginx:doesnotexist"}]}
    wait:
      - podsReady: {name: broken}
        timeout: 4s
        message: the image cannot be pulled
  - id: never
    title: Not reached
    wait:
      - podsReady: {name: broken}
"""
    session, runner = run(cluster, scenario(tmp_path, body))
    sub = session.bus.subscribe()
    report = runner.run()
    assert report.status == "failed"
    step, after = report.steps
    assert step.status == "failed" and after.status == "not-run"
    check = step.checks[-1]
    assert not check.ok and "(after 4s)" in check.observed
    assert "broken 0/1" in check.observed and ("ErrImagePull" in check.observed
                                              or "ImagePullBackOff" in check.observed)
    assert step.failures[0].startswith("pods broken ready: the image cannot be pulled — saw")
    assert "Failed" in step.collected["events"] and "doesnotexist" in step.collected["events"]
    assert "broken" in step.collected["describe"] and "Image:          nginx:doesnotexist" in step.collected["describe"]
    assert "podLogs" in step.collected
    # cleanup removed what the scenario created, and said so
    assert any(a.message == 'pod "broken" deleted' for a in report.cleanup)
    assert not rest.exists(runner.conn.api, "Pod", runner.conn.namespace, "broken")
    kinds = [type(e).__name__ for e in sub.get_batch(timeout=1)]
    for name in ("ScenarioStarted", "StepStarted", "CheckResult", "StepFinished", "ScenarioFinished"):
        assert name in kinds
    session.close(wait_load=0, disconnect=False)


def _as_from_a_shell() -> None:
    """In the child: SIGINT as an interactive shell leaves it (default, not blocked),
    whatever this test process's threads have done with theirs."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_ctrl_c_during_kubelab_run_cleans_up_and_writes_the_report(cluster, tmp_path):
    ns = f"int-{uuid.uuid4().hex[:6]}"
    body = """\
  - id: up
    title: A web pod
    solve:
""" + NGINX + """\
    wait:
      - podsReady: {name: web}
  - id: forever
    title: Waits for what never comes
    wait:
      - podsReady: {name: web, count: 5}
"""
    path = scenario(tmp_path, body, wait="10m")
    report = tmp_path / "r.json"
    proc = subprocess.Popen([sys.executable, "-m", "console.cli", "run", str(path), "--kubeconfig",
                             str(cluster.kubeconfig), "-n", ns, "--speed", "20", "--report", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NO_COLOR": "1", "PYTHONFAULTHANDLER": "1"},
                            preexec_fn=_as_from_a_shell)
    lines, errors = [], []

    def read(stream, into):           # both pipes, so that neither fills and blocks it
        for line in stream:
            into.append(line)
    readers = [threading.Thread(target=read, args=(proc.stdout, lines), daemon=True),
               threading.Thread(target=read, args=(proc.stderr, errors), daemon=True)]
    for t in readers:
        t.start()

    def stuck(what: str) -> AssertionError:
        # how its threads take signals (masks in hex), then SIGABRT: faulthandler
        # prints every thread's stack to stderr
        masks = []
        for status in Path(f"/proc/{proc.pid}/task").glob("*/status"):
            try:
                masks.append(" ".join(line.strip() for line in status.read_text().splitlines()
                                      if line.startswith(("Name", "SigBlk", "SigIgn", "SigCgt"))))
            except OSError:
                pass
        what += f"; signal masks by thread: {masks}"
        proc.send_signal(signal.SIGABRT)
        proc.wait(30)
        for t in readers:
            t.join(10)
        return AssertionError(f"{what}; stdout {''.join(lines)!r} stderr {''.join(errors)!r}")
    try:
        wait_for(lambda: any("✓ up" in line for line in lines), 90, "the first step done")
    except AssertionError:
        raise stuck("the first step never passed") from None
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        assert proc.wait(90) == 130
    except subprocess.TimeoutExpired:
        raise stuck("still running 90 s after Ctrl-C") from None
    for t in readers:
        t.join(10)
    data = json.loads(report.read_text())
    sc = data["scenarios"][0]
    assert data["status"] == "interrupted" and sc["status"] == "interrupted"
    assert [s["status"] for s in sc["steps"]] == ["passed", "interrupted"]
    assert any(a["message"] == 'pod "web" deleted' for a in sc["cleanup"])
    conn = namespace_conn(cluster, "x")
    assert not rest.exists(conn.api, "Pod", ns, "web")
    out = "".join(lines)
    assert "interrupted" in out and "RESULT" in out
    assert "Traceback" not in "".join(errors)


def test_learner_mode_fails_the_check_with_the_hint_then_passes_once_the_learner_acts(cluster, tmp_path):
    body = """\
  - id: deploy
    title: Create the web pod
    solve:
""" + NGINX + """\
    wait:
      - podsReady: {name: web}
  - id: label
    title: Label the pod tier=front
    command: kubectl label pod web tier=front
    gate: learner
    hint: kubectl label pod web tier=front
    solve:
      - patch: {kind: pod, name: web, patch: {metadata: {labels: {tier: front}}}}
    expect:
      - object: {kind: Pod, name: web, match: {metadata: {labels: {tier: front}}}}
        message: the pod has no tier label yet
"""
    session, runner = run(cluster, scenario(tmp_path, body), mode="learner")
    sub = session.bus.subscribe()
    seen: list = []
    thread = threading.Thread(target=lambda: seen.append(runner.run()), daemon=True)
    thread.start()

    def events():
        seen.extend(sub.get_batch(timeout=0.2))
        return seen

    wait_for(lambda: any(isinstance(e, bus.StepStarted) and e.step == "label" and e.gate == "learner"
                         for e in events()), 90, "the learner step")
    runner.command("check")
    wait_for(lambda: any(isinstance(e, bus.CheckResult) and e.phase == "check" and not e.ok
                         for e in events()), 30, "a failed check")
    fail = next(e for e in seen if isinstance(e, bus.CheckResult) and e.phase == "check")
    assert fail.message == "the pod has no tier label yet" and "0 of 1 match" in fail.observed
    assert any(isinstance(e, bus.HintShown) and "kubectl label" in e.hint for e in seen)
    # the learner acts, elsewhere (here: through the API, as kubectl would)
    rest.patch(runner.conn.api, "Pod", runner.conn.namespace, "web",
               {"metadata": {"labels": {"tier": "front"}}}, rest.MERGE)
    thread.join(60)
    report = seen[0] if not isinstance(seen[0], bus.Event) else next(x for x in seen if not isinstance(x, bus.Event))
    assert report.status == "passed", report.failures
    assert not any(a.name == "patch" for s in report.steps for a in s.actions)   # solve never ran
    session.close(wait_load=0, disconnect=False)


def test_rollbacks_run_at_cleanup_and_a_failed_one_fails_the_run(cluster, tmp_path):
    body = """\
  - id: break
    title: Break the readiness of a deployment
    solve:
      - apply:
          yaml:
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 1
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: "nginx:1.17.0", ports: [{containerPort: 80}]}]}
      - readiness.break: {deployment: web}
        rollback: true
      - scale: {deployment: web, replicas: 2}
        rollback:
          - delete: {kind: configmap, name: not-there}
    expect:
      - object: {kind: Deployment, name: web, path: "metadata.annotations['kubelab.dev/readiness-probe']"}
    errors:
      - object: {kind: Deployment, name: web, path: spec.replicas, value: 5}
"""
    session, runner = run(cluster, scenario(tmp_path, body))
    report = runner.run()
    assert [s.status for s in report.steps] == ["passed"]
    rb = [a for a in report.cleanup if a.phase == "rollback"]
    assert [a.name for a in rb] == ["delete", "readiness.fix"]          # newest first
    assert not rb[0].ok and 'configmaps "not-there" not found' in rb[0].message
    assert rb[1].ok and "readiness probe restored" in rb[1].message
    assert report.status == "failed"                                    # the failed rollback
    session.close(wait_load=0, disconnect=False)


def test_load_on_every_core_and_in_the_siege_pod_reading_siege_s_own_output(cluster, tmp_path):
    """`kubectl exec siege -- siege ...` through the API: -v lines as they come, the summary read back."""
    root = Path(__file__).resolve().parents[2] / "manifests"
    body = f"""\
  - id: up
    title: order and the siege pod
    solve:
      - apply: {root}/l2/deployment.yaml
      - apply: {root}/l2/service.yaml
      - apply: {root}/siege.yaml
    wait:
      - rolloutComplete: {{deployment: order}}
      - podsReady: {{name: siege}}
      - http: {{url: "http://order:8080/orders"}}
  - id: direct
    title: kubelab's siege, on every core (-j defaults to the cores)
    solve:
      - load.start: {{siege: "siege -c2 -t2S http://order:8080/orders", name: direct}}
    wait:
      - load: {{run: direct, done: true}}
    expect:
      - load: {{run: direct, availability: 100, transactions: {{gt: 0}}}}
  - id: siege
    title: siege inside the siege pod
    solve:
      - load.start: {{siege: "siege -c2 -t2S -v http://order:8080/orders", pod: siege, name: inpod}}
    wait:
      - load: {{run: inpod, done: true}}
    expect:
      - load: {{run: inpod, availability: 100, transactions: {{gt: 0}}, codes: {{"200": {{gt: 0}}}}}}
"""
    session, runner = run(cluster, scenario(tmp_path, body))
    report = runner.run()
    assert report.status == "passed", report.failures
    direct = session.load.get("direct").result
    assert direct["path"]["kind"] == "loopback" and direct["workers"] == min(2, pool.cores())
    run_ = session.load.get("inpod")
    assert run_.result["path"]["pod"] == "siege" and run_.result["transactions"] > 0
    assert run_.summary.lstrip().startswith("Transactions:") and "Availability:" in run_.summary
    session.close(wait_load=0, disconnect=False)


def test_a_lab_that_needs_metrics_says_it_waits_for_them_then_fails_plainly(start_cluster, tmp_path):
    c = start_cluster(metrics=False)
    body = """\
  - id: one
    title: Never reached
    wait:
      - podsReady: {name: web}
"""
    text = HEAD.format(id="needs", wait="5s").replace("source: test}", "source: test, requires: [metrics]}")
    p = tmp_path / "needs.yaml"
    p.write_text(text + body)
    session, runner = run(c, p, requires_wait=3)
    sub = session.bus.subscribe()
    report = runner.run()
    assert report.status == "failed" and "needs metrics" in report.error
    assert [s.status for s in report.steps] == ["not-run"]
    seen = [e for e in sub.get_batch(timeout=1)
            if isinstance(e, bus.CheckResult) and e.phase == "requires"]
    assert seen and seen[0].check == "requires metrics" and not seen[0].final
    assert "asking again (up to 3 s)" in seen[0].observed
    session.close(wait_load=0, disconnect=False)

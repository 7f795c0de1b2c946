"""The one catalogue: consistent with itself, and every action run through a Session
against the embedded cluster does what kubectl would."""

import inspect

from console import bus
from console.cluster import catalogue, rest
from console.cluster.session import Session
from tests.cluster.helpers import namespace_conn, wait_for


def test_the_catalogue_is_consistent():
    names = [a.name for a in catalogue.ACTIONS]
    assert len(names) == len(set(names))
    keys = [k.key for a in catalogue.ACTIONS for k in a.keys]
    assert len(keys) == len(set(keys))
    for act in catalogue.ACTIONS:
        assert act.title and act.help, act.name
        if act.undo:
            undo = catalogue.get(act.undo)
            assert any(undo.param(p.name) for p in act.params) or act.name == "load.start", act.name
        if act.confirm:
            sample = {p.name: 1 if p.type in (int, int | None, float) else "x" for p in act.params}
            act.question(sample, None)   # formats with its own params
        # the function behind it takes every parameter by its scenario name
        sig = inspect.signature(act.run)
        if not any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
            for p in act.params:
                assert p.name in sig.parameters, (act.name, p.name)
    assert [a.name for a in catalogue.menu("faults")][:3] == ["liveness.down", "liveness.up",
                                                              "readiness.break"]


def test_menu_lines_and_questions_come_from_the_parameters():
    cb = catalogue.get("mesh.retries")
    assert cb.describe({"host": "order"}) == "mesh: retries (3 x 2s) on order"
    assert catalogue.get("mesh.abort").describe({"host": "order"}) == "mesh: abort 50% with 503 on order"
    kill = catalogue.get("deletePod")
    assert kill.question({"pod": "order-1"}) == "Delete pod order-1"
    scale = catalogue.get("scale")
    assert scale.question({"deployment": "order", "replicas": 3}) == ""
    assert scale.question({"deployment": "order", "replicas": 0}) == "Scale deployment/order to 0"
    assert catalogue.get("apply").check({"file": "a", "yaml": "b"})
    assert catalogue.get("apply").check({"file": "a"}) is None


POD = """
apiVersion: v1
kind: Pod
metadata: {name: shell, labels: {app: shell}}
spec:
  containers:
  - name: sh
    image: busybox
    command: ["/bin/sh", "-c", "echo hi > /tmp/x; sleep 3600"]
    env: [{name: GREETING, value: hello}]
"""


def test_session_runs_catalogue_actions_and_says_so_on_the_bus(cluster):
    conn = namespace_conn(cluster, "cat")
    session = Session(conn)
    sub = session.bus.subscribe()
    res = session.act("apply", yaml=POD)
    assert res.ok and res.message == "pod/shell created", res.message
    assert [str(r) for r in res.created] == ["pod/shell"]
    done = [e for e in sub.get_batch(timeout=1) if isinstance(e, bus.ActionDone)]
    assert done and done[0].action == "apply" and done[0].ok

    wait_for(lambda: (rest.get(conn.api, "Pod", conn.namespace, "shell").get("status") or {})
             .get("phase") == "Running", 90, "pod running")
    out = wait_for(lambda: session.act("exec", pod="shell", command="printenv GREETING"), 60, "exec")
    assert out.message == "hello" and out.data["exitCode"] == 0
    bad = session.act("exec", pod="shell", command=["cat", "/nope"])
    assert not bad.ok and "exit code 1" in bad.message

    res = session.act("patch", kind="po", name="shell", patch={"metadata": {"labels": {"x": "y"}}},
                      type="merge")
    assert res.ok and res.message == "pod/shell patched", res.message
    res = session.act("delete", kind="pods", selector="x=y")
    assert res.ok and res.message == 'pod "shell" deleted', res.message
    res = session.act("delete", kind="dr", all=True)
    assert res.ok and res.message == "No resources found"
    res = session.act("delete", kind="gizmo", name="x")
    assert not res.ok and "doesn't have a resource type 'gizmo'" in res.message
    session.close(wait_load=0, disconnect=False)

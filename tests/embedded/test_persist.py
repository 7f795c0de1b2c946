"""`kubelab cluster --data DIR`: objects, resourceVersions, credentials and port kept
across a crash (SIGKILL) and a clean stop; pods come back as after a node reboot.
Without --data nothing is kept. Plus the journal on its own (torn last line,
compaction into a snapshot)."""

import json
import re

import pytest
from kubehelp import run_kubectl
from waits import wait_for

from console.embedded import launch
from console.embedded.persist import Journal
from console.embedded.store import Expired, Store

pytestmark = pytest.mark.kubectl


def ok(r):
    assert r.returncode == 0, r.stderr
    return r.stdout


def pods(c) -> dict:
    body = json.loads(ok(run_kubectl(c, "get", "po", "-o", "json")))
    return {p["metadata"]["name"]: p for p in body["items"]}


def running(c, n: int):
    got = pods(c)
    ready = [p for p in got.values() if any(
        s.get("ready") for s in (p.get("status") or {}).get("containerStatuses") or [])]
    return got if len(got) == n and len(ready) == n else None


def test_a_crash_keeps_objects_versions_and_credentials_and_pods_come_back(tmp_path):
    data, kc = tmp_path / "data", tmp_path / "kubeconfig"
    c = launch.start(speed=20, data=data, kubeconfig=kc)
    try:
        ok(run_kubectl(c, "create", "deployment", "web", "--image=nginx:1.25", "--replicas=2"))
        ok(run_kubectl(c, "create", "configmap", "cfg", "--from-literal=k=v"))
        before = wait_for(lambda: running(c, 2), what="2 ready pods")
        rv_cm = ok(run_kubectl(c, "get", "cm", "cfg", "-o", "jsonpath={.metadata.resourceVersion}"))
        server, token = c.server, c.token
    finally:
        c.kill()
    assert oct((data / "journal.jsonl").stat().st_mode & 0o777) == "0o600"
    assert oct(data.stat().st_mode & 0o777) == "0o700"

    c = launch.start(speed=20, data=data, kubeconfig=kc)
    try:
        # a real API server restarts on its own address with its own CA and tokens
        assert (c.server, c.token) == (server, token)
        assert ok(run_kubectl(c, "get", "cm", "cfg", "-o", "jsonpath={.data.k}")) == "v"
        assert ok(run_kubectl(c, "get", "cm", "cfg", "-o",
                              "jsonpath={.metadata.resourceVersion}")) == rv_cm
        # new writes continue the counter
        ok(run_kubectl(c, "label", "cm", "cfg", "x=y"))
        rv2 = ok(run_kubectl(c, "get", "cm", "cfg", "-o", "jsonpath={.metadata.resourceVersion}"))
        assert int(rv2) > max(int(p["metadata"]["resourceVersion"]) for p in before.values())
        after = wait_for(lambda: running(c, 2) if all(
            (p["status"]["containerStatuses"][0].get("restartCount") or 0) >= 1
            for p in pods(c).values()) else None, what="pods restarted and ready")
        # the same pods (a reboot does not replace them): names and uids kept
        assert {n: p["metadata"]["uid"] for n, p in after.items()} == \
               {n: p["metadata"]["uid"] for n, p in before.items()}
        for name, p in after.items():
            cs = p["status"]["containerStatuses"][0]
            assert cs["restartCount"] == 1
            assert cs["lastState"]["terminated"]["exitCode"] == 255
            assert cs["lastState"]["terminated"]["reason"] == "Unknown"
            # a new sandbox: a new address from the node's IPAM
            assert p["status"]["podIP"] != before[name]["status"]["podIP"]
        events = ok(run_kubectl(c, "get", "events"))
        assert re.search(r"SandboxChanged\s+pod/web-\S+\s+Pod sandbox changed, it will be "
                         r"killed and re-created\.", events)
        assert re.search(r"Rebooted\s+node/kubelab-node-1\s+Node kubelab-node-1 has been "
                         r"rebooted, boot id: ", events)
        assert 'Container image "nginx:1.25" already present on machine' in events
        # the Deployment's controllers still own them: no extra ReplicaSet, no extra pod
        assert len(ok(run_kubectl(c, "get", "rs", "-o", "name")).split()) == 1
        # the cluster's own objects were kept, not made again (the IP allocator refuses that)
        assert ok(run_kubectl(c, "get", "svc", "-n", "kube-system", "kube-dns", "-o",
                              "jsonpath={.spec.clusterIP}")) == "10.96.0.10"
        assert "Traceback" not in c.log() and "crashed" not in c.log(), c.log()
    finally:
        c.stop()     # a clean stop folds the journal into the snapshot
    assert (data / "objects.json").stat().st_size > 0
    assert (data / "journal.jsonl").stat().st_size == 0
    c = launch.start(speed=20, data=data, kubeconfig=kc)
    try:
        assert ok(run_kubectl(c, "get", "cm", "cfg", "-o", "jsonpath={.metadata.labels.x}")) == "y"
    finally:
        c.stop()


def test_without_data_a_restart_starts_empty(tmp_path):
    kc = tmp_path / "kubeconfig"
    c = launch.start(speed=20, kubeconfig=kc)
    try:
        ok(run_kubectl(c, "create", "configmap", "gone", "--from-literal=a=b"))
        token = c.token
    finally:
        c.stop()
    c = launch.start(speed=20, kubeconfig=kc)
    try:
        assert c.token != token
        r = run_kubectl(c, "get", "cm", "gone")
        assert r.returncode == 1 and 'configmaps "gone" not found' in r.stderr
    finally:
        c.stop()


def test_a_bad_data_directory_is_exit_2_naming_the_file(tmp_path):
    import subprocess
    import sys

    data = tmp_path / "data"
    data.mkdir()
    (data / "objects.json").write_text("{not json")
    r = subprocess.run([sys.executable, "-m", "console.cli", "cluster", "--data", str(data),
                        "--kubeconfig", str(tmp_path / "kc")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    assert f"{data / 'objects.json'}: not a kubelab snapshot" in r.stderr
    assert "Traceback" not in r.stderr


def _obj(name: str, **extra) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "default"}, **extra}


def test_journal_replay_drops_a_torn_last_line_and_compacts(tmp_path):
    s = Store(Journal(tmp_path, compact_after=5))
    s.create("configmaps", _obj("a"))
    s.create("configmaps", _obj("b", data={"x": "1"}))
    s.delete("configmaps", "default", "a")
    s.journal.flush()
    with open(tmp_path / "journal.jsonl", "ab") as f:
        f.write(b'{"rv": 99, "type": "ADDED", "res": "configm')     # killed mid-write
    again = Store(Journal(tmp_path, compact_after=5))
    assert again.resource_version == 3
    assert [o["metadata"]["name"] for o in again.scan("configmaps")] == ["b"]
    assert again.get("configmaps", "default", "b")["data"] == {"x": "1"}
    # no history survives a restart: a watch from before gets 410, from now is fine
    with pytest.raises(Expired):
        again.watch("configmaps", None, 1)
    again.watch("configmaps", None, 3)
    for i in range(5):
        again.create("configmaps", _obj(f"c{i}"))
    again.journal.flush()
    assert (tmp_path / "objects.json").exists()
    third = Store(Journal(tmp_path))
    assert third.resource_version == 8
    assert len(list(third.scan("configmaps"))) == 6

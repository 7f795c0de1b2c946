"""The test hooks of api/admin.py: every watch dropped (ended, or cut), and the
watch history compacted so that resuming gets 410 Expired."""

import json
import threading

from kubernetes import client

from waits import wait_for


def _watch(api, rv: str, lines: list, done: threading.Event):
    def run():
        try:
            resp = client.CoreV1Api(api).list_namespaced_config_map(
                "default", watch=True, resource_version=rv, timeout_seconds=120,
                _preload_content=False, _request_timeout=(10, 150))
            for line in resp:
                lines.append(line)
            lines.append("END")
        except Exception as exc:
            lines.append(f"ERROR {type(exc).__name__}")
        done.set()
    threading.Thread(target=run, daemon=True).start()


def test_drop_watches_ends_or_cuts_every_stream(cluster, api):
    rv = client.CoreV1Api(api).list_namespaced_config_map("default").metadata.resource_version
    for reset, how in ((False, "END"), (True, "ERROR")):
        lines, done = [], threading.Event()
        _watch(api, rv, lines, done)
        wait_for(lambda: cluster.drop_watches(reset=reset) >= 1, what="a watch to drop")
        assert done.wait(30)
        assert lines[-1].startswith(how), lines


def test_compact_makes_an_old_resource_version_expire(cluster, api):
    core = client.CoreV1Api(api)
    old = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"generateName": "c-"}})
    current = cluster.compact()
    assert int(current) > int(old)
    lines, done = [], threading.Event()
    _watch(api, old, lines, done)
    assert done.wait(30)
    event = json.loads(lines[0])
    assert event["type"] == "ERROR" and event["object"]["code"] == 410
    assert event["object"]["reason"] == "Expired"
    lines, done = [], threading.Event()
    _watch(api, current, lines, done)        # from now on is fine
    core.create_namespaced_config_map("default", {"metadata": {"generateName": "c-"}})
    wait_for(lambda: lines, what="an event after compaction")
    assert json.loads(lines[0])["type"] == "ADDED"
    cluster.drop_watches()

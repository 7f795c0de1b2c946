"""Server-side Table printing: the real columns per kind, kubectl's pod STATUS
and RESTARTS strings, ages like HumanDuration, and one-row Tables in watches."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from kubernetes import client

from apihelp import call, stream
from console.embedded.api.podstatus import pod_row
from console.kubeprint import human_duration

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def _ago(seconds):
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("secs, text", [(5, "5s"), (119, "119s"), (150, "2m30s"), (600, "10m"),
                                        (4 * 3600, "4h"), (5 * 3600 + 120, "5h2m"),
                                        (30 * 3600, "30h"), (3 * 86400 + 3600, "3d1h"),
                                        (40 * 86400, "40d")])
def test_human_duration(secs, text):
    assert human_duration(secs) == text


def _pod(statuses, phase="Running", deleting=False, init=None, init_statuses=None):
    pod = {"metadata": {"name": "p", "creationTimestamp": _ago(300)},
           "spec": {"containers": [{"name": c.get("name", "c")} for c in statuses] or
                    [{"name": "c"}], "nodeName": "n1"},
           "status": {"phase": phase, "podIP": "10.244.1.5", "containerStatuses": statuses}}
    if deleting:
        pod["metadata"]["deletionTimestamp"] = _ago(0)
    if init is not None:
        pod["spec"]["initContainers"] = init
        pod["status"]["initContainerStatuses"] = init_statuses
    return pod


def test_pod_status_strings_follow_kubectl():
    running = {"name": "c", "ready": True, "restartCount": 0, "state": {"running": {}}}
    row = pod_row(_pod([running]), NOW)
    assert row[:5] == ["p", "1/1", "Running", "0", "5m"] and row[5:7] == ["10.244.1.5", "n1"]
    creating = {"name": "c", "ready": False, "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}}}
    assert pod_row(_pod([creating], "Pending"), NOW)[1:3] == ["0/1", "ContainerCreating"]
    crash = {"name": "c", "ready": False, "restartCount": 2,
             "state": {"waiting": {"reason": "CrashLoopBackOff"}},
             "lastState": {"terminated": {"exitCode": 1, "finishedAt": _ago(300)}}}
    row = pod_row(_pod([crash]), NOW)
    assert row[2:4] == ["CrashLoopBackOff", "2 (5m ago)"]
    done = {"name": "c", "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    assert pod_row(_pod([done], "Succeeded"), NOW)[2] == "Completed"
    assert pod_row(_pod([running], deleting=True), NOW)[2] == "Terminating"
    unready = {"name": "c", "ready": False, "restartCount": 0, "state": {"running": {}}}
    assert pod_row(_pod([unready, dict(running, name="d")]), NOW)[1] == "1/2"
    pending = pod_row({"metadata": {"name": "p", "creationTimestamp": _ago(3)},
                       "spec": {"containers": [{"name": "c"}]}, "status": {"phase": "Pending"}}, NOW)
    assert pending[1:4] == ["0/1", "Pending", "0"] and pending[5:7] == ["<none>", "<none>"]
    init = pod_row(_pod([creating], "Pending", init=[{"name": "i"}], init_statuses=[
        {"name": "i", "restartCount": 0, "state": {"running": {}}}]), NOW)
    assert init[2] == "Init:0/1"


def _columns(table):
    return [(c["name"], c["priority"]) for c in table["columnDefinitions"]]


def test_tables_have_the_real_columns(cluster, api):
    ns = f"tb-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    client.AutoscalingV2Api(api).create_namespaced_horizontal_pod_autoscaler(ns, {
        "metadata": {"name": "web"}, "spec": {"minReplicas": 1, "maxReplicas": 4,
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": 50}}}]}})
    client.CoreV1Api(api).create_namespaced_service(ns, {"metadata": {"name": "web"}, "spec": {
        "type": "NodePort", "selector": {"app": "web"},
        "ports": [{"port": 80, "nodePort": 30999}]}})
    want = {
        f"/api/v1/namespaces/{ns}/pods": ["Name", "Ready", "Status", "Restarts", "Age", "IP",
                                          "Node", "Nominated Node", "Readiness Gates"],
        f"/apis/apps/v1/namespaces/{ns}/deployments": ["Name", "Ready", "Up-to-date",
                                                       "Available", "Age", "Containers",
                                                       "Images", "Selector"],
        f"/apis/apps/v1/namespaces/{ns}/replicasets": ["Name", "Desired", "Current", "Ready",
                                                       "Age", "Containers", "Images", "Selector"],
        f"/api/v1/namespaces/{ns}/services": ["Name", "Type", "Cluster-IP", "External-IP",
                                              "Port(s)", "Age", "Selector"],
        f"/api/v1/namespaces/{ns}/endpoints": ["Name", "Endpoints", "Age"],
        "/api/v1/nodes": ["Name", "Status", "Roles", "Age", "Version", "Internal-IP",
                          "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"],
        f"/api/v1/namespaces/{ns}/events": ["Last Seen", "Type", "Reason", "Object", "Message",
                                            "Source", "Subobject", "First Seen", "Count", "Name"],
        f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers": [
            "Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"],
        f"/api/v1/namespaces/{ns}/configmaps": ["Name", "Data", "Age"],
        "/api/v1/namespaces": ["Name", "Status", "Age"],
        f"/apis/networking.istio.io/v1/namespaces/{ns}/destinationrules": ["Name", "Host", "Age"],
        f"/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices": [
            "Name", "Gateways", "Hosts", "Age"],
    }
    for path, names in want.items():
        code, _, table = call(cluster, "GET", path, accept=TABLE)
        assert code == 200 and table["kind"] == "Table", path
        assert [n for n, _ in _columns(table)] == names, path
    code, _, t = call(cluster, "GET", "/api/v1/nodes", accept=TABLE)
    assert [r["cells"][1] for r in t["rows"]] == ["Ready", "Ready"]
    assert t["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    code, _, t = call(cluster, "GET", f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers",
                      accept=TABLE)
    assert t["rows"][0]["cells"][1:6] == ["Deployment/web", "cpu: <unknown>/50%", 1, 4, 0]
    code, _, t = call(cluster, "GET", f"/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers",
                      accept=TABLE)
    assert t["rows"][0]["cells"][2] == "cpu: <unknown>/50%"
    code, _, t = call(cluster, "GET", f"/api/v1/namespaces/{ns}/services/web", accept=TABLE)
    cells = t["rows"][0]["cells"]
    assert cells[1] == "NodePort" and cells[3] == "<none>" and cells[4] == "80:30999/TCP"
    assert cells[6] == "app=web"
    code, _, t = call(cluster, "GET", f"/api/v1/namespaces/{ns}/services?includeObject=Object",
                      accept=TABLE)
    assert t["rows"][0]["object"]["kind"] == "Service"


def test_watch_events_carry_one_row_tables(cluster, api):
    ns = f"tw-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}, "data": {"x": "1"}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "b"}})
    events = stream(cluster, f"/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion=0"
                    "&timeoutSeconds=20", accept=TABLE)
    first, second = next(events), next(events)
    assert first["type"] == "ADDED" and first["object"]["kind"] == "Table"
    assert [c["name"] for c in first["object"]["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert len(first["object"]["rows"]) == 1 and first["object"]["rows"][0]["cells"][:2] == ["a", 1]
    assert second["object"]["rows"][0]["cells"][0] == "b"


def test_rows_kept_per_pod_version_give_the_same_cells_and_fresh_ages():
    from console.embedded.api.columns import POD
    from console.embedded.api.tables import Parts

    parts = Parts()
    pod = _pod([{"name": "c", "ready": True, "restartCount": 0, "state": {"running": {}}}])
    pod["metadata"].update(uid="u1", resourceVersion="7", creationTimestamp=_ago(30))
    assert POD.finish(parts.of(POD, pod), NOW.timestamp()) == pod_row(pod, NOW)
    later = NOW + timedelta(seconds=90)
    assert POD.finish(parts.of(POD, pod), later.timestamp()) == pod_row(pod, later)   # the age moves on
    changed = dict(pod, status=dict(pod["status"], phase="Failed", reason="Evicted"))
    changed["metadata"] = dict(pod["metadata"], resourceVersion="8")
    assert POD.finish(parts.of(POD, changed), NOW.timestamp()) == pod_row(changed, NOW)
    assert pod_row(changed, NOW)[2] != pod_row(pod, NOW)[2]


def test_a_long_list_written_in_pieces_is_the_same_list(cluster, api, kubectl):
    """Over 1,000 items a list is encoded a piece at a time (kube-apiserver's
    streaming list encoding): the same items, in order, as JSON, as a Table and
    to kubectl, as a paged list gives them."""
    ns = f"long-{uuid.uuid4().hex[:6]}"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    try:
        names = [f"cm-{i:04d}" for i in range(1100)]
        for name in names:
            core.create_namespaced_config_map(ns, client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name=name), data={"k": "é" * 3}))
        status, headers, whole = call(cluster, "GET", f"/api/v1/namespaces/{ns}/configmaps")
        assert status == 200 and whole["kind"] == "ConfigMapList"
        assert headers.get("Transfer-Encoding") == "chunked"   # written in pieces
        assert [o["metadata"]["name"] for o in whole["items"]] == names
        assert whole["items"][7]["data"] == {"k": "ééé"}
        paged, cont = [], ""
        while True:
            _, _, page = call(cluster, "GET", f"/api/v1/namespaces/{ns}/configmaps?limit=400"
                              + (f"&continue={cont}" if cont else ""))
            paged += page["items"]
            cont = page["metadata"].get("continue")
            if not cont:
                break
        assert paged == whole["items"]
        _, _, table = call(cluster, "GET", f"/api/v1/namespaces/{ns}/configmaps", accept=TABLE)
        assert [r["cells"][0] for r in table["rows"]] == names
        assert table["columnDefinitions"][0]["name"] == "Name"
        out = kubectl("get", "cm", "-n", ns, "--chunk-size=0", "--no-headers")
        assert [line.split()[0] for line in out.stdout.splitlines()] == names
    finally:
        core.delete_namespace(ns)

"""Fixed cluster data for snapshot tests: every pane's states, no clocks."""

from datetime import datetime, timezone

from console import bus

NOW = 1_790_000_000.0  # the injected "now"


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


DEP_UID = "dep-order"
RS = {2: "rs-order-2", 3: "rs-order-3"}
IMAGES = {2: "jinyoung/order:stable", 3: "jinyoung/order:canary"}


def pod(name, phase="Running", ready=True, waiting=None, restarts=0, last=None, age=300,
        deleting=False, rev=3, node="kubelab-node-1"):
    cs = {"name": "order", "ready": ready, "restartCount": restarts,
          "state": {"waiting": {"reason": waiting}} if waiting else {"running": {}}}
    if last:
        cs["lastState"] = {"terminated": {"exitCode": 137, "reason": "Error", "finishedAt": iso(NOW - last)}}
    meta = {"name": name, "uid": f"uid-{name}", "namespace": "default",
            "creationTimestamp": iso(NOW - age), "resourceVersion": "1",
            "ownerReferences": [{"kind": "ReplicaSet", "name": f"order-{rev}", "uid": RS[rev]}]}
    if deleting:
        meta["deletionTimestamp"] = iso(NOW)
    conds = [{"type": "Ready", "status": "True" if ready else "False"}]
    return {"metadata": meta, "spec": {"nodeName": node, "containers": [{"name": "order"}]},
            "status": {"phase": phase, "conditions": conds, "containerStatuses": [cs]}}


def events():
    out = []
    pods = [
        pod("order-7c9d8f6b5-a1b2c"),
        pod("order-7c9d8f6b5-d3e4f", ready=False, restarts=4, waiting="CrashLoopBackOff", last=42, node="kubelab-node-2"),
        pod("order-7c9d8f6b5-g5h6i", ready=False, age=8),
        pod("order-5f4b8c7d9-j7k8l", deleting=True, rev=2, age=900, node="kubelab-node-2"),
        pod("order-7c9d8f6b5-m9n0p", phase="Pending", ready=False, waiting="ContainerCreating", age=3),
    ]
    for p in pods:
        out.append(bus.ObjectChanged(kind="pods", type="ADDED", obj=p, ts=NOW))
    dep = {"metadata": {"name": "order", "uid": DEP_UID, "generation": 3,
                        "annotations": {"deployment.kubernetes.io/revision": "3"}},
           "spec": {"replicas": 3, "template": {"spec": {"containers": [
               {"name": "order", "image": IMAGES[3]}]}}},
           "status": {"observedGeneration": 3, "replicas": 4, "updatedReplicas": 3,
                      "readyReplicas": 1, "availableReplicas": 1}}
    out.append(bus.ObjectChanged(kind="deployments", obj=dep, ts=NOW))
    for rev, uid in RS.items():
        out.append(bus.ObjectChanged(kind="replicasets", ts=NOW, obj={
            "metadata": {"name": f"order-{rev}", "uid": uid,
                         "annotations": {"deployment.kubernetes.io/revision": str(rev)},
                         "ownerReferences": [{"kind": "Deployment", "name": "order", "uid": DEP_UID}]},
            "spec": {"template": {"spec": {"containers": [{"name": "order", "image": IMAGES[rev]}]}}},
            "status": {"replicas": 3 if rev == 3 else 1}}))
    for i, (reps, util) in enumerate([(1, None), (1, 40), (2, 180), (3, 620), (3, 1152), (3, 900)]):
        cur = [] if util is None else [{"type": "Resource", "resource": {
            "name": "cpu", "current": {"averageUtilization": util}}}]
        out.append(bus.ObjectChanged(kind="hpas", ts=NOW - 60 + i * 10, obj={
            "metadata": {"name": "order", "uid": "hpa-order", "creationTimestamp": iso(NOW - 120)},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "order"},
                     "minReplicas": 1, "maxReplicas": 3, "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]},
            "status": {"currentReplicas": reps, "desiredReplicas": reps, "currentMetrics": cur}}))
    msgs = [("Warning", "Unhealthy", "order-7c9d8f6b5-d3e4f", "Liveness probe failed: HTTP probe failed with statuscode: 503"),
            ("Normal", "Killing", "order-7c9d8f6b5-d3e4f", "Container order failed liveness probe, will be restarted"),
            ("Warning", "BackOff", "order-7c9d8f6b5-d3e4f", "Back-off restarting failed container order in pod order-7c9d8f6b5-d3e4f"),
            ("Warning", "Unhealthy", "order-7c9d8f6b5-g5h6i", "Readiness probe failed: Get \"http://10.0.0.7:8080/orders\": connection refused"),
            ("Normal", "Started", "order-7c9d8f6b5-a1b2c", "Started container order")]
    for i, (typ, reason, name, msg) in enumerate(msgs):
        out.append(bus.ObjectChanged(kind="events", ts=NOW, obj={
            "metadata": {"name": f"ev{i}", "uid": f"ev{i}", "resourceVersion": str(i)},
            "type": typ, "reason": reason, "message": msg, "count": 3 if i == 0 else 1,
            "involvedObject": {"kind": "Pod", "name": name},
            "lastTimestamp": iso(NOW - 50 + i * 5)}))
    for kind in ("pods", "deployments", "replicasets", "hpas", "events", "services"):
        out.append(bus.WatchState(kind=kind, state="live", ts=NOW))
    out.append(bus.Metrics(available=True, cpu={"order-7c9d8f6b5-a1b2c": 230}, ts=NOW))
    return out


def load_sample():
    return bus.LoadSample(run="r1", ts=NOW, data={
        "elapsed": 21.0, "requests": 4210, "transactions": 4180, "successful": 4180, "failed": 30,
        "availability": 99.29, "rps": 201.5,
        "latency": {"p50": 0.042, "p90": 0.09, "p95": 0.12, "p99": 0.31, "max": 0.9},
        "last_second": {"t": 20, "requests": 199},
        "status_codes": {"200": 4180, "503": 30}, "errors": {}})

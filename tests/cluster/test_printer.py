from console.cluster import printer

NOW = 1_700_000_000.0


def iso(t):
    from datetime import datetime, timezone
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(**status):
    return {
        "metadata": {"name": "order-1", "uid": "u1", "creationTimestamp": iso(NOW - 300)},
        "spec": {"nodeName": "node-1", "containers": [{"name": "order"}]},
        "status": status,
    }


def test_human_duration_like_kubectl():
    cases = {0: "0s", 59: "59s", 119: "119s", 120: "2m", 125: "2m5s", 600: "10m",
             3 * 3600: "3h", 3 * 3600 + 120: "3h2m", 9 * 3600: "9h", 50 * 3600: "2d2h",
             10 * 86400: "10d", -1: "0s", -5: "<invalid>"}
    for secs, want in cases.items():
        assert printer.human_duration(secs) == want, secs


def test_running_ready_pod():
    row = printer.pod_row(pod(phase="Running", containerStatuses=[
        {"name": "order", "ready": True, "restartCount": 0, "state": {"running": {}}}]), NOW)
    assert row.cells == ("order-1", "1/1", "Running", "0", "5m", "node-1")
    assert printer.status_class(row.status, row.ready) == "good"


def test_running_not_ready_is_a_warning():
    row = printer.pod_row(pod(phase="Running", containerStatuses=[
        {"name": "order", "ready": False, "state": {"running": {}}}]), NOW)
    assert (row.ready, row.status) == ("0/1", "Running")
    assert printer.status_class(row.status, row.ready) == "warn"


def test_crashloop_with_last_restart_age():
    row = printer.pod_row(pod(phase="Running", containerStatuses=[{
        "name": "order", "ready": False, "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 137, "reason": "Error", "finishedAt": iso(NOW - 42)}},
    }]), NOW)
    assert row.status == "CrashLoopBackOff"
    assert row.restarts == "4 (42s ago)"
    assert printer.status_class(row.status, row.ready) == "bad"


def test_pending_and_container_creating():
    assert printer.pod_row(pod(phase="Pending"), NOW).status == "Pending"
    row = printer.pod_row(pod(phase="Pending", containerStatuses=[
        {"name": "order", "state": {"waiting": {"reason": "ContainerCreating"}}}]), NOW)
    assert row.status == "ContainerCreating" and row.ready == "0/1"


def test_terminating_wins_over_running():
    p = pod(phase="Running", containerStatuses=[
        {"name": "order", "ready": True, "state": {"running": {}}}])
    p["metadata"]["deletionTimestamp"] = iso(NOW)
    assert printer.pod_row(p, NOW).status == "Terminating"


def test_init_containers_and_exit_codes():
    p = pod(phase="Pending", initContainerStatuses=[
        {"name": "init", "state": {"waiting": {"reason": "PodInitializing"}}}])
    p["spec"]["initContainers"] = [{"name": "init"}]
    assert printer.pod_row(p, NOW).status == "Init:0/1"
    done = pod(phase="Failed", containerStatuses=[
        {"name": "order", "state": {"terminated": {"exitCode": 3}}}])
    assert printer.pod_row(done, NOW).status == "ExitCode:3"


def test_sidecar_init_container_counts_in_ready():
    p = pod(phase="Running", conditions=[{"type": "Initialized", "status": "True"}],
            initContainerStatuses=[{"name": "istio-proxy", "started": True, "ready": True,
                                    "state": {"running": {}}}],
            containerStatuses=[{"name": "order", "ready": True, "state": {"running": {}}}])
    p["spec"]["initContainers"] = [{"name": "istio-proxy", "restartPolicy": "Always"}]
    row = printer.pod_row(p, NOW)
    assert (row.ready, row.status) == ("2/2", "Running")


def test_hpa_targets_unknown_then_measured():
    hpa = {"metadata": {"name": "order", "creationTimestamp": iso(NOW - 60)},
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "order"},
                    "minReplicas": 1, "maxReplicas": 3,
                    "metrics": [{"type": "Resource", "resource": {
                        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]},
           "status": {"currentReplicas": 2, "desiredReplicas": 2}}
    row = printer.hpa_row(hpa, NOW)
    assert row.targets == "cpu: <unknown>/50%" and not row.at_max
    hpa["status"] = {"currentReplicas": 3, "desiredReplicas": 3, "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 1152}}}]}
    row = printer.hpa_row(hpa, NOW)
    assert row.targets == "cpu: 1152%/50%" and row.at_max
    assert (row.utilization, row.target, row.reference) == (1152, 50, "Deployment/order")


def test_console_and_server_print_hpas_alike():
    """The console's HPA rows and the server's Table cells are kubectl's formatHPAMetrics,
    once: index-aligned statuses, <unknown> before a figure, every metric type."""
    from datetime import datetime, timezone

    from console.embedded.api.columns import hpa_cells

    def hpa(metrics, current=None, api="autoscaling/v2", **spec):
        st = {"currentReplicas": 2}
        if current is not None:
            st["currentMetrics"] = current
        return {"apiVersion": api, "metadata": {"name": "order", "creationTimestamp": iso(NOW - 90)},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "order"},
                         "minReplicas": 1, "maxReplicas": 3, "metrics": metrics, **spec},
                "status": st}
    cpu = {"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 50}}}
    mem = {"type": "Resource", "resource": {"name": "memory", "target": {
        "type": "AverageValue", "averageValue": "100Mi"}}}
    pods = {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {
        "type": "AverageValue", "averageValue": "10"}}}
    ext = {"type": "External", "external": {"metric": {"name": "queue"}, "target": {
        "type": "AverageValue", "averageValue": "30"}}}
    measured = {"type": "Resource", "resource": {"name": "cpu", "current": {
        "averageUtilization": 1152, "averageValue": "2304m"}}}
    cases = {
        "cpu: <unknown>/50%": hpa([cpu]),
        "cpu: 1152%/50%": hpa([cpu], [measured]),
        # a failed metric's status is empty (type ""): the others still print
        "cpu: <unknown>/50%, memory: 60Mi/100Mi": hpa([cpu, mem], [
            {"type": ""}, {"type": "Resource", "resource": {"name": "memory", "current": {
                "averageValue": "60Mi"}}}]),
        "<unknown>/10, <unknown>/30 (avg)": hpa([pods, ext]),
        "cpu: <unknown>/50%, memory: <unknown>/100Mi + 2 more...": hpa([cpu, mem, pods, ext]),
        "<none>": hpa([]),
        "cpu: 12%/50%": {"apiVersion": "autoscaling/v1",
                         "metadata": {"name": "order", "creationTimestamp": iso(NOW - 90)},
                         "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "order"},
                                  "minReplicas": 1, "maxReplicas": 3,
                                  "targetCPUUtilizationPercentage": 50},
                         "status": {"currentReplicas": 2, "currentCPUUtilizationPercentage": 12}},
    }
    now_dt = datetime.fromtimestamp(NOW, timezone.utc)
    for want, obj in cases.items():
        mine = printer.hpa_row(obj, NOW)
        assert list(mine.cells) == hpa_cells(obj, now_dt), want
        assert mine.targets == want
    assert (printer.hpa_row(cases["cpu: 1152%/50%"], NOW).utilization,
            printer.hpa_row(cases["cpu: 12%/50%"], NOW).target) == (1152, 50)


def test_console_and_server_print_pods_alike():
    """The console's rows and the embedded server's Table cells share kubectl's rules."""
    from datetime import datetime, timezone

    from console.embedded.api.podstatus import pod_row as server_row

    sidecar = pod(phase="Running", conditions=[{"type": "Initialized", "status": "True"}],
                  initContainerStatuses=[{"name": "proxy", "started": True, "ready": True,
                                          "restartCount": 1, "state": {"running": {}},
                                          "lastState": {"terminated": {"finishedAt": iso(NOW - 90)}}}],
                  containerStatuses=[{"name": "order", "ready": False, "restartCount": 2,
                                      "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                                      "lastState": {"terminated": {"finishedAt": iso(NOW - 30)}}}])
    sidecar["spec"]["initContainers"] = [{"name": "proxy", "restartPolicy": "Always"}]
    signalled = pod(phase="Pending", initContainerStatuses=[
        {"name": "init", "state": {"terminated": {"exitCode": 137, "signal": 9}}}])
    signalled["spec"]["initContainers"] = [{"name": "init"}]
    done = pod(phase="Succeeded", containerStatuses=[
        {"name": "order", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}])
    done["metadata"]["deletionTimestamp"] = iso(NOW)
    now_dt = datetime.fromtimestamp(NOW, timezone.utc)
    seen = []
    for p in (sidecar, signalled, done):
        mine = printer.pod_row(p, NOW)
        theirs = server_row(p, now_dt)
        assert list(mine.cells[:5]) == theirs[:5]
        seen.append(theirs[1:4])
    assert seen == [["1/2", "CrashLoopBackOff", "3 (30s ago)"],
                    ["0/1", "Init:Signal:9", "0"], ["0/1", "Completed", "0"]]

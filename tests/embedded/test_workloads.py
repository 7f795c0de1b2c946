"""DaemonSets, Jobs and CronJobs as a real cluster serves, runs and prints them
(kubectl where present, the official client)."""

import json
import re
import uuid

import pytest
from kubernetes import client

from kubehelp import KUBECTL, run_kubectl
from waits import wait_for


@pytest.fixture
def ns(cluster, api):
    name = f"wl-{uuid.uuid4().hex[:6]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    yield name
    client.CoreV1Api(api).delete_namespace(name)


def rows(c, *args):
    p = run_kubectl(c, "get", *args, "--no-headers")
    return [r.split() for r in p.stdout.splitlines()]


def test_kube_proxy_runs_as_a_daemonset_one_pod_per_node(cluster, kubectl):
    ds = wait_for(lambda: (lambda r: r if r and r[0][1:6] == ["2"] * 5 else None)(
        rows(cluster, "ds", "-n", "kube-system")), what="kube-proxy 2/2")
    assert ds[0][0] == "kube-proxy" and ds[0][6] == "kubernetes.io/os=linux"
    pods = rows(cluster, "po", "-n", "kube-system", "-l", "k8s-app=kube-proxy", "-o", "wide")
    assert sorted(p[6] for p in pods) == ["kubelab-node-1", "kubelab-node-2"]
    nodes = {n["metadata"]["name"]: n["status"]["addresses"][0]["address"] for n in json.loads(
        kubectl("get", "nodes", "-o", "json").stdout)["items"]}
    assert all(p[5] == nodes[p[6]] for p in pods)      # hostNetwork: the node's address
    pod = json.loads(kubectl("get", "po", "-n", "kube-system", pods[0][0], "-o", "json").stdout)
    terms = pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In",
                                       "values": [pods[0][6]]}]}]
    assert {"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
            "effect": "NoSchedule"} in pod["spec"]["tolerations"]
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet"


def test_a_daemonset_follows_its_node_selector_and_rolls_out(cluster, kubectl, ns):
    body = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"nodeSelector": {"kubernetes.io/hostname": "kubelab-node-2"},
                         "containers": [{"name": "agent", "image": "nginx:1.25"}]}}}}
    assert kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(body)).returncode == 0
    wait_for(lambda: rows(cluster, "ds", "agent", "-n", ns)[0][1:6] == ["1"] * 5, what="1 pod")
    (pod,) = rows(cluster, "po", "-n", ns, "-o", "wide")
    assert pod[6] == "kubelab-node-2"
    # everywhere now: one more pod, on node-1
    kubectl("patch", "ds", "agent", "-n", ns, "--type=json", "-p",
            '[{"op": "remove", "path": "/spec/template/spec/nodeSelector"}]')
    wait_for(lambda: rows(cluster, "ds", "agent", "-n", ns)[0][1:6] == ["2"] * 5, what="2 pods")
    kubectl("set", "image", "ds/agent", "-n", ns, "agent=nginx:1.27")
    p = kubectl("rollout", "status", "ds/agent", "-n", ns, "--timeout=120s")
    assert p.returncode == 0 and 'daemon set "agent" successfully rolled out' in p.stdout
    images = {c["image"] for p in json.loads(kubectl("get", "po", "-n", ns, "-o", "json").stdout)[
        "items"] if not p["metadata"].get("deletionTimestamp") for c in p["spec"]["containers"]}
    assert images == {"nginx:1.27"}
    # each template is a ControllerRevision: history and undo as kubectl does them
    hist = kubectl("rollout", "history", "ds/agent", "-n", ns).stdout.split()
    assert hist[:3] == ["daemonset.apps/agent", "REVISION", "CHANGE-CAUSE"] and hist[-2] == "3"
    assert kubectl("rollout", "undo", "ds/agent", "-n", ns).returncode == 0
    kubectl("rollout", "status", "ds/agent", "-n", ns, "--timeout=120s")
    ds = json.loads(kubectl("get", "ds", "agent", "-n", ns, "-o", "json").stdout)
    assert ds["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"


def test_a_job_runs_its_pods_to_completed(cluster, kubectl, ns, api):
    p = kubectl("create", "job", "hello", "-n", ns, "--image=busybox", "--", "sh", "-c",
                "echo hello from the job")
    assert p.stdout.strip() == "job.batch/hello created"
    wait_for(lambda: rows(cluster, "jobs", "-n", ns)[0][1] == "Complete", what="Complete")
    (job,) = rows(cluster, "jobs", "-n", ns)
    assert job[:3] == ["hello", "Complete", "1/1"] and re.fullmatch(r"\d+s", job[3])
    (pod,) = rows(cluster, "po", "-n", ns)
    assert pod[0].startswith("hello-") and pod[1:3] == ["0/1", "Completed"]
    assert kubectl("logs", "job/hello", "-n", ns).stdout == "hello from the job\n"
    j = client.BatchV1Api(api).read_namespaced_job("hello", ns)
    assert j.status.succeeded == 1 and j.status.completion_time is not None
    assert [c.type for c in j.status.conditions] == ["SuccessCriteriaMet", "Complete"]
    assert j.status.conditions[1].reason == "CompletionsReached"
    assert j.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": j.metadata.uid}
    events = kubectl("get", "events", "-n", ns, "--field-selector",
                     "involvedObject.kind=Job", "-o", "json").stdout
    reasons = {e["reason"]: e["message"] for e in json.loads(events)["items"]}
    assert reasons["SuccessfulCreate"] == f"Created pod: {pod[0]}"
    assert reasons["Completed"] == "Job completed"
    # deleting the Job takes its pods (their tracking finalizer is gone)
    assert kubectl("delete", "job", "hello", "-n", ns).returncode == 0
    wait_for(lambda: not rows(cluster, "po", "-n", ns), what="the pods to go")


def test_parallel_completions_and_a_job_that_fails(cluster, kubectl, ns):
    batch = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "batch"},
             "spec": {"completions": 3, "parallelism": 2, "template": {"spec": {
                 "restartPolicy": "Never",
                 "containers": [{"name": "w", "image": "busybox", "command": ["sleep", "2"]}]}}}}
    failing = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "broken"},
               "spec": {"backoffLimit": 1, "template": {"spec": {
                   "restartPolicy": "Never",
                   "containers": [{"name": "w", "image": "busybox",
                                   "command": ["sh", "-c", "exit 3"]}]}}}}
    for obj in (batch, failing):
        assert kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(obj)).returncode == 0
    wait_for(lambda: ["batch", "Complete", "3/3"] in [r[:3] for r in rows(cluster, "jobs", "-n", ns)],
             timeout=180, what="3/3")
    wait_for(lambda: ["broken", "Failed", "0/1"] in [r[:3] for r in rows(cluster, "jobs", "-n", ns)],
             timeout=180, what="the failing Job to fail")
    j = json.loads(kubectl("get", "job", "broken", "-n", ns, "-o", "json").stdout)
    failed = [c for c in j["status"]["conditions"] if c["type"] == "Failed"][0]
    assert (failed["reason"], failed["message"]) == ("BackoffLimitExceeded",
                                                     "Job has reached the specified backoff limit")
    assert j["status"]["failed"] == 2
    assert len([r for r in rows(cluster, "po", "-n", ns) if r[0].startswith("broken-")
                and r[2] == "Error"]) == 2


@pytest.mark.kubectl
def test_a_cronjob_schedules_jobs_on_the_simulated_clock(start_cluster):
    # minutes of simulated time: a cluster of its own, fast, not the shared busy one
    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine")
    cluster, ns = start_cluster(speed=60, nodes=1), "default"

    def kubectl(*args, **kw):
        return run_kubectl(cluster, *args, **kw)
    p = kubectl("create", "cronjob", "tick", "-n", ns, "--image=busybox",
                "--schedule=*/1 * * * *", "--", "echo", "tick")
    assert p.stdout.strip() == "cronjob.batch/tick created"
    (cj,) = rows(cluster, "cj", "-n", ns)
    # NAME, SCHEDULE (5 words), TIMEZONE, SUSPEND, ACTIVE (0, or 1 if the first minute came)
    assert cj[:6] == ["tick", "*/1", "*", "*", "*", "*"] and cj[6:8] == ["<none>", "False"]
    assert cj[8] in ("0", "1")
    # every simulated minute: several Jobs, at most 3 finished ones kept
    jobs = wait_for(lambda: (lambda r: r if len([j for j in r if j[1] == "Complete"]) >= 3
                             else None)(rows(cluster, "jobs", "-n", ns)), timeout=120,
                    what="3 completed Jobs")
    assert all(re.fullmatch(r"tick-\d{8}", j[0]) for j in jobs)
    wait_for(lambda: len(rows(cluster, "jobs", "-n", ns)) >= 4 and
             len([j for j in rows(cluster, "jobs", "-n", ns) if j[1] == "Complete"]) == 3,
             timeout=120, what="history kept to 3")
    cj = json.loads(kubectl("get", "cj", "tick", "-n", ns, "-o", "json").stdout)
    assert cj["status"]["lastScheduleTime"] and cj["status"]["lastSuccessfulTime"]
    events = json.loads(kubectl("get", "events", "-n", ns, "--field-selector",
                                "involvedObject.kind=CronJob", "-o", "json").stdout)["items"]
    reasons = {e["reason"] for e in events}
    assert {"SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"} <= reasons
    kubectl("patch", "cj", "tick", "-n", ns, "-p", '{"spec": {"suspend": true}}')
    assert rows(cluster, "cj", "-n", ns)[0][7] == "True"


def test_workload_bad_input_is_refused_in_the_servers_words(cluster, kubectl, ns):
    p = kubectl("create", "cronjob", "bad", "-n", ns, "--image=busybox", "--schedule=* * *")
    assert p.returncode == 1
    assert 'spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]' \
        in p.stderr
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "always"},
           "spec": {"template": {"spec": {"containers": [{"name": "w", "image": "busybox"}]}}}}
    p = kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(job))
    assert p.returncode == 1 and ('spec.template.spec.restartPolicy: Unsupported value: '
                                  '"Always": supported values: "OnFailure", "Never"') in p.stderr
    p = kubectl("explain", "daemonset.spec.updateStrategy")
    assert p.returncode == 0 and "DaemonSetUpdateStrategy" in p.stdout

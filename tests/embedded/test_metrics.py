"""metrics.k8s.io as a cluster with metrics-server serves it: kubectl top pods/nodes,
the official client, the APIService's availability, and a cluster without it."""

import uuid

from kubernetes import client

from apihelp import call
from kubehelp import api_client, run_kubectl
from waits import wait_for


def _top(c, *args):
    p = run_kubectl(c, "top", *args)
    return p if p.returncode == 0 and len(p.stdout.splitlines()) > 1 else None


def test_kubectl_top_pods_and_nodes(cluster, api):
    ns = f"top-{uuid.uuid4().hex[:6]}"
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_pod(ns, {"metadata": {"name": "web", "labels": {"app": "web"}},
                                    "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}})
    p = wait_for(lambda: _top(cluster, "pods", "-n", ns), what="kubectl top pods")
    header, row = p.stdout.splitlines()[:2]
    assert header.split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    name, cpu, mem = row.split()
    assert name == "web" and cpu.endswith("m") and mem == "8Mi"     # nginx's footprint
    p = run_kubectl(cluster, "top", "pods", "-n", ns, "--containers")
    assert p.stdout.split()[:4] == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert p.stdout.splitlines()[1].split()[:2] == ["web", "nginx"]
    p = run_kubectl(cluster, "top", "pods", "-n", ns, "-l", "app=other")
    assert p.returncode == 0 and "No resources found in" in p.stderr

    p = wait_for(lambda: _top(cluster, "nodes"), what="kubectl top nodes")
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    assert sorted(line.split()[0] for line in lines[1:]) == ["kubelab-node-1", "kubelab-node-2"]
    for line in lines[1:]:
        _, cpu, pct, mem, mpct = line.split()
        assert cpu.endswith("m") and pct.endswith("%") and mem.endswith("Mi")

    # the official client reads the same objects
    body = client.CustomObjectsApi(api).list_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", ns, "pods")
    (item,) = body["items"]
    assert body["kind"] == "PodMetricsList" and item["metadata"]["labels"] == {"app": "web"}
    assert item["window"].endswith("s") and item["containers"][0]["name"] == "nginx"
    assert item["containers"][0]["usage"]["memory"] == "8Mi"

    # the console's poller reads the same figures
    from console.cluster import metrics
    m = metrics.fetch(api, ns)
    assert m.available and set(m.cpu) == {"web"} and m.memory["web"] == 8 * 2**20
    # what metrics-server answers for a pod it has no metrics for, and for a watch
    code, _, st = call(cluster, "GET", f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/nope")
    assert code == 404 and st["message"] == f'podmetrics.metrics.k8s.io "{ns}/nope" not found'
    p = run_kubectl(cluster, "top", "pod", "nope", "-n", ns)
    assert p.returncode == 1 and f'podmetrics.metrics.k8s.io "{ns}/nope" not found' in p.stderr
    code, _, _ = call(cluster, "GET", "/apis/metrics.k8s.io/v1beta1/pods?watch=true")
    assert code == 405
    p = run_kubectl(cluster, "get", "apiservice", "v1beta1.metrics.k8s.io")
    assert p.stdout.split()[4:7] == ["v1beta1.metrics.k8s.io", "kube-system/metrics-server", "True"]
    core.delete_namespace(ns)


def _deployment_replicas(c, replicas: int) -> None:
    p = run_kubectl(c, "-n", "kube-system", "scale", "deploy", "metrics-server",
                    f"--replicas={replicas}")
    assert p.returncode == 0, p.stderr


def test_metrics_follow_the_metrics_server_deployment(start_cluster):
    c = start_cluster()
    wait_for(lambda: _top(c, "pods", "-n", "kube-system"), what="metrics")
    _deployment_replicas(c, 0)

    def unavailable():
        p = run_kubectl(c, "get", "apiservice", "v1beta1.metrics.k8s.io", "--no-headers")
        return "False (MissingEndpoints)" in p.stdout
    wait_for(unavailable, what="the APIService to go unavailable")
    p = run_kubectl(c, "top", "pods", "-A")
    assert p.returncode == 1 and p.stderr.strip() == "error: Metrics API not available"
    code, headers, body = call(c, "GET", "/apis/metrics.k8s.io/v1beta1/pods")
    assert code == 503 and body == b"service unavailable\n"
    # an HPA now gets what the real client gets from a down APIService
    assert run_kubectl(c, "create", "deployment", "web", "--image=nginx").returncode == 0
    run_kubectl(c, "set", "resources", "deployment", "web", "--requests=cpu=100m")
    assert run_kubectl(c, "autoscale", "deployment", "web", "--max=3").returncode == 0
    wait_for(lambda: "unable to fetch metrics from resource metrics API: the server is currently "
             "unable to handle the request (get pods.metrics.k8s.io)" in run_kubectl(
                 c, "describe", "hpa", "web").stdout, what="the HPA's ScalingActive message")
    p = run_kubectl(c, "get", "--raw", "/apis/metrics.k8s.io/v1beta1/pods")
    assert "Error from server (ServiceUnavailable): the server is currently unable to handle " \
        "the request" in p.stderr
    p = run_kubectl(c, "get", "apiservice", "v1beta1.metrics.k8s.io", "-o",
                    "jsonpath={.status.conditions[0].message}")
    assert p.stdout == ('endpointslices for service/metrics-server in "kube-system" have no '
                        'addresses with port name "https"')
    # back: a new process scrapes afresh, so metrics return after two scrapes
    _deployment_replicas(c, 1)
    wait_for(lambda: _top(c, "pods", "-n", "kube-system"), what="metrics again")
    # an APIService deleted: the group is gone from discovery
    assert run_kubectl(c, "delete", "apiservice", "v1beta1.metrics.k8s.io").returncode == 0
    wait_for(lambda: "Metrics API not available" in run_kubectl(c, "top", "nodes").stderr,
             what="kubectl top to say the API is gone")


def test_a_cluster_without_metrics_server(start_cluster):
    c = start_cluster(metrics=False)
    p = run_kubectl(c, "top", "pods")
    assert p.returncode == 1 and p.stderr.strip() == "error: Metrics API not available"
    p = run_kubectl(c, "top", "nodes")
    assert p.returncode == 1 and p.stderr.strip() == "error: Metrics API not available"
    pods = run_kubectl(c, "get", "pods", "-n", "kube-system", "-o", "name").stdout
    assert "metrics-server" not in pods and "coredns" in pods
    assert "metrics.k8s.io" not in run_kubectl(c, "get", "apiservices").stdout
    code, _, st = call(c, "GET", "/apis/metrics.k8s.io/v1beta1/pods")
    assert code == 404 and st["message"] == "the server could not find the requested resource"
    # an HPA says what the real controller says without the API
    assert run_kubectl(c, "create", "deployment", "web", "--image=nginx").returncode == 0
    run_kubectl(c, "set", "resources", "deployment", "web", "--requests=cpu=100m")
    assert run_kubectl(c, "autoscale", "deployment", "web", "--max=3").returncode == 0
    why = ("failed to get cpu utilization: unable to get metrics for resource cpu: unable to "
           "fetch metrics from resource metrics API: the server could not find the requested "
           "resource (get pods.metrics.k8s.io)")

    def reported():
        p = run_kubectl(c, "get", "events", "--field-selector", "reason=FailedGetResourceMetric",
                        "-o", "jsonpath={.items[*].message}")
        return why in p.stdout
    wait_for(reported, what="FailedGetResourceMetric")
    # the console's poller says what kubectl says
    from console.cluster import metrics
    a = api_client(c)
    try:
        m = metrics.fetch(a, "default")
        assert not m.available and m.hint == "error: Metrics API not available"
    finally:
        a.close()

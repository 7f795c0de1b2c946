"""The mesh as a lab types it: kubectl label ns istio-injection=enabled gives new
pods the sidecar (2/2, kubectl describe shows istio-proxy), the lab's
DestinationRule (v1alpha3, kubectl apply) overflows and `kubectl delete dr --all`
ends it, and bad rules are refused with the words a cluster with Istio uses.
Against `kubelab cluster` over real HTTPS, kubectl and the official client."""

import asyncio

import pytest

from kubelet_helpers import lab_cluster
from meshkit import OVERFLOW_BODY, load
from waits import wait_for

LAB_DR = """
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata:
  name: order
spec:
  host: order
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 1
      http:
        http1MaxPendingRequests: 1
        maxRequestsPerConnection: 1
    outlierDetection:
      consecutiveErrors: 5
      interval: {interval}
      baseEjectionTime: 30s
      maxEjectionPercent: {percent}
"""


@pytest.fixture(scope="module")
def lab():
    with lab_cluster(speed=25) as lab:
        yield lab


def ready_column(lab, ns, selector):
    out = lab.kubectl("get", "po", "-n", ns, "-l", selector, "--no-headers").stdout
    return [line.split()[1] for line in out.splitlines() if "Running" in line]


def order(lab, ns):
    lab.kubectl("create", "ns", ns)
    lab.kubectl("label", "ns", ns, "istio-injection=enabled")
    lab.kubectl("create", "deployment", "order", "-n", ns, "--image=jinyoung/order:stable",
                "--port=8080")
    lab.kubectl("expose", "deploy", "order", "-n", ns, "--port=8080")


def test_injection_follows_the_namespace_label(lab):
    order(lab, "mesh-a")
    wait_for(lambda: ready_column(lab, "mesh-a", "app=order") == ["2/2"], what="2/2")
    pod = lab.pods("mesh-a", "app=order")[0].metadata.name
    out = lab.kubectl("describe", "po", pod, "-n", "mesh-a").stdout
    assert "Init Containers:\n  istio-init:" in out
    proxy = out[out.index("  istio-proxy:"):]
    assert "Image:         docker.io/istio/proxyv2:1.26.3" in proxy
    assert "Port:          15090/TCP" in proxy
    assert "Readiness:  http-get http://:15021/healthz/ready delay=0s timeout=3s period=15s" in proxy
    assert "QoS Class:       Burstable" in out
    # only new pods change: the label off, a restart, and the new pod has no sidecar
    lab.kubectl("label", "ns", "mesh-a", "istio-injection=disabled", "--overwrite")
    assert ready_column(lab, "mesh-a", "app=order") == ["2/2"]
    lab.kubectl("rollout", "restart", "deploy/order", "-n", "mesh-a")
    wait_for(lambda: ready_column(lab, "mesh-a", "app=order") == ["1/1"], timeout=180,
             what="the restarted pod without a sidecar")
    # a pod may ask for one in a namespace without the label, or refuse it in one with it
    lab.kubectl("create", "ns", "mesh-b")
    lab.kubectl("run", "asks", "-n", "mesh-b", "--image=nginx", "--labels=run=asks,sidecar.istio.io/inject=true")
    lab.kubectl("run", "plain", "-n", "mesh-b", "--image=nginx")
    lab.kubectl("label", "ns", "mesh-b", "istio-injection=enabled")
    lab.kubectl("run", "refuses", "-n", "mesh-b", "--image=nginx",
                "--labels=run=refuses,sidecar.istio.io/inject=false")
    def columns():
        return [ready_column(lab, "mesh-b", f"run={n}") for n in ("asks", "plain", "refuses")]
    wait_for(lambda: columns() == [["2/2"], ["1/1"], ["1/1"]], what=f"asks 2/2, plain and "
             "refuses 1/1")


def test_lab_destination_rule_overflows_and_delete_dr_all_ends_it(lab):
    order(lab, "mesh-l4")
    lab.kubectl("scale", "deploy/order", "-n", "mesh-l4", "--replicas=2")
    wait_for(lambda: ready_column(lab, "mesh-l4", "app=order") == ["2/2", "2/2"], timeout=180,
             what="two 2/2 pods")
    addr = wait_for(lambda: lab.service_address("order", 8080, "mesh-l4"), what="host port")

    def all_ok():
        codes, _ = asyncio.run(load(addr, users=4, requests=5, path="/orders"))
        return codes == {200: 20}
    wait_for(all_ok, timeout=120, what="the apps booted")
    p = lab.kubectl("apply", "-n", "mesh-l4", "-f", "-",
                    input=LAB_DR.format(interval="10s", percent=100))
    assert p.stdout.strip() == "destinationrule.networking.istio.io/order created"
    assert p.stderr.strip() == ("Warning: outlier detection consecutive errors is deprecated, use "
                                "consecutiveGatewayErrors or consecutive5xxErrors instead")
    assert "order   order" in lab.kubectl("get", "dr", "-n", "mesh-l4").stdout
    codes, samples = asyncio.run(load(addr, users=20, requests=10, path="/orders"))
    assert codes.get(503, 0) > 0 and codes.get(200, 0) > 0, codes
    hdrs, body = samples[503]
    assert body == OVERFLOW_BODY and ("x-envoy-overloaded", "true") in hdrs
    out = lab.kubectl("delete", "dr", "--all", "-n", "mesh-l4").stdout
    assert out.strip() == 'destinationrule.networking.istio.io "order" deleted'
    codes, _ = asyncio.run(load(addr, users=20, requests=10, path="/orders"))
    assert codes == {200: 200}, codes


def test_bad_rules_are_refused_as_istio_refuses_them(lab):
    lab.kubectl("create", "ns", "mesh-bad")
    p = lab.kubectl("apply", "-n", "mesh-bad", "-f", "-", check=False,
                    input=LAB_DR.format(interval="10x", percent=100))
    assert p.returncode == 1
    assert ('The DestinationRule "order" is invalid: spec.trafficPolicy.outlierDetection.interval: '
            'Invalid value: "string": must be a valid duration greater than 1ms') in p.stderr
    p = lab.kubectl("apply", "-n", "mesh-bad", "-f", "-", check=False,
                    input=LAB_DR.format(interval="10s", percent=150))
    assert p.returncode == 1
    assert ('Error from server: error when creating "STDIN": admission webhook '
            '"validation.istio.io" denied the request: configuration is invalid: percentage 150 '
            'is not in range 0..100') in p.stderr
    vs = ("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n"
          "  hosts: [reservation]\n  http:\n  - fault: {abort: {httpStatus: 700, percentage: "
          "{value: 10}}, delay: {fixedDelay: 1s, percentage: {value: 120}}}\n"
          "    route: [{destination: {host: reservation}}]\n")
    p = lab.kubectl("apply", "-n", "mesh-bad", "-f", "-", check=False, input=vs)
    assert "configuration is invalid: 2 errors occurred:\n\t* HTTP status 700 is not in range " \
           "200-599\n\t* percentage 120 is neither 0.0, nor in range [0.0001, 100.0]" in p.stderr
    p = lab.kubectl("apply", "-n", "mesh-bad", "-f", "-", check=False,
                    input=LAB_DR.format(interval="10s", percent=100).replace("maxConnections",
                                                                              "maxConection"))
    assert 'strict decoding error: unknown field "spec.trafficPolicy.connectionPool.tcp.' \
           'maxConection"' in p.stderr
    assert lab.kubectl("get", "dr", "-n", "mesh-bad", check=False).stdout == ""
    # a rule for a host that is no Service is accepted, and does nothing
    from kubernetes import client
    crd = client.CustomObjectsApi(lab.api_client)
    crd.create_namespaced_custom_object("networking.istio.io", "v1", "mesh-bad", "destinationrules", {
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": "ghost"}, "spec": {"host": "nosuch", "trafficPolicy": {
            "connectionPool": {"tcp": {"maxConnections": 1}}}}})
    got = crd.get_namespaced_custom_object("networking.istio.io", "v1", "mesh-bad",
                                          "destinationrules", "ghost")
    assert got["spec"]["host"] == "nosuch"

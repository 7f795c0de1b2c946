"""route.plan on what real clusters look like (no loopback annotation), without a
cluster: which path auto takes, in which order, and the one line when none works."""

import pytest

from console.cluster import route
from console.errors import UsageError
from console.loadgen.options import parse_line


class Conn:
    namespace = "default"


class Access:
    def __init__(self, refused=()):
        self.refused = set(refused)

    def refusal(self, verb, resource, group="", namespace=""):
        return f"cannot {verb} {resource} in namespace default" if resource in self.refused else ""


def svc(name, type_="ClusterIP", ingress=None, node_port=None, annotations=None):
    port = {"port": 8080, "targetPort": 8080}
    if node_port:
        port["nodePort"] = node_port
    out = {"metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
           "spec": {"type": type_, "ports": [port]}}
    if ingress:
        out["status"] = {"loadBalancer": {"ingress": [ingress]}}
    return out


SIEGE = {"metadata": {"name": "siege"}, "status": {"phase": "Running"},
         "spec": {"containers": [{"image": "apexacme/siege-nginx"}]}}
NODES = [{"status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.5"},
                                   {"type": "ExternalIP", "address": "34.1.2.3"}]}}]


def plan(services, pods=(), access=None, want="auto", nodes=None, answers=()):
    spec = parse_line("-c2 -t5S http://order:8080/orders")
    return route.plan(Conn(), spec, services, list(pods), access or Access(), want, nodes,
                      probe=lambda host, port: (host, port) in answers)


def test_a_clusterip_service_on_a_real_cluster_is_port_forwarded():
    r = plan([svc("order")], nodes=NODES)
    assert r.kind == "port-forward"
    assert r.reason.startswith("order (ClusterIP) is not reachable from this machine: forwarding "
                               "through the API server")
    assert r.targets == [("default", "order", 8080, "order")]


def test_a_load_balancer_that_answers_is_used_and_one_that_does_not_is_not():
    lb = svc("order", "LoadBalancer", {"hostname": "a1.elb.amazonaws.com"}, node_port=30080)
    r = plan([lb], nodes=NODES, answers={("a1.elb.amazonaws.com", 8080)})
    assert r.kind == "load-balancer" and r.table == {"order:8080": ("a1.elb.amazonaws.com", 8080)}
    r = plan([lb], nodes=NODES, answers={("34.1.2.3", 30080)})
    assert r.kind == "node-port" and r.table == {"order:8080": ("34.1.2.3", 30080)}
    assert "node 34.1.2.3:30080 answers from here" in r.reason
    assert plan([lb], nodes=NODES).kind == "port-forward"


def test_without_port_forward_rights_the_siege_pod_and_why():
    r = plan([svc("order")], [SIEGE], Access({"pods/portforward"}))
    assert r.kind == "siege-pod" and r.pod == "siege"
    assert "port-forward: cannot create pods/portforward in namespace default" in r.reason
    with pytest.raises(UsageError) as e:
        plan([svc("order")], [SIEGE], Access({"pods/portforward", "pods/exec"}))
    assert str(e.value) == (
        "cannot reach order from here: order: no loopback address published (not the embedded "
        "cluster); order: no LoadBalancer or NodePort address that answers from here; "
        "port-forward: cannot create pods/portforward in namespace default; siege pod: cannot "
        "create pods/exec in namespace default")


def test_forcing_a_path():
    published = svc("order", annotations={"kubelab.dev/host-ports": '{"8080": "127.0.0.1:4000"}'})
    assert plan([published]).kind == "loopback"
    assert plan([published], want="port-forward").kind == "port-forward"
    assert plan([published], [SIEGE], want="siege-pod").kind == "siege-pod"
    with pytest.raises(UsageError) as e:
        plan([svc("order")], want="loopback")
    assert "(asked for: loopback)" in str(e.value)
    with pytest.raises(UsageError) as e:
        plan([svc("order")], want="sideways")
    assert "one of auto, loopback, port-forward, siege-pod, direct" in str(e.value)


def test_urls_without_in_cluster_names_go_as_written():
    spec = parse_line("-c1 -t1S http://127.0.0.1:9/")
    assert route.plan(Conn(), spec, [], [], Access()).kind == "url"

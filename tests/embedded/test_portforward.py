"""pods/portforward: the real `kubectl port-forward` (SPDY tunneled over WebSocket,
kubectl 1.31+) and the Python client's channel protocol reach a pod's app; a port
nobody listens on is the kubelet's error and kubectl's "lost connection to pod";
the refusal for a user without pods/portforward is RBAC's."""

import re
import subprocess
import urllib.error
import urllib.request

import pytest
from kubehelp import KUBECTL, run_kubectl
from waits import wait_for

pytestmark = pytest.mark.kubectl


@pytest.fixture(scope="module")
def web(cluster):
    run_kubectl(cluster, "create", "deployment", "pf-web", "--image=nginx:1.25", check=True)
    run_kubectl(cluster, "expose", "deployment", "pf-web", "--port=8080", "--target-port=80",
                check=True)
    wait_for(lambda: "1/1" in run_kubectl(cluster, "get", "po", "-l", "app=pf-web").stdout,
             what="pf-web ready")
    yield "pf-web"
    run_kubectl(cluster, "delete", "deployment,service", "pf-web", "--wait=false")


def forward(c, *args):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed on this machine")
    p = subprocess.Popen([KUBECTL, "port-forward", *args], env=c.env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.search(r"Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)", line)
    if m is None:
        p.kill()
        raise AssertionError(f"kubectl port-forward said {line!r}: {p.stderr.read()}")
    return p, int(m.group(1))


def test_kubectl_port_forward_to_a_service_reaches_its_pod(cluster, web):
    p, port = forward(cluster, f"svc/{web}", ":8080")
    try:
        for _ in range(3):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()
            except OSError as exc:
                p.terminate()
                raise AssertionError(f"{exc}: kubectl said {p.communicate(timeout=30)}") from None
            assert b"Welcome to nginx!" in body
    finally:
        p.terminate()
        out, err = p.communicate(timeout=30)
    assert out.count(f"Handling connection for {port}") == 3
    assert "error" not in err.lower()


def test_a_port_nobody_listens_on_is_the_kubelets_error_and_kubectl_gives_up(cluster, web):
    pod = run_kubectl(cluster, "get", "po", "-l", "app=pf-web", "-o", "name").stdout.split()[0]
    p, port = forward(cluster, pod, ":81")
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read()
    assert p.wait(30) == 1
    err = p.stderr.read()
    assert "error forwarding port 81 to pod" in err
    assert "dial tcp4 127.0.0.1:81: connect: connection refused" in err
    assert "error: lost connection to pod" in err


def test_the_python_clients_channel_protocol(cluster, web, api):
    from kubernetes import client
    from kubernetes.stream import portforward

    pod = run_kubectl(cluster, "get", "po", "-l", "app=pf-web", "-o",
                      "jsonpath={.items[0].metadata.name}").stdout
    pf = portforward(client.CoreV1Api(api).connect_get_namespaced_pod_portforward, pod,
                     "default", ports="80")
    sock = pf.socket(80)
    sock.setblocking(True)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    sock.close()
    assert data.startswith(b"HTTP/1.1 200 OK") and b"Welcome to nginx!" in data
    assert pf.error(80) is None


def test_port_forward_needs_create_on_pods_portforward(start_cluster):
    c = start_cluster(users=["viewer=view"])
    run_kubectl(c, "run", "solo", "--image=nginx:1.25", check=True)
    wait_for(lambda: "1/1" in run_kubectl(c, "get", "po", "solo").stdout, what="solo ready")
    r = run_kubectl(c, "--context", "kubelab-viewer", "port-forward", "pod/solo", ":80", timeout=60)
    assert r.returncode == 1
    assert ('pods "solo" is forbidden: User "viewer" cannot create resource "pods/portforward" '
            'in API group "" in the namespace "default"') in r.stderr

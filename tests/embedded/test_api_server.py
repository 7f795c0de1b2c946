"""kubelab cluster as a process: readiness line, kubeconfig, token, health, clean stop."""

import json
import os
import ssl
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml


def _get(c, path, token=True, accept=None):
    ctx = ssl.create_default_context(cadata=_ca(c))
    req = urllib.request.Request(c.server + path)
    if token:
        req.add_header("Authorization", f"Bearer {c.token}")
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def _ca(c):
    import base64
    cfg = yaml.safe_load(c.kubeconfig.read_text())
    return base64.b64decode(cfg["clusters"][0]["cluster"]["certificate-authority-data"]).decode()


def test_kubeconfig_written_private_with_kubelab_names(cluster):
    mode = stat.S_IMODE(os.stat(cluster.kubeconfig).st_mode)
    assert mode == 0o600
    cfg = yaml.safe_load(cluster.kubeconfig.read_text())
    assert cfg["current-context"] == "kubelab"
    ctx = cfg["contexts"][0]
    assert ctx["name"] == "kubelab" and ctx["context"]["namespace"] == "default"
    assert cfg["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")
    assert cfg["users"][0]["user"]["token"] == cluster.token


def test_missing_or_wrong_token_is_401_status(cluster):
    for path in ("/api/v1/namespaces", "/version", "/apis"):
        code, headers, body = _get(cluster, path, token=False)
        assert code == 401
        status = json.loads(body)
        assert status["kind"] == "Status" and status["reason"] == "Unauthorized"
    good = cluster.token
    try:
        cluster.token = "x" + good
        assert _get(cluster, "/api/v1/pods")[0] == 401
    finally:
        cluster.token = good


def test_health_and_version(cluster):
    for path in ("/healthz", "/readyz", "/livez"):
        code, _, body = _get(cluster, path, token=False)
        assert (code, body) == (200, b"ok")
    code, _, body = _get(cluster, "/version")
    v = json.loads(body)
    assert code == 200 and v["gitVersion"] == "v1.33.1" and v["minor"] == "33"


def test_bootstrap_namespaces_and_kubernetes_service(cluster):
    code, _, body = _get(cluster, "/api/v1/namespaces")
    names = {n["metadata"]["name"]: n["status"]["phase"] for n in json.loads(body)["items"]}
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert names[ns] == "Active"
    code, _, body = _get(cluster, "/api/v1/namespaces/default/services/kubernetes")
    svc = json.loads(body)
    assert code == 200 and svc["spec"]["clusterIP"] == "10.96.0.1"
    ep = json.loads(_get(cluster, "/api/v1/namespaces/default/endpoints/kubernetes")[2])
    port = int(cluster.server.rsplit(":", 1)[1])
    assert ep["subsets"][0]["ports"][0]["port"] == port


def test_each_run_has_a_fresh_token_and_stops_on_sigterm(start_cluster, tmp_path):
    path = tmp_path / "cfg" / "kubeconfig"
    a = start_cluster(kubeconfig=path, nodes=1)
    first = a.token
    assert a.kubeconfig == path
    assert a.stop() == 0
    b = start_cluster(kubeconfig=path, nodes=1)
    assert b.token != first
    assert _get(b, "/healthz", token=False)[0] == 200
    assert b.stop() == 0


@pytest.mark.parametrize("args, needle", [
    (["--port", "70000"], "--port"),
    (["--speed", "0"], "--speed"),
    (["--version", "1.33"], "--version"),
    (["--bogus"], "--bogus"),
])
def test_bad_options_exit_2_with_one_line(args, needle):
    r = subprocess.run([sys.executable, "-m", "console.cli", "cluster", *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_the_server_run_is_this_checkouts_whatever_the_working_directory(
        start_cluster, tmp_path, monkeypatch):
    # another kubelab checkout in the working directory (a bench run from a worktree)
    fake = tmp_path / "console"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "cli.py").write_text("raise SystemExit('the checkout in the working directory ran')\n")
    monkeypatch.chdir(tmp_path)
    c = start_cluster(nodes=0)
    assert _get(c, "/healthz", token=False)[0] == 200


def test_sigint_stops_cleanly(start_cluster):
    import signal
    c = start_cluster(nodes=1)
    c.proc.send_signal(signal.SIGINT)
    assert c.proc.wait(30) == 0
    assert "Traceback" not in c.log()


def test_a_cluster_does_not_outlive_its_parent(tmp_path):
    # a parent that starts a cluster and dies without stopping it
    script = (
        "import sys, time\n"
        "from console.embedded import launch\n"
        f"c = launch.start(speed=20, nodes=0, kubeconfig={str(tmp_path / 'kc')!r})\n"
        "print(c.pid, flush=True)\n"
        "import os; os._exit(0)\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                       cwd=str(Path(__file__).resolve().parents[2]))
    pid = int(r.stdout.strip())
    import time
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie has exited already
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def test_istio_kinds_have_read_only_crds(cluster):
    code, _, body = _get(cluster, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
    crds = {c["metadata"]["name"]: c for c in json.loads(body)["items"]}
    assert set(crds) == {"destinationrules.networking.istio.io",
                         "virtualservices.networking.istio.io"}
    vs = crds["virtualservices.networking.istio.io"]["spec"]
    assert [v["name"] for v in vs["versions"]] == ["v1", "v1beta1", "v1alpha3"]
    assert [v["storage"] for v in vs["versions"]] == [True, False, False]
    assert vs["names"]["shortNames"] == ["vs"]

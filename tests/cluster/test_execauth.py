"""Exec credential plugins, against the embedded cluster: a fake plugin script that
prints the cluster's token authenticates as the official client supports it; a
missing one, a failing one and an expired credential are each said in one line
(kubectl's words); switching to a broken context leaves the session where it was."""

import json
import subprocess
import sys

import pytest
import yaml

from console.cluster import connect, rest
from console.cluster.session import Session
from console.errors import UsageError

CRED = ('{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",'
        '"status":{"token":"%s","expirationTimestamp":"%s"}}')


def script(tmp_path, name: str, body: str):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def kubeconfig(cluster, tmp_path):
    """The cluster's kubeconfig with users whose tokens come from exec plugins."""
    doc = yaml.safe_load(cluster.kubeconfig.read_text())
    cluster_name = doc["clusters"][0]["name"]

    def user(name, command, **extra):
        return {"name": name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": command,
            "interactiveMode": "Never", **extra}}}
    good = script(tmp_path, "good.sh", f"echo '{CRED % (cluster.token, '2099-01-01T00:00:00Z')}'\n")
    broken = script(tmp_path, "aws", "echo 'An error occurred (ExpiredToken) when calling the "
                    "GetCallerIdentity operation: The security token included in the request "
                    "is expired' >&2\nexit 254\n")
    expired = script(tmp_path, "gke-gcloud-auth-plugin",
                     f"echo '{CRED % ('stale-token', '2020-01-01T00:00:00Z')}'\n")
    doc["users"] += [user("plugin", good), user("broken", broken, args=["eks", "get-token"]),
                     user("missing", "kubelogin-not-here", args=["get-token"],
                          installHint="install kubelogin: az aks install-cli"),
                     user("expired", expired)]
    doc["contexts"] += [{"name": n, "context": {"cluster": cluster_name, "user": n,
                                                "namespace": "default"}}
                        for n in ("plugin", "broken", "missing", "expired")]
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_a_plugin_that_prints_a_token_authenticates(kubeconfig):
    conn = connect.from_kubeconfig(kubeconfig, context="plugin")
    try:
        connect.check(conn)
        assert "items" in rest.call(conn.api, "GET", "/api/v1/namespaces/default/pods")
    finally:
        conn.close()


def test_a_failing_plugin_is_said_with_its_own_error_output(kubeconfig):
    with pytest.raises(UsageError) as e:
        connect.from_kubeconfig(kubeconfig, context="broken")
    text = str(e.value)
    assert text.startswith(f"{kubeconfig}: context 'broken': getting credentials: exec: executable ")
    assert "failed with exit code 254 (users[broken].user.exec): An error occurred (ExpiredToken)" in text


def test_a_missing_plugin_says_so_with_its_install_hint(kubeconfig):
    with pytest.raises(UsageError) as e:
        connect.from_kubeconfig(kubeconfig, context="missing")
    assert ("getting credentials: exec: executable kubelogin-not-here not found "
            "(users[missing].user.exec): the credential plugin is not installed — install "
            "kubelogin: az aks install-cli") in str(e.value)


def test_an_expired_credential_is_named_after_the_401(kubeconfig):
    conn = connect.from_kubeconfig(kubeconfig, context="expired")
    try:
        with pytest.raises(UsageError) as e:
            connect.check(conn)
        assert ("credentials refused (401 Unauthorized): the credentials from "
                in str(e.value))
        assert "expired at 2020-01-01T00:00:00Z (users[expired].user.exec): gcloud auth login" \
            in str(e.value)
    finally:
        conn.close()


def test_the_console_exits_2_with_one_line_and_no_traceback(kubeconfig):
    r = subprocess.run([sys.executable, "-m", "console.cli", "--kubeconfig", kubeconfig,
                        "--context", "broken"], capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2, r.stderr
    assert "getting credentials: exec: executable" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_switching_to_a_broken_context_keeps_the_session_where_it_was(kubeconfig):
    session = Session(connect.from_kubeconfig(kubeconfig, context="plugin"))
    try:
        with pytest.raises(UsageError):
            session.switch(context="broken")
        assert session.conn.context == "plugin"
        assert rest.call(session.conn.api, "GET", "/api/v1/namespaces/default/pods")
        session.switch(namespace="kube-system")                 # still switches
        assert session.conn.namespace == "kube-system"
        body = rest.call(session.conn.api, "GET", "/api/v1/namespaces/kube-system/pods")
        assert json.dumps(body).count("coredns") >= 1
    finally:
        session.close(disconnect=True)

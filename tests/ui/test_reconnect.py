"""The console and a kubeconfig that changes or fails under it.

A restarted embedded cluster writes a new CA, token and port into the same file: the
console re-reads it and converges to the new cluster's state (rows of pods that no
longer exist go). Credentials the server refuses are explained — before the console
opens (exit 2), or in the console with what to do — never an endless "reconnecting".
"""

import base64
import shutil

import yaml

from console import cli
from console.cluster import rest
from console.cluster.connect import from_kubeconfig
from console.embedded.api import tls
from console.ui.app import KubelabApp
from console.ui.panes.pods import PodsTable
from tests.ui.feed import until


def names(app) -> set[str]:
    return {r.name for r in app.query_one(PodsTable).printed.values()}


def pod(conn, name: str) -> None:
    rest.create_or_update(conn.api, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
                          conn.namespace)


def _edit(src, dst, change) -> str:
    doc = yaml.safe_load(src.read_text())
    change(doc)
    dst.write_text(yaml.safe_dump(doc))
    return str(dst)


async def test_console_converges_after_the_cluster_restarts_under_it(start_cluster, tmp_path):
    path = tmp_path / "kubeconfig"
    first = start_cluster(nodes=1, kubeconfig=path)
    conn = from_kubeconfig(str(path))
    pod(conn, "before")
    app = KubelabApp(conn)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: "before" in names(app), 90)
        first.stop()
        second = start_cluster(nodes=1, kubeconfig=path)  # new CA, token and port, same file
        pod(from_kubeconfig(str(second.kubeconfig)), "after")
        try:
            await until(pilot, lambda: names(app) == {"after"}, 120)
        except AssertionError:
            raise AssertionError(f"rows {names(app)}, links {app.state.link_summary()}, "
                                 f"{conn.server} vs {second.server}") from None
        await until(pilot, lambda: app.state.link_summary()[0] == "live", 60)
        assert conn.server == second.server


def _wrong_token(cluster, tmp_path) -> str:
    def change(doc):
        doc["users"][0]["user"]["token"] = "not-the-token"
    return _edit(cluster.kubeconfig, tmp_path / "wrong-token", change)


def test_refused_credentials_exit_2_before_the_console(cluster, tmp_path, capsys):
    bad = _wrong_token(cluster, tmp_path)
    assert cli.main(["--kubeconfig", bad]) == 2
    err = capsys.readouterr().err
    assert "credentials refused (401 Unauthorized)" in err and bad in err
    assert "Traceback" not in err


def test_a_ca_that_does_not_verify_and_a_server_that_is_no_url(cluster, tmp_path, capsys):
    other, _ = tls.make_cert()

    def change(doc):
        doc["clusters"][0]["cluster"]["certificate-authority-data"] = base64.b64encode(other).decode()
    assert cli.main(["--kubeconfig", _edit(cluster.kubeconfig, tmp_path / "ca", change)]) == 2
    assert "the server's certificate does not verify" in capsys.readouterr().err

    def no_url(doc):
        doc["clusters"][0]["cluster"]["server"] = "kubelab-cluster"
    bad = _edit(cluster.kubeconfig, tmp_path / "server", no_url)
    assert cli.main(["--kubeconfig", bad]) == 2
    err = capsys.readouterr().err
    assert "server 'https://kubelab-cluster' is not a URL" in err or "is not a URL" in err
    assert bad in err


async def test_refused_in_the_console_says_what_to_do_and_recovers(cluster, tmp_path):
    bad = _wrong_token(cluster, tmp_path)
    conn = from_kubeconfig(bad)  # past the command line's check: the token is refused later
    conn.namespace = "default"
    app = KubelabApp(conn)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.state.link_summary()[0] == "refused", 60)
        state, detail = app.state.link_summary()
        assert "credentials refused (401 Unauthorized)" in detail and "renew" in detail
        assert "refused" in str(app.status.render())
        # the credential is renewed in the file: the console picks it up by itself
        shutil.copy(cluster.kubeconfig, bad)
        await until(pilot, lambda: app.state.link_summary()[0] == "live", 90)

from pathlib import Path

import pytest
from kubernetes import client

from console.cluster import connect
from console.errors import UsageError


def kubeconfig(tmp_path, namespace=None):
    ctx = {"cluster": "c", "user": "u"}
    if namespace:
        ctx["namespace"] = namespace
    import yaml
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "one",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "one", "context": ctx},
                     {"name": "two", "context": {"cluster": "c", "user": "u", "namespace": "lab"}}],
    }))
    return str(path)


def test_namespace_defaults_to_the_contexts_then_default(tmp_path):
    path = kubeconfig(tmp_path)
    assert connect.connect(kubeconfig=path).namespace == "default"
    c = connect.connect(kubeconfig=path, context="two")
    assert (c.context, c.namespace, c.contexts) == ("two", "lab", ["one", "two"])
    assert connect.connect(kubeconfig=path, context="two", namespace="x").namespace == "x"
    assert c.real and c.server == "https://127.0.0.1:1"


def test_kubeconfig_env_is_used(tmp_path, monkeypatch):
    path = kubeconfig(tmp_path, namespace="from-env")
    monkeypatch.setenv("KUBECONFIG", f"/nonexistent:{path}")
    assert connect.default_kubeconfig() == path
    assert connect.connect().namespace == "from-env"


def test_bad_input_is_one_clear_line(tmp_path):
    with pytest.raises(UsageError, match="--kubeconfig .*no such file"):
        connect.connect(kubeconfig=str(tmp_path / "missing"))
    with pytest.raises(UsageError, match="context 'nope' not found \\(have: one, two\\)"):
        connect.connect(kubeconfig=kubeconfig(tmp_path), context="nope")
    bad = tmp_path / "bad"
    bad.write_text("clusters: [\n")
    with pytest.raises(UsageError) as err:
        connect.connect(kubeconfig=str(bad))
    assert str(bad) in str(err.value) and "\n" not in str(err.value)


def test_tui_main_rejects_bad_options_with_exit_2(capsys):
    from console import cli
    assert cli.main(["--speed", "0"]) == 2
    assert "--speed: must be a number above 0" in capsys.readouterr().err
    assert cli.main(["--kubeconfig", "/nonexistent/k"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["--bogus"]) == 2


def test_two_embedded_consoles_keep_their_own_kubeconfig(tmp_path, monkeypatch):
    """The second console's cluster used to rewrite ~/.local/state/kubelab/embedded-kubeconfig,
    and the first console, which follows a changed kubeconfig, went over to it."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    first = connect.start_embedded(speed=20)
    try:
        second = connect.start_embedded(speed=20)
        try:
            assert Path(first.kubeconfig).name == "embedded-kubeconfig"
            assert Path(second.kubeconfig).name == "embedded-kubeconfig-2"
            assert first.server != second.server
            assert not first.refresh()  # its file is untouched by the second cluster
            core = client.CoreV1Api(first.api)
            core.create_namespaced_config_map("default", {"metadata": {"name": "only-first"}})
            names = [c.metadata.name for c in
                     client.CoreV1Api(second.api).list_namespaced_config_map("default").items]
            assert "only-first" not in names
        finally:
            second.close()
    finally:
        first.close()
    again = connect.start_embedded(speed=20)  # both ended: the first slot is free again
    try:
        assert Path(again.kubeconfig).name == "embedded-kubeconfig"
    finally:
        again.close()


def test_an_embedded_cluster_that_does_not_start_is_one_line_naming_its_log(
        tmp_path, monkeypatch, capsys):
    from console.embedded import launch
    from console.ui.main import main
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    start = launch.start
    monkeypatch.setattr(launch, "start", lambda **kw: start(extra=["--no-such-flag"], **kw))
    assert main(["--embedded", "--free"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    log = tmp_path / "kubelab" / "embedded-kubeconfig.log"
    assert err == f"kubelab: could not start the embedded cluster: kubelab cluster exited with 2 (log: {log})"
    assert "--no-such-flag" in log.read_text()

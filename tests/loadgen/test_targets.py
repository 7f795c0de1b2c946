"""In-cluster names: the resolver seam and console.cluster.targets over real HTTP.

The API server here is a small local aiohttp app that serves Service objects the
way the Kubernetes API does (GET /api/v1/namespaces/NS/services/NAME).
"""

import asyncio
import json

import pytest
from aiohttp import web

from console.cluster import targets
from console.loadgen.resolve import ClusterResolver, cluster_name


@pytest.mark.parametrize("host, expected", [
    ("order", ("order", None, True)),
    ("order.labs", ("order", "labs", False)),
    ("order.labs.svc", ("order", "labs", True)),
    ("order.labs.svc.cluster.local", ("order", "labs", True)),
    ("localhost", None),
    ("127.0.0.1", None),
    ("::1", None),
    ("www.example.com", None),
])
def test_which_hosts_are_in_cluster_names(host, expected):
    assert cluster_name(host) == expected


def service(name, ns, annotations=None, ports=(8080,)):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
            "spec": {"ports": [{"port": p, "targetPort": p} for p in ports]}}


@pytest.fixture
async def apiserver(tmp_path):
    """A local API server and a kubeconfig whose current context is namespace `labs`."""
    services = {}
    asked = []

    async def get_service(request):
        ns, name = request.match_info["ns"], request.match_info["name"]
        asked.append((ns, name))
        if (ns, name) not in services:
            return web.json_response({"kind": "Status", "status": "Failure", "reason": "NotFound",
                                      "message": f'services "{name}" not found', "code": 404},
                                     status=404)
        return web.json_response(services[(ns, name)])

    app = web.Application()
    app.router.add_get("/api/v1/namespaces/{ns}/services/{name}", get_service)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "lab", "context": {"cluster": "c", "user": "u", "namespace": "labs"}}],
    }))
    yield services, asked, kubeconfig
    await runner.cleanup()


async def resolve(host, port):
    return await asyncio.to_thread(ClusterResolver().resolve, host, port)


async def test_published_service_resolves_in_the_contexts_namespace(apiserver, monkeypatch):
    services, asked, kubeconfig = apiserver
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    services[("labs", "order")] = service("order", "labs",
                                          {targets.ANNOTATION: '{"8080": "127.0.0.1:41234"}'})
    assert await resolve("order", 8080) == ("127.0.0.1", 41234)
    services[("other", "order")] = service("order", "other",
                                           {targets.ANNOTATION: '{"8080": "127.0.0.1:41999"}'})
    assert await resolve("order.other.svc.cluster.local", 8080) == ("127.0.0.1", 41999)
    assert asked == [("labs", "order"), ("other", "order")]


@pytest.mark.parametrize("svc, words", [
    (None, "service order not found in namespace labs"),
    (service("order", "labs"), "service order is not reachable from this machine (no address "
                               "published on it)"),
    (service("order", "labs", ports=(80,)), "service order has no port 8080 (it has 80)"),
    (service("order", "labs", {targets.ANNOTATION: "not json"}), "is not"),
    (service("order", "labs", {targets.ANNOTATION: '{"9090": "127.0.0.1:1"}'}),
     "port 8080 is not published"),
])
async def test_unreachable_services_say_why(apiserver, monkeypatch, svc, words):
    services, _, kubeconfig = apiserver
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    if svc:
        services[("labs", "order")] = svc
    with pytest.raises(targets.TargetError) as e:
        await resolve("order", 8080)
    assert words in str(e.value)


async def test_name_dot_ns_that_is_no_service_is_taken_as_written(apiserver, monkeypatch):
    _, asked, kubeconfig = apiserver
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert await resolve("example.org", 80) is None
    assert asked == [("org", "example")]


def test_no_cluster_at_all(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    with pytest.raises(targets.TargetError) as e:
        ClusterResolver().resolve("order", 8080)
    assert "there is no cluster" in str(e.value)


async def test_siege_on_a_service_name_end_to_end(apiserver, server, siege_cli):
    services, _, kubeconfig = apiserver
    services[("labs", "order")] = service(
        "order", "labs", {targets.ANNOTATION: json.dumps({"8080": f"127.0.0.1:{server.port}"})})
    env = {"KUBECONFIG": str(kubeconfig)}
    rc, out, err = await siege_cli(["-c2", "-r2", "-v", "http://order:8080/ok"], **env)
    assert rc == 0, err
    assert out.count("HTTP/1.1 200") == 4 and "==> GET  /ok" in out
    assert "Transactions:\t\t           4 hits" in err
    assert server.seen.hosts == ["order:8080"] * 4

    del services[("labs", "order")]
    rc, out, err = await siege_cli(["-c2", "-r2", "http://order:8080/ok"], **env)
    assert rc == 2 and err.strip().endswith("service order not found in namespace labs "
                                            f"(cluster http://127.0.0.1:{kubeconfig_port(kubeconfig)})")
    assert err.count("\n") == 1


def kubeconfig_port(path):
    return json.loads(path.read_text())["clusters"][0]["cluster"]["server"].rsplit(":", 1)[1]


async def test_cluster_that_does_not_answer(tmp_path, monkeypatch, refused_port):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{refused_port}"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "c", "user": "u"}}],
    }))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    with pytest.raises(targets.TargetError) as e:
        await resolve("order", 8080)
    assert f"service order: cannot reach the cluster at http://127.0.0.1:{refused_port}" in str(e.value)


def test_broken_kubeconfig(tmp_path, monkeypatch):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    with pytest.raises(targets.TargetError) as e:
        ClusterResolver().resolve("order", 8080)
    assert str(e.value).startswith(f"kubeconfig {kubeconfig}:")


async def test_through_the_consoles_own_client(apiserver, monkeypatch, tmp_path):
    """With an ApiClient and a namespace, the kubeconfig in the environment is not read."""
    from console.cluster.connect import from_kubeconfig

    services, asked, kubeconfig = apiserver
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    conn = from_kubeconfig(str(kubeconfig))
    services[("other", "order")] = service("order", "other",
                                           {targets.ANNOTATION: '{"80": "127.0.0.1:41999"}'}, (80,))
    try:
        got = await asyncio.to_thread(targets.service_address, "order", "other", None, conn.api)
        assert got == ("127.0.0.1", 41999)
        with pytest.raises(targets.TargetError) as e:
            await asyncio.to_thread(targets.service_address, "order", None, 80, conn.api)
        assert "service order not found in namespace default" in str(e.value)
        assert asked == [("other", "order"), ("default", "order")]
        assert conn.api.configuration.host.startswith("http://127.0.0.1:")  # still open for its owner
    finally:
        conn.close()

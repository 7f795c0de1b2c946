"""Real HTTP through a Service's loopback listener, balanced over READY pods."""

import asyncio
import json

import aiohttp

from kubelet_helpers import cstatus, events, kubelet_cluster, log_lines, pod
from waits import until


def service(name, port=80, target=80, selector=None, type_="ClusterIP"):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"type": type_, "selector": selector or {"app": name},
                     "ports": [{"port": port, "targetPort": target, "protocol": "TCP"}]}}


def host_port(cluster, name, port):
    svc = cluster.registry.get("services", "default", name) or {}
    ann = (svc["metadata"].get("annotations") or {}).get("kubelab.dev/host-ports")
    return json.loads(ann).get(str(port)) if ann else None


async def test_requests_spread_over_ready_pods_only():
    async with kubelet_cluster(speed=50) as cluster:
        for i in range(3):
            cluster.registry.create("pods", pod(f"web-{i}", image="nginx", labels={"app": "web"},
                                                node=f"kubelab-node-{i % 2 + 1}"))
        cluster.registry.create("services", service("web"))
        addr = await until(lambda: host_port(cluster, "web", 80), what="host port")
        await until(lambda: all(cstatus(cluster, f"web-{i}").get("ready") for i in range(3)))
        async with aiohttp.ClientSession() as http:
            for _ in range(60):   # a fresh connection each time: kube-proxy balances connections
                async with http.get(f"http://{addr}/", headers={"Connection": "close"}) as r:
                    assert r.status == 200
                    assert "Welcome to nginx!" in await r.text()
        served = [cluster.kubelet.worker("default", f"web-{i}").containers[0].app.served
                  for i in range(3)]
        assert sum(served) == 60 and all(n > 0 for n in served), served
        logs = log_lines(cluster, "web-0")
        assert any('"GET / HTTP/1.1" 200 615' in line for line in logs)


async def test_no_ready_endpoint_refuses_the_connection():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("services", service("nobody"))
        addr = await until(lambda: host_port(cluster, "nobody", 80), what="host port")
        async with aiohttp.ClientSession() as http:
            try:
                async with http.get(f"http://{addr}/") as r:
                    raise AssertionError(f"answered {r.status}")
            except aiohttp.ClientConnectorError as exc:     # at connect: refused (test_traffic_refused)
                assert isinstance(exc.os_error, ConnectionRefusedError), exc


async def test_booting_app_refuses_then_serves():
    async with kubelet_cluster(speed=10) as cluster:
        cluster.registry.create("pods", pod("order", image="jinyoung/order:stable",
                                            labels={"app": "order"},
                                            container={"ports": [{"containerPort": 8080}]}))
        cluster.registry.create("services", service("order", 8080, 8080))
        addr = await until(lambda: host_port(cluster, "order", 8080), what="host port")
        await until(lambda: cstatus(cluster, "order").get("ready"), what="ready (no probe)")
        async with aiohttp.ClientSession() as http:
            refused = 0
            for _ in range(200):
                try:
                    async with http.get(f"http://{addr}/orders") as r:
                        assert r.status == 200
                        body = await r.json()
                        assert body["version"] == "stable"
                        break
                except aiohttp.ClientConnectionError:
                    refused += 1
                    await asyncio.sleep(0.1)   # poll interval, not a timing assertion
            assert refused > 0          # Running and "ready" but not booted yet
            async with http.post(f"http://{addr}/orders", json={"productId": 1, "qty": 2}) as r:
                assert r.status == 201
            async with http.put(f"http://{addr}/actuator/down") as r:
                assert r.status == 200
            async with http.get(f"http://{addr}/actuator/health") as r:
                assert r.status == 503 and (await r.json())["status"] == "DOWN"
        app = cluster.kubelet.worker("default", "order").containers[0].app
        assert app.cpu.usage_core_seconds() > 0


async def test_head_expect_continue_and_keep_alive():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("echo", image="example/app", labels={"app": "echo"},
                                            annotations={"kubelab.dev/boot-seconds": "0"},
                                            container={"ports": [{"containerPort": 9000}]}))
        cluster.registry.create("services", service("echo", 9000, 9000))
        addr = await until(lambda: host_port(cluster, "echo", 9000), what="host port")
        await until(lambda: cstatus(cluster, "echo").get("ready"))
        host, port = addr.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HEAD / HTTP/1.1\r\nHost: echo\r\n\r\n"
                     b"POST /x HTTP/1.1\r\nHost: echo\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        assert head.startswith(b"HTTP/1.1 200 OK") and b"Content-Length: " in head
        cont = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        assert cont == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"hello")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        assert head.startswith(b"HTTP/1.1 200 OK")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        body = await asyncio.wait_for(reader.readexactly(length), 30)
        assert json.loads(body)["method"] == "POST"
        writer.close()


async def test_curl_and_wget_inside_pods_reach_services_and_localhost():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("web", image="nginx", labels={"app": "web"}))
        cluster.registry.create("services", service("web"))
        await until(lambda: host_port(cluster, "web", 80) and cstatus(cluster, "web").get("ready"))
        probe = {"exec": {"command": ["curl", "-sf", "http://localhost:8080/actuator/health"]},
                 "periodSeconds": 2}
        cluster.registry.create("pods", pod("order", image="jinyoung/order:stable",
                                            container={"readinessProbe": probe}))
        cluster.registry.create("pods", pod("client", image="busybox", container={"command": [
            "sh", "-c", "until wget -qO- http://web.default.svc.cluster.local/ > /tmp/page; do sleep 1; done;"
                        " sleep 3600"]}))
        await until(lambda: cstatus(cluster, "order").get("ready"), what="curl probe passes")
        # while the app boots, curl -sf fails silently (exit 7): the event has no output
        assert ("Unhealthy", "Readiness probe failed: ") in events(cluster, "order")
        c = cluster.kubelet.container("default", "client")
        await until(lambda: c.app is not None and c.app.fs.exists("/tmp/page"), what="page fetched")
        assert b"Welcome to nginx!" in c.app.fs.read("/tmp/page")
        code, out = await cluster.kubelet.exec("default", "client", None,
                                               ["wget", "-qO-", "http://nosuch/"])
        assert (code, out) == (1, "wget: bad address 'nosuch'\n")
        code, out = await cluster.kubelet.exec("default", "client", None,
                                               ["curl", "-sS", "http://localhost:9999/"])
        assert code == 7 and "Failed to connect to localhost port 9999" in out


def free_node_port():
    import socket
    for port in range(31900, 32700):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise AssertionError("no free port in the NodePort range")


async def test_node_port_is_opened_on_loopback():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("np", image="nginx", labels={"app": "np"}))
        svc = service("np", type_="NodePort")
        node_port = free_node_port()
        svc["spec"]["ports"][0]["nodePort"] = node_port
        cluster.registry.create("services", svc)
        await until(lambda: host_port(cluster, "np", 80) and cstatus(cluster, "np").get("ready"))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{node_port}/") as r:
                assert r.status == 200 and "Welcome to nginx!" in await r.text()

        def to_cluster_ip(obj):
            obj["spec"]["type"] = "ClusterIP"
            obj["spec"]["ports"][0].pop("nodePort", None)
        cluster.registry.mutate("services", "default", "np", to_cluster_ip)
        await until(lambda: not cluster.network._node_ports, what="node port closed")
        async with aiohttp.ClientSession() as http:
            try:
                async with http.get(f"http://127.0.0.1:{node_port}/"):
                    raise AssertionError("the NodePort still answers")
            except aiohttp.ClientConnectionError:
                pass
            async with http.get(f"http://{host_port(cluster, 'np', 80)}/") as r:
                assert r.status == 200          # the ClusterIP port keeps working
        cluster.registry.delete("services", "default", "np")
        await until(lambda: not cluster.network.proxies, what="closed")


async def test_two_container_pod_with_a_sidecar_still_reaches_its_app():
    async with kubelet_cluster(speed=50) as cluster:
        body = pod("meshed", image="jinyoung/order:stable", labels={"app": "meshed"},
                   annotations={"kubelab.dev/boot-seconds": "1"},
                   container={"ports": [{"containerPort": 8080}]})
        body["spec"]["containers"].append({
            "name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.0",
            "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021}, "periodSeconds": 2}})
        cluster.registry.create("pods", body)
        cluster.registry.create("services", service("meshed", 8080, 8080))
        addr = await until(lambda: host_port(cluster, "meshed", 8080))
        await until(lambda: all(c.get("ready") for c in
                                cluster.registry.get("pods", "default", "meshed")["status"]
                                .get("containerStatuses") or [{}]), what="2/2")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://{addr}/orders") as r:
                assert r.status == 200 and (await r.json())["version"] == "stable"


async def test_a_killed_app_drops_its_connections():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("slow", image="jinyoung/order:stable", labels={"app": "slow"},
                                            annotations={"kubelab.dev/boot-seconds": "1",
                                                         "kubelab.dev/latency-ms": "60000"},
                                            container={"ports": [{"containerPort": 8080}]}))
        cluster.registry.create("services", service("slow", 8080, 8080))
        addr = await until(lambda: host_port(cluster, "slow", 8080))
        container = cluster.kubelet.container("default", "slow")
        await until(lambda: container.app is not None and container.app.listening, what="booted")
        async with aiohttp.ClientSession() as http:
            request = asyncio.ensure_future(http.get(f"http://{addr}/orders"))
            await until(lambda: container.app.inflight == 1, what="request in flight")
            await container.kill(0)                     # SIGKILL: no grace
            try:
                resp = await asyncio.wait_for(request, 30)
                raise AssertionError(f"answered {resp.status}")
            except aiohttp.ClientConnectionError:
                pass
        await until(lambda: cstatus(cluster, "slow").get("restartCount") == 1, what="restarted")
        assert cstatus(cluster, "slow")["lastState"]["terminated"]["exitCode"] == 137


async def test_force_deleted_pod_stops_serving_at_once():
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("web", image="nginx", labels={"app": "web"}))
        cluster.registry.create("services", service("web"))
        addr = await until(lambda: host_port(cluster, "web", 80))
        await until(lambda: cstatus(cluster, "web").get("ready"))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://{addr}/") as r:          # a kept-alive connection
                assert r.status == 200
            app = cluster.kubelet.container("default", "web").app
            cluster.store.delete("pods", "default", "web")        # --force --grace-period=0
            await until(lambda: not app.listening, what="app gone")
            try:
                async with http.get(f"http://{addr}/") as r:
                    raise AssertionError(f"answered {r.status}")
            except aiohttp.ClientConnectionError:
                pass

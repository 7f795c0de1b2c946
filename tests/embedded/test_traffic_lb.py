"""LoadBalancer Services: an address of their own in 127.0.0.0/8 on the Service's
own port, shown as EXTERNAL-IP, released when the Service goes or changes type;
two clusters on one machine never share an address:port."""

import asyncio
import socket

import aiohttp

from kubelet_helpers import events, kubelet_cluster, pod
from test_traffic_service import service
from waits import until


def free_port() -> int:
    """A port number nobody holds now (the Service's own port in these tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ingress(cluster, name):
    svc = cluster.registry.get("services", "default", name) or {}
    ing = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return ing[0]["ip"] if ing else None


async def get(url):
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as r:
            return r.status, await r.text()


async def test_external_ip_serves_the_service_port_and_is_released():
    port = free_port()
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("web", image="nginx", labels={"app": "web"}))
        cluster.registry.create("services", service("web", port, 80, type_="LoadBalancer"))
        ip = await until(lambda: ingress(cluster, "web"), what="EXTERNAL-IP")
        assert ip.startswith("127.") and ip != "127.0.0.1"
        status, text = await until(lambda: _ok(get(f"http://{ip}:{port}/")), what="served")
        svc = cluster.registry.get("services", "default", "web")
        assert "service.kubernetes.io/load-balancer-cleanup" in svc["metadata"]["finalizers"]
        assert ("EnsuredLoadBalancer", "Ensured load balancer") in events(cluster, "web")

        def to_cluster_ip(obj):
            obj["spec"]["type"] = "ClusterIP"
        cluster.registry.mutate("services", "default", "web", to_cluster_ip)
        await until(lambda: ingress(cluster, "web") is None, what="ingress cleared")
        await until(lambda: not (cluster.registry.get("services", "default", "web")["metadata"]
                                 .get("finalizers")), what="finalizer removed")
        await refused(ip, port)
        assert ("DeletedLoadBalancer", "Deleted load balancer") in events(cluster, "web")


async def test_deleting_the_service_waits_for_the_address_to_be_released():
    port = free_port()
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("services", service("gone", port, 80, type_="LoadBalancer"))
        ip = await until(lambda: ingress(cluster, "gone"), what="EXTERNAL-IP")
        await until(lambda: cluster.registry.get("services", "default", "gone")["metadata"]
                    .get("finalizers"), what="finalizer")
        cluster.registry.delete("services", "default", "gone")
        await until(lambda: cluster.registry.get("services", "default", "gone") is None,
                    what="service removed once released")
        await refused(ip, port)


async def test_a_held_address_moves_the_service_on_and_two_clusters_do_not_collide():
    port = free_port()
    blocker = socket.socket()
    blocker.bind(("127.0.0.2", port))       # someone else holds 127.0.0.2:<port>
    blocker.listen()
    try:
        async with kubelet_cluster(speed=50) as one, kubelet_cluster(speed=50) as two:
            for c in (one, two):
                c.registry.create("pods", pod("web", image="nginx", labels={"app": "web"}))
                c.registry.create("services", service("web", port, 80, type_="LoadBalancer"))
            ip1 = await until(lambda: ingress(one, "web"), what="first EXTERNAL-IP")
            ip2 = await until(lambda: ingress(two, "web"), what="second EXTERNAL-IP")
            assert "127.0.0.2" not in (ip1, ip2) and ip1 != ip2
            for ip in (ip1, ip2):
                status, text = await until(lambda: _ok(get(f"http://{ip}:{port}/")), what=ip)
                assert "Welcome to nginx!" in text
            # a second LoadBalancer in one cluster gets an address of its own
            one.registry.create("services", service("web2", port, 80, type_="LoadBalancer",
                                                     selector={"app": "web"}))
            ip3 = await until(lambda: ingress(one, "web2"), what="third EXTERNAL-IP")
            assert ip3 not in (ip1, ip2, "127.0.0.2")
    finally:
        blocker.close()


async def test_no_address_to_be_had_leaves_it_pending_with_an_event():
    port = free_port()
    blocker = socket.socket()
    blocker.bind(("0.0.0.0", port))         # a wildcard listener blocks the port everywhere
    blocker.listen()
    try:
        async with kubelet_cluster(speed=50) as cluster:
            cluster.registry.create("services", service("stuck", port, 80, type_="LoadBalancer"))
            ev = await until(lambda: [m for r, m in events(cluster, "stuck")
                                      if r == "SyncLoadBalancerFailed"], what="failure event")
            assert ev[0].startswith("Error syncing load balancer: failed to ensure load balancer")
            assert ingress(cluster, "stuck") is None
            # the Service still works inside the cluster and on its host port
            assert cluster.network.address("default", "stuck", port)
    finally:
        blocker.close()


async def _ok(coro):
    try:
        status, text = await coro
    except aiohttp.ClientError:
        return None
    return (status, text) if status == 200 else None


async def refused(ip, port):
    async def closed():
        try:
            _, w = await asyncio.open_connection(ip, port)
        except OSError:
            return True
        w.close()
        return False
    await until(closed, what=f"{ip}:{port} closed")

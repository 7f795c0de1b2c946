"""A Service nothing behind would answer refuses the connection, as on a real
cluster (iptables REJECT with no endpoint; a pod port with no listener answers the
SYN with RST): ECONNREFUSED at connect, not a connection accepted and reset."""

import asyncio
import socket

from kubelet_helpers import cstatus, kubelet_cluster, pod
from meshkit import mesh_cluster
from test_traffic_service import free_node_port, host_port, service
from waits import until


async def connect(addr: str):
    """'refused', or the first line of an HTTP/1.0 answer."""
    host, port = addr.rsplit(":", 1)
    try:
        reader, writer = await asyncio.open_connection(host, int(port))
    except ConnectionRefusedError:
        return "refused"
    try:
        writer.write(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        await writer.drain()
        return (await reader.readline()).decode().strip() or "closed"
    except ConnectionResetError:
        return "reset"
    finally:
        writer.close()


def held(addr: str) -> bool:
    """Nobody else can bind the address meanwhile (with or without SO_REUSEADDR)."""
    host, port = addr.rsplit(":", 1)
    for reuse in (0, 1):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, reuse)
            try:
                s.bind((host, int(port)))
                return False
            except OSError:
                pass
    return True


async def test_refused_while_no_endpoint_or_no_listener_then_served():
    async with kubelet_cluster(speed=50) as cluster:
        svc = service("web", type_="NodePort")
        node_port = free_node_port()
        svc["spec"]["ports"][0]["nodePort"] = node_port
        cluster.registry.create("services", svc)
        addr = await until(lambda: host_port(cluster, "web", 80), what="host port")
        outside = f"127.0.0.1:{node_port}"
        await until(lambda: cluster.network._node_ports, what="the NodePort bound")
        assert await connect(addr) == "refused" and await connect(outside) == "refused"
        assert held(addr) and held(outside)

        # Ready at once (no probe) while nginx takes 60 s to come up: still refused
        cluster.registry.create("pods", pod("web", image="nginx", labels={"app": "web"},
                                            annotations={"kubelab.dev/boot-seconds": "60"}))
        await until(lambda: cstatus(cluster, "web").get("ready"), what="ready, not listening")
        assert await connect(addr) == "refused"
        await until(lambda: cluster.kubelet.container("default", "web").app.listening, timeout=120,
                    what="nginx listening")
        assert await connect(addr) == "HTTP/1.1 200 OK"
        assert await connect(outside) == "HTTP/1.1 200 OK"

        cluster.registry.delete("pods", "default", "web", grace_seconds=0)
        await until(lambda: cluster.registry.get("pods", "default", "web") is None, what="pod gone")
        await until(lambda: not any(g.open for g in cluster.network.gates(("default", "web"))),
                    what="the listeners shut")
        assert await connect(addr) == "refused" and held(addr)


async def test_an_injected_namespace_is_answered_by_its_envoy_even_without_endpoints():
    """The client's sidecar takes every outbound connection; the 503 is Envoy's."""
    async with mesh_cluster(speed=50) as cluster:
        cluster.registry.create("services", service("nobody"))
        addr = await until(lambda: host_port(cluster, "nobody", 80), what="host port")
        assert (await connect(addr)).startswith("HTTP/1.1 503")

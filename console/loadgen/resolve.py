"""The resolver seam: how a URL's host becomes an address this machine can reach.

http://order:8080/orders names a Service; it means something only inside a cluster.
The engine asks a Resolver before the run; tests inject their own.
"""

from __future__ import annotations

import ipaddress
from typing import Protocol

from yarl import URL



class Resolver(Protocol):
    def resolve(self, host: str, port: int) -> tuple[str, int] | None:
        """The (host, port) to connect to, or None to use the URL as written.

        Raises UsageError with a clear line when the name cannot be reached.
        """


def cluster_name(host: str) -> tuple[str, str | None, bool] | None:
    """(service, namespace, certain) if host looks like an in-cluster name, else None.

    `certain` is False for name.ns, which could also be a public name (example.com).
    """
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return None
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) == 1:
        return labels[0], None, True
    for suffix in (["svc", "cluster", "local"], ["svc"]):
        if len(labels) == 2 + len(suffix) and labels[2:] == suffix:
            return labels[0], labels[1], True
    if len(labels) == 2:
        return labels[0], labels[1], False
    return None


class DirectResolver:
    """Every URL as written (no cluster at hand)."""

    def resolve(self, host: str, port: int) -> tuple[str, int] | None:
        return None


class StaticResolver:
    """A fixed map {"order:8080": ("127.0.0.1", 41234)}; picklable for the worker."""

    def __init__(self, table: dict[str, tuple[str, int]]):
        self.table = dict(table)

    def resolve(self, host: str, port: int) -> tuple[str, int] | None:
        return self.table.get(f"{host}:{port}")


class ConnectToResolver:
    """curl's --connect-to: a request for host1:port1 connects to host2:port2 and keeps
    its Host header; an empty host1 or port1 matches any. Others go to `fallback`."""

    def __init__(self, rules, fallback: Resolver):
        self.rules = list(rules)
        self.fallback = fallback

    def resolve(self, host: str, port: int) -> tuple[str, int] | None:
        for h1, p1, h2, p2 in self.rules:
            if (not h1 or h1 == host.lower()) and (p1 is None or p1 == port):
                return h2 or host, p2 or port
        return self.fallback.resolve(host, port)


class ClusterResolver:
    """In-cluster names through the current kubeconfig (console.cluster.targets)."""

    def resolve(self, host: str, port: int) -> tuple[str, int] | None:
        name = cluster_name(host)
        if name is None:
            return None
        service, namespace, certain = name
        from console.cluster import targets  # the kubernetes client loads only when needed

        try:
            return targets.service_address(service, namespace, port)
        except targets.TargetError:
            if certain:
                raise
            return None  # name.ns that is no Service: take it as a public name


def resolve_url(url: str, resolver: Resolver) -> tuple[str, str | None]:
    """(url to request, Host header to send or None)."""
    u = URL(url)
    addr = resolver.resolve(u.host or "", u.port or 80)
    if addr is None:
        return url, None
    host, port = addr
    # keep the Service's name in the Host header, as a request inside the cluster would
    return str(u.with_host(host).with_port(port)), u.host_port_subcomponent


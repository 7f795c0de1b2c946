"""Load targets: how a Service is reached from this machine.

The embedded cluster publishes, on each Service, the loopback address of each of
its ports: annotation kubelab.dev/host-ports = {"8080": "127.0.0.1:41234"}.
A real cluster has no such thing (yet): port-forward support will land here.
Self-contained on purpose: the current kubeconfig, its current context and
namespace, read the way kubectl reads them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from console.errors import UsageError

ANNOTATION = "kubelab.dev/host-ports"


class TargetError(UsageError):
    """A Service that cannot be reached from here, said in one line."""


def _kubeconfig() -> str | None:
    env = os.environ.get("KUBECONFIG")
    if env:
        for part in env.split(os.pathsep):
            if part and Path(part).expanduser().is_file():
                return str(Path(part).expanduser())
        return None
    home = Path.home() / ".kube" / "config"
    return str(home) if home.is_file() else None


def _api(kubeconfig: str):
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    cfg = client.Configuration()
    try:
        config.load_kube_config(config_file=kubeconfig, client_configuration=cfg)
        _, active = config.list_kube_config_contexts(config_file=kubeconfig)
    except (ConfigException, OSError, ValueError) as exc:
        raise TargetError(f"kubeconfig {kubeconfig}: {exc}") from None
    cfg.retries = 1  # one quick answer, not urllib3's three retries
    namespace = (active or {}).get("context", {}).get("namespace") or "default"
    return client.CoreV1Api(client.ApiClient(cfg)), namespace, cfg.host


def parse_host_ports(text: str, service: str) -> dict[str, tuple[str, int]]:
    try:
        raw = json.loads(text)
        out = {}
        for port, addr in raw.items():
            host, _, p = str(addr).rpartition(":")
            out[str(port)] = (host or "127.0.0.1", int(p))
        return out
    except (ValueError, AttributeError, TypeError):
        raise TargetError(f"service {service}: annotation {ANNOTATION} is not "
                          f'{{"<port>": "127.0.0.1:<port>"}} JSON: {text[:80]!r}') from None


def service_address(name: str, namespace: str | None, port: int) -> tuple[str, int]:
    """The loopback (host, port) that reaches Service `name` port `port`.

    Raises TargetError (exit 2) naming what is missing: a cluster, the Service,
    the port, or the published address.
    """
    kubeconfig = _kubeconfig()
    if kubeconfig is None:
        raise TargetError(f"{name!r} looks like an in-cluster name, but there is no cluster: "
                          "no KUBECONFIG and no ~/.kube/config (start one with `kubelab cluster`)")
    api, default_ns, server = _api(kubeconfig)
    ns = namespace or default_ns
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        svc = api.read_namespaced_service(name, ns, _request_timeout=10)
    except ApiException as exc:
        if exc.status == 404:
            raise TargetError(f"service {name} not found in namespace {ns} "
                              f"(cluster {server})") from None
        raise TargetError(f"service {name}: the API server at {server} said "
                          f"{exc.status} {exc.reason}") from None
    except (HTTPError, OSError) as exc:
        raise TargetError(f"service {name}: cannot reach the cluster at {server} "
                          f"({type(exc).__name__})") from None
    finally:
        api.api_client.close()
    ports = [p.port for p in (svc.spec.ports or [])]
    if ports and port not in ports:
        raise TargetError(f"service {name} has no port {port} "
                          f"(it has {', '.join(map(str, ports))})")
    annotation = (svc.metadata.annotations or {}).get(ANNOTATION)
    if not annotation:
        raise TargetError(f"service {name} is not reachable from this machine; real-cluster "
                          "access arrives with port-forward support — use kubectl "
                          "port-forward and a localhost URL")
    published = parse_host_ports(annotation, name)
    if str(port) not in published:
        raise TargetError(f"service {name}: port {port} is not published on this machine "
                          f"(published: {', '.join(sorted(published)) or 'none'})")
    return published[str(port)]

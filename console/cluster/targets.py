"""Load targets: how a Service is reached from this machine.

The embedded cluster publishes, on each Service, the loopback address of each of
its ports: annotation kubelab.dev/host-ports = {"8080": "127.0.0.1:41234"}.
A real cluster has no such thing; a load run there takes one of the paths that
`plan` (route.py) chooses between: a port-forward through the API server, the
lab's siege pod, or a LoadBalancer / NodePort address.
The kubeconfig is read by console.cluster.connect, as the console reads it; the
kubernetes client loads only when a Service is looked up.
"""

from __future__ import annotations

import json

from console.errors import UsageError

ANNOTATION = "kubelab.dev/host-ports"


class TargetError(UsageError):
    """A Service that cannot be reached from here, said in one line."""


def _connect(kubeconfig: str):
    from console.cluster.connect import from_kubeconfig

    try:
        # one quick answer, not urllib3's three retries
        conn = from_kubeconfig(kubeconfig, retries=1)
    except UsageError as exc:
        raise TargetError(f"kubeconfig {kubeconfig}: {exc.args[0]}") from None
    return conn.api, conn.namespace


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


def service_address(name: str, namespace: str | None, port: int | None,
                    api=None) -> tuple[str, int]:
    """The loopback (host, port) that reaches Service `name` port `port`.

    With `api` (a kubernetes.client.ApiClient: the console's own connection)
    the Service is read through it, in `namespace` or "default"; without it,
    through the current kubeconfig and its context's namespace, as kubectl
    would. `port` None means the Service's first port.

    Raises TargetError (exit 2) naming what is missing: a cluster, the Service,
    the port, or the published address.
    """
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    own = api is None
    if own:
        from console.cluster.connect import default_kubeconfig

        kubeconfig = default_kubeconfig()
        if kubeconfig is None:
            raise TargetError(f"{name!r} looks like an in-cluster name, but there is no cluster: "
                              "no KUBECONFIG and no ~/.kube/config (start one with `kubelab cluster`)")
        api, default_ns = _connect(kubeconfig)
    else:
        default_ns = "default"
    ns = namespace or default_ns
    server = api.configuration.host
    try:
        svc = client.CoreV1Api(api).read_namespaced_service(name, ns, _request_timeout=10)
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
        if own:
            api.close()
    ports = [p.port for p in (svc.spec.ports or [])]
    if port is None:
        if not ports:
            raise TargetError(f"service {name} has no ports")
        port = ports[0]
    if ports and port not in ports:
        raise TargetError(f"service {name} has no port {port} "
                          f"(it has {', '.join(map(str, ports))})")
    annotation = (svc.metadata.annotations or {}).get(ANNOTATION)
    if not annotation:
        raise TargetError(f"service {name} is not reachable from this machine (no address "
                          "published on it); `kubelab siege` reaches only loopback-published "
                          "Services: run the load from the console (l), which port-forwards "
                          "or uses the siege pod, or use kubectl port-forward and a localhost URL")
    published = parse_host_ports(annotation, name)
    if str(port) not in published:
        raise TargetError(f"service {name}: port {port} is not published on this machine "
                          f"(published: {', '.join(sorted(published)) or 'none'})")
    return published[str(port)]

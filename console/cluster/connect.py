"""Connect to a cluster the way kubectl does, or start the embedded one.

KUBECONFIG / --kubeconfig, --context, -n/--namespace (default: the context's
namespace, else "default"); exec-auth kubeconfigs work as far as the official
client supports them. `--embedded`, or no kubeconfig at all, starts the
embedded cluster and stops it when the connection closes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from console.errors import UsageError
from console.paths import state_dir


@dataclass
class Connection:
    api: client.ApiClient
    namespace: str
    context: str
    kubeconfig: str | None
    embedded: object | None = None          # console.embedded.launch.RunningCluster
    contexts: list[str] = field(default_factory=list)
    speed: float = 1.0                      # the cluster's clock against the wall's (embedded --speed)
    owns_embedded: bool = False             # started for this connection: close() stops it

    @property
    def real(self) -> bool:
        """A cluster someone else owns: destructive actions ask first."""
        return self.embedded is None

    @property
    def server(self) -> str:
        return self.api.configuration.host

    def close(self) -> None:
        try:
            self.api.close()
        except Exception:
            pass
        if self.embedded is not None and self.owns_embedded:
            self.embedded.stop()
        self.embedded = None

    def switch(self, namespace: str | None = None, context: str | None = None) -> Connection:
        """The same cluster in another namespace, or another context of the kubeconfig."""
        if context and context != self.context:
            new = connect(kubeconfig=self.kubeconfig, context=context, namespace=namespace)
            self.close()
            return new
        # a view: it shares the client and the cluster, and closing it stops neither's owner
        return Connection(self.api, namespace or self.namespace, self.context,
                          self.kubeconfig, self.embedded, self.contexts, self.speed)

    def take_ownership_from(self, old: Connection) -> None:
        """This connection replaces `old` (a namespace switch): it now stops the cluster."""
        if old.owns_embedded and self.embedded is old.embedded:
            self.owns_embedded, old.owns_embedded = True, False


def default_kubeconfig() -> str | None:
    """KUBECONFIG's first existing file, else ~/.kube/config if it exists."""
    env = os.environ.get("KUBECONFIG")
    if env:
        for part in env.split(os.pathsep):
            if part and Path(part).expanduser().is_file():
                return str(Path(part).expanduser())
        return None
    home = Path.home() / ".kube" / "config"
    return str(home) if home.is_file() else None


def from_kubeconfig(path: str, context: str | None = None,
                    namespace: str | None = None, retries: int | None = None) -> Connection:
    """`retries`: urllib3's retries per request (its default is three)."""
    try:
        contexts, active = config.list_kube_config_contexts(config_file=path)
    except ConfigException as exc:
        raise UsageError(str(exc).splitlines()[0], where=path) from None
    except OSError as exc:
        raise UsageError(exc.strerror or str(exc), where=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise UsageError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", where=where) from None
    except (TypeError, AttributeError, KeyError, ValueError):
        raise UsageError("not a kubeconfig (clusters/contexts/users)", where=path) from None
    names = [c["name"] for c in contexts or []]
    chosen = active
    if context:
        chosen = next((c for c in contexts if c["name"] == context), None)
        if chosen is None:
            raise UsageError(f"context {context!r} not found (have: {', '.join(names) or 'none'})",
                             where="--context")
    if not chosen:
        raise UsageError("no current-context; pass --context", where=path)
    cfg = client.Configuration()
    try:
        config.load_kube_config(config_file=path, context=chosen["name"],
                                client_configuration=cfg, persist_config=False)
    except (ConfigException, TypeError, AttributeError, KeyError, ValueError) as exc:
        raise UsageError(f"context {chosen['name']!r}: {str(exc).splitlines()[0]}", where=path) from None
    if retries is not None:
        cfg.retries = retries
    ns = namespace or (chosen.get("context") or {}).get("namespace") or "default"
    return Connection(client.ApiClient(cfg), ns, chosen["name"], path, contexts=names)


def start_embedded(namespace: str | None = None, speed: float = 1.0, nodes: int = 2) -> Connection:
    from console.embedded import launch  # only when needed: it starts a process

    path = str(state_dir() / "embedded-kubeconfig")
    running = launch.start(speed=speed, nodes=nodes, kubeconfig=path)
    try:
        conn = from_kubeconfig(str(running.kubeconfig), namespace=namespace)
    except Exception:
        running.stop()
        raise
    conn.embedded = running
    conn.owns_embedded = True
    conn.speed = speed
    return conn


def connect(kubeconfig: str | None = None, context: str | None = None,
            namespace: str | None = None, embedded: bool = False,
            speed: float = 1.0, nodes: int = 2) -> Connection:
    if embedded:
        return start_embedded(namespace, speed, nodes)
    if kubeconfig:
        if not Path(kubeconfig).expanduser().is_file():
            raise UsageError("no such file (or not a regular file)", where=f"--kubeconfig {kubeconfig}")
        return from_kubeconfig(str(Path(kubeconfig).expanduser()), context, namespace)
    path = default_kubeconfig()
    if path is None:
        if context:
            raise UsageError("no kubeconfig found (KUBECONFIG, ~/.kube/config)", where="--context")
        return start_embedded(namespace, speed, nodes)
    return from_kubeconfig(path, context, namespace)

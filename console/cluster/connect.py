"""Connect to a cluster the way kubectl does, or start the embedded one.

KUBECONFIG / --kubeconfig, --context, -n/--namespace (default: the context's
namespace, else "default"); exec-auth kubeconfigs work as far as the official
client supports them. `--embedded`, or no kubeconfig at all, starts the
embedded cluster and stops it when the connection closes.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from kubernetes import client, config
from kubernetes.client import rest
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from console.cluster.errors import credential_problem
from console.errors import UsageError
from console.paths import open_private, state_dir


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
    fingerprint: bytes = b""                # the kubeconfig's content when it was loaded
    generation: int = 0                     # +1 at each reload: what was read before is void
    claim: object | None = None             # the open lock file of the embedded kubeconfig's slot
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

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
        if self.claim is not None:
            self.claim.close()
            self.claim = None

    def refresh(self, exc: BaseException | None = None) -> bool:
        """Re-read the kubeconfig when it changed, as kubectl reads it afresh each time.

        A restarted embedded cluster writes a new CA, token and port to the same file; a
        rotated credential changes the file too; an exec plugin (exec/auth-provider) gives a
        new token when run again, so a 401 reloads such a user even if the file is the same.
        The new server and credentials go into this very ApiClient, so every informer and
        action uses them at its next request. True when something new was loaded.
        """
        if not self.kubeconfig:
            return False
        with self._lock:
            try:
                data = Path(self.kubeconfig).read_bytes()
            except OSError:
                return False
            digest = hashlib.sha256(data).digest()
            rerun = (isinstance(exc, ApiException) and exc.status == 401 and _runs_a_plugin(
                data, self.context))
            if digest == self.fingerprint and not rerun:
                return False
            try:
                cfg = _load(self.kubeconfig, self.context)
            except UsageError:
                return False  # half-written or broken: keep what works, try again later
            old = self.api.rest_client
            self.api.configuration = cfg
            self.api.rest_client = rest.RESTClientObject(cfg)
            self.fingerprint = digest
            self.generation += 1
            try:
                old.pool_manager.clear()
            except Exception:
                pass
            return True

    def problem(self, exc: BaseException) -> str | None:
        """What is wrong with this kubeconfig, and what to do, when `exc` says so."""
        what = credential_problem(exc)
        if what is None:
            return None
        where = f"{self.kubeconfig} (context {self.context})" if self.kubeconfig else self.context
        if self.embedded is not None:
            return f"{what}: the embedded cluster was restarted or replaced; quit and start kubelab again"
        if what.startswith("credentials refused") and self.kubeconfig:
            from console.cluster import execauth
            plugin = execauth.diagnose(self.kubeconfig, self.context)
            if plugin:
                return f"{what}: {plugin}"
        if what.startswith("credentials refused"):
            return (f"{what}: renew the user's credentials in {where} (kubectl gets the same "
                    "401); kubelab re-reads the file")
        return (f"{what}: the server is not the one {where} trusts; fix its "
                "certificate-authority(-data), or the server address; kubelab re-reads the file")

    def switch(self, namespace: str | None = None, context: str | None = None) -> Connection:
        """The same cluster in another namespace, or another context of the kubeconfig."""
        if context and context != self.context:
            new = connect(kubeconfig=self.kubeconfig, context=context, namespace=namespace)
            self.close()
            return new
        # a view: it shares the client and the cluster, and closing it stops neither's owner
        return Connection(self.api, namespace or self.namespace, self.context,
                          self.kubeconfig, self.embedded, self.contexts, self.speed,
                          fingerprint=self.fingerprint, generation=self.generation,
                          _lock=self._lock)

    def take_ownership_from(self, old: Connection) -> None:
        """This connection replaces `old` (a namespace switch): it now stops the cluster."""
        if old.owns_embedded and self.embedded is old.embedded:
            self.owns_embedded, old.owns_embedded = True, False
            self.claim, old.claim = old.claim, None


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


def kubectl_env(conn) -> str:
    """What to type in another terminal so kubectl talks to this console's cluster:
    `export KUBECONFIG=...` when that is not the kubeconfig kubectl already reads
    (the embedded cluster the console started, a --kubeconfig of its own); else ""."""
    path = getattr(conn, "kubeconfig", None)
    if not path or path == default_kubeconfig():
        return ""
    home = str(Path.home())
    if path.startswith(home + os.sep):
        return "export KUBECONFIG=~/" + shlex.quote(path[len(home) + 1:])
    return "export KUBECONFIG=" + shlex.quote(path)


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
    if not isinstance(contexts, list) or not all(
            isinstance(c, dict) and isinstance(c.get("name"), str) for c in contexts):
        raise UsageError("contexts: each needs a name (a string) and a context", where=path)
    names = [c["name"] for c in contexts]
    chosen = active
    if context:
        chosen = next((c for c in contexts if c["name"] == context), None)
        if chosen is None:
            raise UsageError(f"context {context!r} not found (have: {', '.join(names) or 'none'})",
                             where="--context")
    if not chosen:
        raise UsageError("no current-context; pass --context", where=path)
    try:
        fingerprint = hashlib.sha256(Path(path).read_bytes()).digest()
    except OSError as exc:
        raise UsageError(exc.strerror or str(exc), where=path) from None
    cfg = _load(path, chosen["name"])
    if retries is not None:
        cfg.retries = retries
    body = chosen.get("context")
    ns = namespace or (body.get("namespace") if isinstance(body, dict) else None) or "default"
    if not isinstance(ns, str):
        raise UsageError(f"context {chosen['name']!r}: namespace must be a string, not {ns!r}",
                         where=path)
    return Connection(client.ApiClient(cfg), ns, chosen["name"], path, contexts=names,
                      fingerprint=fingerprint)


def _load(path: str, context: str) -> client.Configuration:
    """A context of a kubeconfig as a client Configuration; UsageError naming the file."""
    from console.cluster import execauth
    cfg = client.Configuration()
    try:
        with execauth.watching() as logged:     # a failing exec plugin is only logged
            config.load_kube_config(config_file=path, context=context,
                                    client_configuration=cfg, persist_config=False)
    except (ConfigException, TypeError, AttributeError, KeyError, ValueError) as exc:
        raise UsageError(f"context {context!r}: {str(exc).splitlines()[0]}", where=path) from None
    if logged:
        plugin = execauth.user_exec(path, context)
        why = execauth.explain(*plugin, logged) if plugin else None
        raise UsageError(f"context {context!r}: {why or logged[0].splitlines()[0][:300]}",
                         where=path)
    url = urlsplit(cfg.host or "")
    try:
        url.port
        ok = url.scheme in ("http", "https") and bool(url.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise UsageError(f"context {context!r}: the cluster's server {cfg.host!r} is not a URL "
                         "(expected https://HOST[:PORT])", where=path)
    return cfg


def _runs_a_plugin(data: bytes, context: str) -> bool:
    """Whether the context's user gets its token from an exec plugin or auth provider."""
    try:
        doc = yaml.safe_load(data) or {}
        ctx = next(c for c in doc.get("contexts") or [] if c.get("name") == context)
        user = next(u for u in doc.get("users") or []
                    if u.get("name") == (ctx.get("context") or {}).get("user"))
        return bool({"exec", "auth-provider"} & set(user.get("user") or {}))
    except (yaml.YAMLError, StopIteration, AttributeError, TypeError):
        return False


def check(conn: Connection) -> None:
    """Before the console opens: UsageError (exit 2) when the kubeconfig cannot work —
    credentials refused (401) or a server certificate its CA does not verify. A server
    that does not answer yet is left to the console, which reconnects."""
    try:
        client.CoreApi(conn.api).get_api_versions(_request_timeout=15)
    except Exception as exc:
        problem = credential_problem(exc)
        if problem is not None and problem.startswith("credentials refused") and conn.kubeconfig:
            from console.cluster import execauth
            plugin = execauth.diagnose(conn.kubeconfig, conn.context)
            problem = f"{problem}: {plugin}" if plugin else problem
        if problem is not None:
            raise UsageError(f"{problem}; kubectl would fail the same way (kubectl --context "
                             f"{conn.context} get pods)", where=f"{conn.kubeconfig} (context {conn.context})") from None


def embedded_slot(base: Path | None = None) -> tuple[Path, object]:
    """A kubeconfig path for an embedded cluster that no other console's cluster holds:
    `embedded-kubeconfig`, else `embedded-kubeconfig-2`, ... (two consoles started with
    --embedded each keep their own; the second used to rewrite the first's). Held by
    an flock on `<path>.lock` while the returned file stays open; the kernel lets go
    of it when the console ends however it ends."""
    base = base or state_dir()
    for n in range(1, 100):
        path = base / ("embedded-kubeconfig" if n == 1 else f"embedded-kubeconfig-{n}")
        claim = os.fdopen(open_private(path.with_name(path.name + ".lock"), os.O_WRONLY), "w")
        try:
            fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            claim.close()
            continue
        return path, claim
    raise UsageError("99 embedded clusters are running already", where=str(base))


def start_embedded(namespace: str | None = None, speed: float = 1.0, nodes: int = 2) -> Connection:
    from console.embedded import launch  # only when needed: it starts a process

    path, claim = embedded_slot()
    try:
        running = launch.start(speed=speed, nodes=nodes, kubeconfig=path)
    except BaseException:
        claim.close()
        raise
    try:
        conn = from_kubeconfig(str(running.kubeconfig), namespace=namespace)
    except BaseException:
        running.stop()
        claim.close()
        raise
    conn.embedded = running
    conn.owns_embedded = True
    conn.speed = speed
    conn.claim = claim
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

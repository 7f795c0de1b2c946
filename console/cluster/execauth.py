"""Exec credential plugins (`aws eks get-token`, gke-gcloud-auth-plugin, kubelogin):
run by the official client as it supports them, their failures said in one line.

The kubernetes client runs a user's `exec` plugin while it loads the kubeconfig;
when the plugin is missing or fails it only logs the error and goes on without
credentials, so the first request comes back 401 with no word of why. Here the
load is watched (`watching()` collects what the client logged) and the words
are kubectl's ("getting credentials: exec: executable aws not found"), with the
kubeconfig's installHint or a hint for the well-known plugins. After a 401 the
plugin is run again (`diagnose`) to tell an expired credential from a refused one.
"""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import datetime, timezone

import yaml

HINTS = {
    "aws": "install the AWS CLI v2 (https://aws.amazon.com/cli/); `aws eks update-kubeconfig` "
           "writes this user",
    "aws-iam-authenticator": "install aws-iam-authenticator, or use `aws eks update-kubeconfig`",
    "gke-gcloud-auth-plugin": "gcloud components install gke-gcloud-auth-plugin",
    "kubelogin": "az aks install-cli (it installs kubelogin), then kubelogin convert-kubeconfig",
    "oidc-login": "kubectl krew install oidc-login",
    "kubectl-oidc_login": "kubectl krew install oidc-login",
}
LOGIN = {
    "aws": "aws sso login (or refresh the AWS profile's keys)",
    "gke-gcloud-auth-plugin": "gcloud auth login",
    "kubelogin": "az login",
}
DOCS = "https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins"


class _Collect(logging.Filter):
    """On the root logger: takes the kubernetes config loader's records, passes the rest."""

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if "/kubernetes/config/" in record.pathname.replace("\\", "/"):
            self.messages.append(record.getMessage())
            return False
        return True


@contextlib.contextmanager
def watching():
    """What the kubernetes client logs while it loads a kubeconfig (it logs a failed exec
    plugin with logging.error instead of raising), kept off the terminal."""
    root = logging.getLogger()
    collect = _Collect()
    root.addFilter(collect)
    try:
        yield collect.messages
    finally:
        root.removeFilter(collect)


def user_exec(path: str, context: str) -> tuple[str, dict] | None:
    """(user name, its exec section) for the context, or None."""
    try:
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
        ctx = next(c for c in doc.get("contexts") or [] if c.get("name") == context)
        name = (ctx.get("context") or {}).get("user")
        user = next(u for u in doc.get("users") or [] if u.get("name") == name)
        section = (user.get("user") or {}).get("exec")
        return (name, section) if isinstance(section, dict) else None
    except (OSError, yaml.YAMLError, StopIteration, AttributeError, TypeError):
        return None


def _hint(section: dict) -> str:
    command = str(section.get("command") or "")
    base = command.rsplit("/", 1)[-1]
    return section.get("installHint") or HINTS.get(base) or f"install {base} or fix the command"


def explain(user: str, section: dict, messages: list[str]) -> str | None:
    """kubectl's words for what the client logged while running the plugin."""
    command = str(section.get("command") or "?")
    where = f"users[{user}].user.exec"
    for text in messages:
        if "No such file or directory" in text or "not found" in text.lower() and command in text:
            return (f"getting credentials: exec: executable {command} not found ({where}): the "
                    f"credential plugin is not installed — {_hint(section).strip()} ({DOCS})")
        m = re.match(r"exec: process returned (-?\d+)\.?\s*(.*)", text, re.S)
        if m:
            said = " ".join(m.group(2).split())[:400] or "(nothing on stderr)"
            return (f"getting credentials: exec: executable {command} failed with exit code "
                    f"{m.group(1)} ({where}): {said}")
        if text.startswith("exec:"):
            return f"getting credentials: {text.strip()[:400]} ({where}, command {command})"
        if "Permission denied" in text:
            return f"getting credentials: exec: {command} is not executable ({where})"
    return None


def diagnose(path: str, context: str) -> str | None:
    """After a 401 with an exec user: run its plugin again and say what it gives."""
    found = user_exec(path, context)
    if found is None:
        return None
    user, section = found
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.exec_provider import ExecProvider
    from kubernetes.config.kube_config import ConfigNode

    try:
        status = ExecProvider(ConfigNode("exec", section), None).run()
    except (ConfigException, OSError) as exc:
        return explain(user, section, [str(exc)]) or f"getting credentials: {exc}"
    stamp = status.get("expirationTimestamp") if isinstance(status, dict) else None
    if stamp:
        try:
            when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None and when <= datetime.now(timezone.utc):
            base = str(section.get("command") or "").rsplit("/", 1)[-1]
            again = LOGIN.get(base, "log in again with the tool that issues them")
            return (f"the credentials from {section.get('command')} expired at {stamp} "
                    f"(users[{user}].user.exec): {again}")
    return (f"the API server refused the token from {section.get('command')} "
            f"(users[{user}].user.exec): the identity it gives has no access to this cluster")

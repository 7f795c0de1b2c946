"""The catalog of simulated apps, chosen by image (or the pod annotation
`kubelab.dev/app`). To add an app: write a module with an App subclass and add
a rule here. First matching rule wins."""

import re

from console.embedded.apps.base import App, Context, Request, Response
from console.embedded.apps.busybox import AlpineApp, DebianShellApp, ShellApp
from console.embedded.apps.gateway import GatewayApp
from console.embedded.apps.generic import GenericApp
from console.embedded.apps.hostname import FlaskHostnameApp
from console.embedded.apps.istio import IstioProxyApp
from console.embedded.apps.kubeproxy import KubeProxyApp
from console.embedded.apps.metricsserver import MetricsServerApp
from console.embedded.apps.nginx import NginxApp
from console.embedded.apps.order import OrderApp
from console.embedded.apps.rest import SERVICES, RestApp
from console.embedded.apps.siege import SiegeApp

# the labs' Spring Data REST services, one class each (rest.py)
REST = {name: type(f"{name.capitalize()}App", (RestApp,), {"kind": name, "service": svc})
        for name, svc in SERVICES.items()}

BY_NAME = {"order": OrderApp, "nginx": NginxApp, "busybox": ShellApp, "alpine": AlpineApp,
           "debian": DebianShellApp, "siege": SiegeApp, "http": GenericApp,
           "istio-proxy": IstioProxyApp, "gateway": GatewayApp,
           "metrics-server": MetricsServerApp, "kube-proxy": KubeProxyApp,
           "hostname": FlaskHostnameApp, **REST}

# (pattern on the image's repository path without registry and tag, app)
RULES = [
    (r"(^|/)(proxyv2|istio-proxy)$", IstioProxyApp),
    (r"(^|/)order[^/]*$|(^|/)(order-liveness|order-.*)$", OrderApp),
    (r"(^|/)nginx[^/]*$", NginxApp),
    (r"(^|/)busybox$", ShellApp),
    (r"(^|/)alpine$", AlpineApp),
    (r"(^|/)(ubuntu|debian)$", DebianShellApp),
    (r"siege", SiegeApp),
    (r"(^|/)metrics-server$", MetricsServerApp),
    (r"(^|/)kube-proxy$", KubeProxyApp),
    (r"(^|/)([^/]*[-_])?gateway$", GatewayApp),
    (r"(^|/)hostname$", FlaskHostnameApp),        # document 003's Flask app
] + [(rf"(^|/)([^/]*[-_])?{name}$", cls) for name, cls in REST.items()]

SHELLS = {"sh", "bash", "ash", "dash"}


def repository(image: str) -> str:
    """docker.io/library/nginx:1.17 -> nginx; ghcr.io/acmexii/order-liveness -> acmexii/order-liveness"""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: name.rfind(":")]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def choose(image: str, spec: dict, annotations: dict) -> type[App]:
    forced = annotations.get("kubelab.dev/app")
    if forced in BY_NAME:
        return BY_NAME[forced]
    repo = repository(image)
    app = next((cls for pat, cls in RULES if re.search(pat, repo)), GenericApp)
    command = spec.get("command") or []
    if command and isinstance(command[0], str) and command[0] in app.entrypoints:
        return app    # the image's own program, named by its path (kube-proxy's manifest)
    if spec.get("command") and not issubclass(app, ShellApp):
        # the image's entrypoint is replaced: what runs is the command, not the server
        return ShellApp if app is GenericApp else type(f"{app.__name__}Command", (ShellApp,),
                                                       {"flavor": app.flavor})
    return app


def start(ctx: Context) -> App:
    return choose(ctx.image, ctx.spec, ctx.annotations)(ctx)


__all__ = ["App", "Context", "Request", "Response", "choose", "start", "repository", "BY_NAME"]

"""What each key does: fill a catalogue action's parameters (from the selection, or
a dialog), ask first on a real cluster when it is destructive, then run it through
the session in a thread worker.

A mixin of the App so that app.py stays about layout and data flow.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from textual import work

from console import bus
from console.cluster import catalogue
from console.cluster.connect import kubectl_env
from console.errors import UsageError
from console.paths import manifests_dir
from console.ui.messages import ActionFinished
from console.ui.screens.dialogs import AutoscaleDialog, ConfirmDialog, FilterDialog, PickDialog
from console.ui.screens.help import HelpScreen

IMAGES = ["ghcr.io/acmexii/order-liveness:latest", "jinyoung/order:stable",
          "jinyoung/order:canary", "nginx:1.17.0", "nginx:latest"]


def variants_of(folder, deployment: str) -> list:
    """The labs' manifests that roll this Deployment out (a Deployment of that name in them)."""
    from console.cluster import rest
    out = []
    for path in sorted(folder.rglob("*.yaml")) if folder.is_dir() else []:
        try:
            docs = rest.load_manifest(path)
        except Exception:
            continue
        if any(d.get("kind") == "Deployment" and (d.get("metadata") or {}).get("name") == deployment
               for d in docs):
            out.append(path)
    return out


class Controls:
    """Mixed into KubelabApp."""

    refused: dict = {}       # action -> why this user may not (bus.Permissions)

    def permissions(self, ev) -> None:
        """What this user may not do here: those keys grey out, and the console says why once."""
        self.refused = dict(ev.refused)
        self.refresh_bindings()
        if ev.refused:
            who = f"as {ev.user}" if ev.user else "with these credentials"
            why = sorted(set(ev.refused.values()))
            more = f" (+{len(why) - 3} more)" if len(why) > 3 else ""
            self.notify(f"{who} in namespace {ev.namespace}: {', '.join(why[:3])}{more}; "
                        f"those keys are greyed out (? lists them)", title="permissions",
                        severity="warning", timeout=10)

    # --- plumbing ----------------------------------------------------------------
    def act(self, name: str, /, **params) -> None:
        """Run catalogue action `name` off the UI thread; ask first where it says so."""
        if self.conn is None:
            self.notify("not connected to a cluster", severity="error")
            return
        question = catalogue.get(name).question(params, self.state)
        if question and self.conn.real:
            def answered(yes: bool | None) -> None:
                if yes:
                    self._run_action(name, params)
            self.push_screen(ConfirmDialog(f"{question} on {self.conn.context}?"), answered)
            return
        self._run_action(name, params)

    @work(thread=True, group="actions", exit_on_error=False)
    def _run_action(self, name: str, params: dict) -> None:
        with self.spawnable():
            result = self.session.act(name, **params)
        self.post_message(ActionFinished(name, result.ok, result.message))

    def need_deployment(self) -> str | None:
        dep = self.deployment
        if dep is None:
            self.notify("no Deployment in this namespace", severity="warning")
        return dep

    def service_for(self, dep: str) -> str:
        services = self.state.service_names()
        return dep if dep in services else (services[0] if services else dep)

    def fill(self, act: catalogue.Action, params: dict) -> dict | None:
        """The parameters the selection gives (deployment, pod, service); None if one is missing."""
        out = dict(params)
        for p in act.params:
            if p.name in out or not p.fills:
                continue
            if p.fills == "pod":
                pod = self.selected_pod()
                if pod is None:
                    self.notify("select a pod first (arrow keys)", severity="warning")
                    return None
                out[p.name] = pod
                continue
            dep = self.need_deployment()
            if dep is None:
                return None
            out[p.name] = dep if p.fills == "deployment" else self.service_for(dep)
        return out

    # --- keys ----------------------------------------------------------------------
    def action_do(self, name: str, args: dict | None = None) -> None:
        """A catalogue action's key: its dialog if it has one, else straight from the selection."""
        dialog = getattr(self, f"ask_{catalogue.snake(name).replace('.', '_')}", None)
        if dialog is not None:
            dialog(dict(args or {}))
            return
        params = self.fill(catalogue.get(name), dict(args or {}))
        if params is not None:
            self.act(name, **params)

    def action_fault(self, name: str) -> None:
        params = self.fill(catalogue.get(name), {})
        if params is not None:
            self.act(name, **params)

    def ask_set_image(self, args: dict) -> None:
        dep = self.need_deployment()
        if not dep:
            return
        ro = self.state.rollout(dep)
        seen = [img for _, img, _ in (ro.history if ro else [])]
        choices = [(img, f"{img}{'  (current)' if ro and img == ro.image else ''}")
                   for img in dict.fromkeys(seen[::-1] + IMAGES)]
        folder = manifests_dir()
        choices += [(f"manifest:{p}", f"apply manifests/{p.relative_to(folder)}")
                    for p in variants_of(folder, dep)]

        def chosen(value: str | None) -> None:
            if not value:
                return
            if value.startswith("manifest:"):
                self.act("apply", file=value.split(":", 1)[1])
            else:
                self.act("setImage", deployment=dep, image=value)
        self.push_screen(PickDialog(f"Roll out deployment/{dep}: image or manifest", choices,
                                    placeholder="another image, e.g. jinyoung/order:canary"), chosen)

    def ask_metrics_install(self, args: dict) -> None:
        """M: metrics-server from the class's copy (--metrics-manifest), a copy lying here
        or in the lab's manifests, the published manifest, or a file or URL typed in."""
        from console.cluster import addons
        if args.get("source"):
            self.act("metrics.install", **args)
            return
        here, folder = Path.cwd(), manifests_dir()

        def shown(path: Path) -> str:
            for base, prefix in ((here, ""), (folder, "manifests/")):
                if path.is_relative_to(base):
                    return prefix + str(path.relative_to(base))
            return str(path)

        def what(source: str) -> str:
            try:
                return addons.describe(addons.read(source))
            except UsageError as exc:
                return f"will not do: {exc.args[0]}"
        given = self.session.metrics_manifest
        choices = []
        if given and not addons.is_url(given):
            choices.append((given, f"{shown(Path(given))}  (--metrics-manifest; {what(given)})"))
        elif given:
            choices.append((given, f"{given}  (--metrics-manifest)"))
        choices += [(str(p), f"{shown(p)}  ({what(str(p))})")
                    for p in addons.local_copies(here, folder) if str(p) != given]
        if given != addons.METRICS_SERVER:
            choices.append((addons.METRICS_SERVER, "the published manifest (latest release, "
                            "needs the network)"))

        def source_of(value: str) -> str:
            if addons.is_url(value):
                return value
            return str(Path(self.session.resolve_file(os.path.expanduser(value))).absolute())

        def check(value: str) -> str | None:
            if addons.is_url(value):
                return None        # fetched by the action: a failure is its message
            try:
                addons.read(source_of(value))
            except UsageError as exc:
                return str(exc)
            return None

        def chosen(value: str | None) -> None:
            if value:
                self.act("metrics.install", **{**args, "source": source_of(value)})
        self.push_screen(PickDialog("Install metrics-server from", choices, check=check,
                                    placeholder="another file or URL, e.g. ~/components.yaml"), chosen)

    def ask_autoscale(self, args: dict) -> None:
        dep = self.need_deployment()
        if not dep:
            return
        hpa = next((h for h in self.state.hpas() if h["metadata"]["name"] == dep), None)
        spec = (hpa or {}).get("spec", {})
        cpu = 50
        for m in spec.get("metrics") or []:
            cpu = ((m.get("resource") or {}).get("target") or {}).get("averageUtilization", cpu)

        def chosen(value) -> None:
            if not value:
                return
            what, lo, hi, pct = value
            if what == "delete":
                self.act("delete", kind="hpa", name=dep)
            else:
                self.act("autoscale", deployment=dep, min=lo, max=hi, cpuPercent=pct)
        self.push_screen(AutoscaleDialog(dep, spec.get("minReplicas", 1),
                                         spec.get("maxReplicas", 3), cpu), chosen)

    def action_faults(self) -> None:
        dep = self.need_deployment()
        if not dep:
            return
        svc = self.service_for(dep)
        menu = {a.name: a for a in catalogue.menu("faults")}

        def params_of(act):
            return {p.name: dep if p.fills == "deployment" else svc for p in act.params if p.fills}

        def chosen(name: str | None) -> None:
            if name in self.refused:
                self.notify(f"{menu[name].title}: {self.refused[name]}", severity="warning")
            elif name in menu:
                self.act(name, **params_of(menu[name]))

        def line(n, a):
            text = a.describe(params_of(a))
            return f"{text}  ({self.refused[n]})" if n in self.refused else text
        self.push_screen(PickDialog("Faults", [(n, line(n, a)) for n, a in menu.items()],
                                    free=False), chosen)

    def _refusal_of(self, action: str) -> str:
        m = re.match(r"(?:do|fault)\('([^']+)'", action)
        return self.refused.get(m.group(1), "") if m else ""

    def action_filter(self) -> None:
        table = self.pods_table

        def chosen(text: str | None) -> None:
            if text is not None:
                table.set_filter(text)
        self.push_screen(FilterDialog(table.filter), chosen)

    def action_help(self) -> None:
        keys = []
        for b in [*self.BINDINGS, *self.pods_table.BINDINGS]:
            if b.description:
                why = self._refusal_of(b.action)
                keys.append((b.key_display or b.key.split(",")[0],
                             f"{b.description} — {why}" if why else b.description))
        keys.append(("ctrl+p", "Command palette (every action)"))
        self.push_screen(HelpScreen(keys, kubectl_env(self.conn) if self.conn else ""))

    def action_switch(self) -> None:
        if self.conn is not None:
            self._list_namespaces()

    @work(thread=True, group="switch", exclusive=True, exit_on_error=False)
    def _list_namespaces(self) -> None:
        """The namespaces to offer (a 403 here just means: type one)."""
        from console.cluster import rest
        try:
            body = rest.call(self.conn.api, "GET", "/api/v1/namespaces")
            names = sorted(n["metadata"]["name"] for n in body.get("items") or [])
        except Exception:
            names = []
        self.call_from_thread(self._show_switch, names)

    def _show_switch(self, namespaces: list[str]) -> None:
        choices = [(f"ns:{ns}", f"namespace {ns}") for ns in namespaces if ns != self.conn.namespace]
        choices += [(f"ctx:{c}", f"context {c}") for c in self.conn.contexts if c != self.conn.context]

        def chosen(value: str | None) -> None:
            if not value:
                return
            if value.startswith("ctx:"):
                self.switch_to(context=value[4:])
            else:
                self.switch_to(namespace=value.removeprefix("ns:"))
        self.push_screen(PickDialog(f"Switch (now {self.conn.context} / {self.conn.namespace})",
                                    choices, placeholder="a namespace, or ctx:NAME"), chosen)

    def switch_to(self, namespace=None, context=None) -> None:
        try:
            self.session.switch(namespace=namespace, context=context)
        except Exception as exc:
            self.notify(str(exc), title="switch", severity="error")
            return
        self.offered_workload = False
        self.pods_table.clear()
        self.refresh_status()

    def maybe_offer_workload(self) -> None:
        """An empty namespace: offer the lab workload (w), without getting in the way."""
        self.offered_workload = True
        if self.state.objects["deployments"] or self.state.objects["pods"]:
            return
        if not (manifests_dir() / "order.yaml").is_file():
            return
        self.workload_offered = True
        self.last_message = f"namespace {self.conn.namespace} is empty: w applies the lab workload"
        self.notify(f"Namespace {self.conn.namespace} is empty. Press w to apply the lab workload "
                    "(manifests/order.yaml).", title="empty namespace", timeout=10)
        self.refresh_status()
        self.refresh_bindings()

    def offer_workload_later(self) -> None:
        """Free play chosen in the picker: the offer may come now."""
        self.offer_allowed = True
        if not self.offered_workload and {"deployments", "pods"} <= self.state.synced:
            self.maybe_offer_workload()

    def action_mark(self) -> None:
        """A step marker on the tape, by hand: a replay's ] / [ and g reach it, and
        --export takes its picture (titled after what the console last said)."""
        self.marks += 1
        mark = f"mark-{self.marks}"
        self.bus.publish(bus.Marker(id=mark, title=self.last_message or "marked by hand"))
        self.notify(f"{mark} on the tape: a step of its replay", title="marked")

    def action_workload(self) -> None:
        if self.workload_offered:
            self.workload_offered = False
            self.refresh_bindings()
            self.act("apply", file=str(manifests_dir() / "order.yaml"))

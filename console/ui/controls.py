"""What each key does: dialogs first, then a cluster action in a thread worker.

A mixin of the App so that app.py stays about layout and data flow.
"""

from __future__ import annotations

from pathlib import Path

from textual import work

from console.cluster import actions, faults
from console.ui.messages import ActionFinished
from console.ui.screens.dialogs import AutoscaleDialog, ConfirmDialog, FilterDialog, PickDialog
from console.ui.screens.help import HelpScreen

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
IMAGES = ["ghcr.io/acmexii/order-liveness:latest", "jinyoung/order:stable",
          "jinyoung/order:canary", "nginx:1.17.0", "nginx:latest"]


class Controls:
    """Mixed into KubelabApp."""

    # --- plumbing ----------------------------------------------------------------
    def act(self, title: str, fn, *args, confirm: str | None = None) -> None:
        """Run fn(conn, *args) off the UI thread; ask first on a real cluster."""
        if self.conn is None:
            self.notify("not connected to a cluster", severity="error")
            return
        if confirm and self.conn.real:
            def answered(yes: bool | None) -> None:
                if yes:
                    self._run_action(title, fn, args)
            self.push_screen(ConfirmDialog(f"{confirm} on {self.conn.context}?"), answered)
            return
        self._run_action(title, fn, args)

    @work(thread=True, group="actions", exit_on_error=False)
    def _run_action(self, title: str, fn, args) -> None:
        from console import bus
        result = fn(self.conn, *args)
        self.bus.publish(bus.ActionDone(action=title, ok=result.ok, message=result.message))
        self.post_message(ActionFinished(title, result.ok, result.message))

    def need_deployment(self) -> str | None:
        dep = self.deployment
        if dep is None:
            self.notify("no Deployment in this namespace", severity="warning")
        return dep

    # --- keys ----------------------------------------------------------------------
    def action_scale(self, delta: int) -> None:
        dep = self.need_deployment()
        if dep:
            confirm = f"Scale deployment/{dep} to 0" if delta < 0 else None
            d = self.state.objects["deployments"]
            cur = next((o["spec"].get("replicas", 1) for o in d.values()
                        if o["metadata"]["name"] == dep), 1)
            self.act("scale", actions.scale_by, dep, delta,
                     confirm=confirm if cur + delta <= 0 else None)

    def action_kill(self) -> None:
        pod = self.selected_pod()
        if pod is None:
            self.notify("select a pod first (arrow keys)", severity="warning")
            return
        self.act("kill", actions.delete_pod, pod, confirm=f"Delete pod {pod}")

    def action_undo(self) -> None:
        dep = self.need_deployment()
        if dep:
            self.act("undo", actions.rollout_undo, dep, confirm=f"Roll back deployment/{dep}")

    def action_rollout(self) -> None:
        dep = self.need_deployment()
        if not dep:
            return
        ro = self.state.rollout(dep)
        seen = [img for _, img, _ in (ro.history if ro else [])]
        choices = [(img, f"{img}{'  (current)' if ro and img == ro.image else ''}")
                   for img in dict.fromkeys(seen[::-1] + IMAGES)]
        variants = sorted(MANIFESTS.glob("*.yaml")) if MANIFESTS.is_dir() else []
        choices += [(f"manifest:{p}", f"apply manifests/{p.name}") for p in variants]

        def chosen(value: str | None) -> None:
            if not value:
                return
            if value.startswith("manifest:"):
                self.act("apply", actions.apply, value.split(":", 1)[1])
            else:
                self.act("rollout", actions.set_image, dep, value)
        self.push_screen(PickDialog(f"Roll out deployment/{dep}: image or manifest", choices,
                                    placeholder="another image, e.g. jinyoung/order:canary"), chosen)

    def action_autoscale(self) -> None:
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
                self.act("autoscale", actions.delete_hpa, dep, confirm=f"Delete HPA {dep}")
            else:
                self.act("autoscale", actions.autoscale, dep, lo, hi, pct)
        self.push_screen(AutoscaleDialog(dep, spec.get("minReplicas", 1),
                                         spec.get("maxReplicas", 3), cpu), chosen)

    def fault_choices(self, dep: str, svc: str) -> dict:
        return {
            "liveness-down": (f"liveness down: PUT {svc}:8080/actuator/down", faults.liveness_down, svc),
            "liveness-up": (f"liveness up: PUT {svc}:8080/actuator/up", faults.liveness_up, svc),
            "readiness-break": (f"readiness break: probe {dep} at a failing path", faults.readiness_break, dep),
            "readiness-fix": (f"readiness fix: restore {dep}'s probe", faults.readiness_fix, dep),
            "dep-down": (f"take {dep} down (scale to 0)", faults.dependency_down, dep),
            "dep-up": (f"bring {dep} back", faults.dependency_up, dep),
            "circuit-breaker": (f"mesh: circuit breaker on {svc}", faults.circuit_breaker, svc),
            "retries": (f"mesh: retries (3 x 2s) on {svc}", faults.retries, svc),
            "delay": (f"mesh: inject 3s delay on {svc}", faults.delay, svc),
            "abort": (f"mesh: abort 50% with 503 on {svc}", faults.abort, svc),
            "mesh-clear": (f"mesh: remove kubelab rules for {svc}", faults.mesh_clear, svc),
        }

    def action_faults(self) -> None:
        dep = self.need_deployment()
        if not dep:
            return
        services = self.state.service_names()
        svc = dep if dep in services else (services[0] if services else dep)
        menu = self.fault_choices(dep, svc)

        def chosen(key: str | None) -> None:
            if key in menu:
                label, fn, arg = menu[key]
                risky = key in ("liveness-down", "readiness-break", "dep-down", "abort", "delay")
                self.act(key, fn, arg, confirm=label if risky else None)
        self.push_screen(PickDialog("Faults", [(k, v[0]) for k, v in menu.items()], free=False),
                         chosen)

    def action_filter(self) -> None:
        table = self.pods_table

        def chosen(text: str | None) -> None:
            if text is not None:
                table.set_filter(text)
        self.push_screen(FilterDialog(table.filter), chosen)

    def action_help(self) -> None:
        keys = []
        for b in self.BINDINGS:
            keys.append((b.key_display or b.key.split(",")[0], b.description))
        keys.append(("ctrl+p", "Command palette (every action)"))
        self.push_screen(HelpScreen(keys))

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
        from console.cluster.state import ClusterState
        try:
            new = self.conn.switch(namespace=namespace, context=context)
        except Exception as exc:
            self.notify(str(exc), title="switch", severity="error")
            return
        self.stop_watches()
        self.conn = new
        self.state = ClusterState()
        self.offered_workload = False
        table = self.pods_table
        table.clear()
        table.printed.clear()
        table.sync({})
        self.start_watches()
        self.refresh_status()

    def maybe_offer_workload(self) -> None:
        self.offered_workload = True
        if self.state.objects["deployments"] or self.state.objects["pods"]:
            return
        manifest = MANIFESTS / "order.yaml"
        if not manifest.is_file():
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_action("apply", actions.apply, (str(manifest),))
        self.push_screen(ConfirmDialog(f"Namespace {self.conn.namespace} is empty. "
                                       f"Apply the lab workload (manifests/order.yaml)?"), answered)

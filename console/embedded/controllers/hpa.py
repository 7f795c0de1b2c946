"""horizontal-pod-autoscaler: kube-controller-manager's HPA controller
(pkg/controller/podautoscaler/horizontal.go), arithmetic in hpacalc.py.

Each HPA is reconciled every 15 s of simulated time (--horizontal-pod-
autoscaler-sync-period; the first time 15 s after it appears, as the real rate
limiter delays every add): read the target's scale, compute the replicas each
metric wants from the resource metrics API, take the largest, stabilize and
limit it (behavior, or the controller's defaults), write the scale, then the
status with AbleToScale / ScalingActive / ScalingLimited and events worded as
the real controller words them (SuccessfulRescale, FailedGetScale,
FailedGetResourceMetric, FailedComputeMetricsReplicas, ...).

Metrics come from metrics.k8s.io as served by this cluster (cluster.metrics
behind the catalogue's provider): no APIService, a down metrics-server and no
samples yet give the real client's errors. Pods are kept per HPA in an index fed
by pod events (as the controller's selector store), so a sync costs the HPA's
own pods, not the namespace's; when pods started and turned Ready is noted in
simulated time as events arrive (stamps are whole wall-clock seconds).
"""

import copy
import math

from console import quantity
from console.embedded.api.selectors import selector_string
from console.embedded.controllers import base, hpacalc as calc
from console.embedded.controllers.base import Informer, WorkQueue, key_of, selector_matches

RES = "horizontalpodautoscalers.autoscaling"
COMPONENT = "horizontal-pod-autoscaler"
SYNC_PERIOD = 15.0
METRICS_RES = "pods.metrics.k8s.io"


def _ready_condition(pod: dict) -> dict | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c
    return None


def set_condition(hpa: dict, typ: str, status: str, reason: str, message: str, now: str) -> None:
    base.set_condition(hpa.setdefault("status", {}), typ, status, reason, message, now)


class Failure(Exception):
    """A step failed: the event/condition are recorded, the sync ends."""


class HPAController:
    def __init__(self, cluster, informer: Informer):
        self.cluster = cluster
        self.inf = informer
        self.queue = WorkQueue(cluster, "horizontalpodautoscaler", self.sync)
        self.history: dict[tuple, calc.History] = {}
        self.selectors: dict[tuple, dict] = {}          # hpa key -> target's pod selector
        self.members: dict[tuple, set[str]] = {}        # hpa key -> pod names it selects
        self.by_ns: dict[str, set[tuple]] = {}          # namespace -> hpa keys with a selector
        self.times: dict[str, list] = {}                # pod uid -> [started, ready since] (sim)
        informer.on(RES, self._on_hpa)
        informer.on("pods", self._on_pod)
        for h in informer.all(RES):
            self.queue.add_after(key_of(h), SYNC_PERIOD)

    # -- events ----------------------------------------------------------------
    def _on_hpa(self, ev) -> None:
        key = key_of(ev.obj)
        if ev.type == "DELETED":
            self._forget(key)
            return
        self.queue.add_after(key, SYNC_PERIOD)

    def _forget(self, key) -> None:
        self.history.pop(key, None)
        self.selectors.pop(key, None)
        self.members.pop(key, None)
        keys = self.by_ns.get(key[0])
        if keys is not None:
            keys.discard(key)

    def _on_pod(self, ev) -> None:
        pod, old = ev.obj, ev.old
        uid = pod["metadata"].get("uid", "")
        ns, name = key_of(pod)
        if ev.type == "DELETED":
            self.times.pop(uid, None)
            for key in self.by_ns.get(ns, ()):
                self.members.get(key, set()).discard(name)
            return
        now = self.cluster.clock.elapsed()
        t = self.times.get(uid)
        if t is None:
            t = self.times[uid] = [None, None]
        # seen happening now, or (first sight) as stamped
        st, was = pod.get("status") or {}, (old or {}).get("status") or {}
        if st.get("startTime") and t[0] is None:
            t[0] = now if old is not None and not was.get("startTime") else \
                self.cluster.clock.sim_at(st["startTime"])
        cond, before = _ready_condition(pod), _ready_condition(old) if old else None
        if cond is not None and (before is None or before.get("status") != cond.get("status")):
            t[1] = now if old is not None else \
                self.cluster.clock.sim_at(cond.get("lastTransitionTime"))
        labels = pod["metadata"].get("labels")
        for key in self.by_ns.get(ns, ()):
            if selector_matches(self.selectors.get(key), labels):
                self.members.setdefault(key, set()).add(name)
            else:
                self.members.get(key, set()).discard(name)

    def _select(self, key, selector: dict) -> set[str]:
        """The HPA's pods under selector (indexed; rebuilt when it changes)."""
        if self.selectors.get(key) != selector:
            self.selectors[key] = copy.deepcopy(selector)
            self.by_ns.setdefault(key[0], set()).add(key)
            self.members[key] = {p["metadata"]["name"] for p in self.inf.in_namespace("pods", key[0])
                                 if selector_matches(selector, p["metadata"].get("labels"))}
        return self.members[key]

    # -- one reconcile ---------------------------------------------------------------
    async def sync(self, key) -> None:
        shared = self.inf.get(RES, *key)
        if shared is None:
            self._forget(key)
            return
        self.queue.add_after(key, SYNC_PERIOD)
        hpa = copy.deepcopy(shared)
        original = copy.deepcopy(hpa.get("status") or {})
        try:
            self._reconcile(key, hpa)
        except Failure:
            pass
        if (hpa.get("status") or {}) != original:
            base.write_status(self.cluster, RES, shared, hpa["status"])

    def _event(self, hpa: dict, reason: str, message: str, type_: str = "Normal") -> None:
        self.cluster.event(hpa, reason, message, type_, component=COMPONENT)

    def _fail_scale(self, hpa: dict, message: str) -> None:
        self._event(hpa, "FailedGetScale", message, "Warning")
        set_condition(hpa, "AbleToScale", "False", "FailedGetScale", "the HPA controller was "
                      f"unable to get the target's current scale: {message}", self._stamp())
        raise Failure(message)

    def _stamp(self) -> str:
        return self.cluster.clock.stamp()

    def _target(self, hpa: dict):
        """The scale target: (resource, object); FailedGetScale as the real one words it."""
        ns = hpa["metadata"].get("namespace") or ""
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        api_version, kind, name = ref.get("apiVersion", ""), ref.get("kind", ""), ref.get("name", "")
        if api_version.count("/") > 1:
            self._fail_scale(hpa, f"unexpected GroupVersion string: {api_version}")
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        k = next((k for k in self.cluster.kinds if k.group == group and k.kind == kind), None)
        if k is None:
            self._fail_scale(hpa, f'no matches for kind "{kind}" in group "{group}"')
        if "scale" not in k.subresources:
            self._fail_scale(hpa, "the server could not find the requested resource")
        obj = self.inf.get(k.key, ns if k.namespaced else "", name)
        if obj is None:
            self._fail_scale(hpa, f'{k.key} "{name}" not found')
        return k, obj

    def _reconcile(self, key, hpa: dict) -> None:
        spec = hpa.get("spec") or {}
        kind, target = self._target(hpa)
        now_s = self._stamp()
        set_condition(hpa, "AbleToScale", "True", "SucceededGetScale",
                      "the HPA controller was able to get the target's current scale", now_s)
        current = (target.get("spec") or {}).get("replicas", 1)
        now = self.cluster.clock.elapsed()
        h = self.history.setdefault(key, calc.History())
        if not h.recommendations:
            h.recommendations.append([current, now])
        lo, hi = spec.get("minReplicas", 1), spec.get("maxReplicas", 1)
        statuses = None
        desired, reason, rescale = 0, "", True
        if current == 0 and lo != 0:
            rescale = False
            set_condition(hpa, "ScalingActive", "False", "ScalingDisabled",
                          "scaling is disabled since the replica count of the target is zero", now_s)
        elif current > hi:
            reason, desired = "Current number of replicas above Spec.MaxReplicas", hi
        elif current < lo:
            reason, desired = "Current number of replicas below Spec.MinReplicas", lo
        else:
            proposal, metric, statuses, error = self._metrics(hpa, target, current)
            if proposal == -1:
                self._set_status(hpa, current, (hpa.get("status") or {}).get("desiredReplicas", 0),
                                 statuses, False)
                self._event(hpa, "FailedComputeMetricsReplicas", error, "Warning")
                raise Failure(error)
            desired = max(proposal, 0)
            if desired > current:
                reason = f"{metric} above target"
            elif desired < current:
                reason = "All metrics below target"
            desired = self._normalize(hpa, h, current, desired, lo, hi, now, now_s)
            rescale = desired != current
        if rescale:
            ns = key[0] if kind.namespaced else ""

            def scale(obj):
                obj.setdefault("spec", {})["replicas"] = desired
            try:
                self.cluster.registry.mutate(kind.key, ns, target["metadata"]["name"], scale)
            except Exception as exc:
                self._event(hpa, "FailedRescale", f"New size: {desired}; reason: {reason}; "
                            f"error: {exc}", "Warning")
                set_condition(hpa, "AbleToScale", "False", "FailedUpdateScale",
                              f"the HPA controller was unable to update the target scale: {exc}",
                              now_s)
                self._set_status(hpa, current, (hpa.get("status") or {}).get("desiredReplicas", 0),
                                 statuses, False)
                raise Failure(str(exc))
            set_condition(hpa, "AbleToScale", "True", "SucceededRescale",
                          f"the HPA controller was able to update the target scale to {desired}",
                          now_s)
            self._event(hpa, "SuccessfulRescale", f"New size: {desired}; reason: {reason}")
            calc.store_scale_event(h, spec.get("behavior"), current, desired, now)
        else:
            desired = current
        self._set_status(hpa, current, desired, statuses, rescale)

    def _set_status(self, hpa, current, desired, statuses, rescale) -> None:
        old = hpa.get("status") or {}
        st = {"currentReplicas": current, "desiredReplicas": desired}
        if old.get("lastScaleTime"):
            st["lastScaleTime"] = old["lastScaleTime"]
        if statuses is not None:
            st["currentMetrics"] = statuses
        if old.get("conditions"):
            st["conditions"] = old["conditions"]
        if rescale:
            st["lastScaleTime"] = self._stamp()
        hpa["status"] = st

    def _normalize(self, hpa, h, current, desired, lo, hi, now, now_s) -> int:
        behavior = (hpa.get("spec") or {}).get("behavior")
        if behavior is None:
            stable = calc.stabilize(h, desired, now, calc.DOWNSCALE_STABILIZATION)
            if stable != desired:
                set_condition(hpa, "AbleToScale", "True", "ScaleDownStabilized",
                              "recent recommendations were higher than current one, applying the "
                              "highest recent recommendation", now_s)
            else:
                set_condition(hpa, "AbleToScale", "True", "ReadyForNewScale",
                              "recommended size matches current size", now_s)
            out, reason, message = calc.rules_limit(current, stable, lo, hi)
        else:
            up, down = behavior.get("scaleUp") or {}, behavior.get("scaleDown") or {}
            down_window = down.get("stabilizationWindowSeconds")
            if down_window is None:
                down_window = calc.DOWNSCALE_STABILIZATION
            stable, reason, message = calc.stabilize_behavior(
                h, current, desired, now, up.get("stabilizationWindowSeconds", 0) or 0, down_window)
            if stable != desired:
                set_condition(hpa, "AbleToScale", "True", reason, message, now_s)
            else:
                set_condition(hpa, "AbleToScale", "True", "ReadyForNewScale",
                              "recommended size matches current size", now_s)
            out, reason, message = calc.behavior_limit(h, current, stable, lo, hi, up, down, now)
        set_condition(hpa, "ScalingLimited", "False" if out == stable else "True", reason,
                      message, now_s)
        return out

    # -- metrics ----------------------------------------------------------------
    def _metrics(self, hpa: dict, target: dict, current: int):
        """computeReplicasForMetrics -> (replicas or -1, metric, statuses, error)."""
        now_s = self._stamp()
        key = key_of(hpa)
        selector = (target.get("spec") or {}).get("selector") or {}
        text = selector_string(selector)
        if not text:
            self._event(hpa, "SelectorRequired", "selector is required", "Warning")
            set_condition(hpa, "ScalingActive", "False", "InvalidSelector",
                          "the HPA target's scale is missing a selector", now_s)
            return -1, "", None, "selector is required"
        names = self._select(key, selector)
        others = [k for k in self.by_ns.get(key[0], ()) if k != key and names & self.members.get(k, set())]
        if others:
            hpas = " ".join(f"{k[0]}/{k[1]}" for k in sorted([key, *others]))
            msg = f"pods by selector {text} are controlled by multiple HPAs: [{hpas}]"
            self._event(hpa, "AmbiguousSelector", msg, "Warning")
            set_condition(hpa, "ScalingActive", "False", "AmbiguousSelector", msg, now_s)
            return -1, "", None, msg
        specs = (hpa.get("spec") or {}).get("metrics") or []
        statuses = [{"type": ""} for _ in specs]
        replicas, metric, invalid, first, first_cond = 0, "", 0, None, None
        for i, m in enumerate(specs):
            try:
                proposal, name, status = self._one_metric(hpa, m, current, names)
            except _MetricFailure as exc:
                if invalid == 0:
                    first, first_cond = str(exc), exc.condition
                invalid += 1
                continue
            statuses[i] = status
            if replicas == 0 or proposal > replicas:
                replicas, metric = proposal, name
        error = None
        if first is not None:
            error = f"invalid metrics ({invalid} invalid out of {len(specs)}), first error is: {first}"
        if invalid >= len(specs) or (invalid and replicas < current):
            if first_cond is not None:
                set_condition(hpa, "ScalingActive", "False", *first_cond, now_s)
            return -1, "", statuses, error or "no metrics"
        set_condition(hpa, "ScalingActive", "True", "ValidMetricFound", "the HPA was able to "
                      f"successfully calculate a replica count from {metric}", now_s)
        return replicas, metric, statuses, error

    def _unable(self, hpa, reason: str, err: str):
        """getUnableComputeReplicaCountCondition: the event, and the condition to set."""
        self._event(hpa, reason, err, "Warning")
        return reason, f"the HPA was unable to compute the replica count: {err}"

    def _one_metric(self, hpa, m: dict, current: int, names: set[str]):
        typ = m.get("type")
        if typ in ("Resource", "ContainerResource"):
            src = m.get("resource") if typ == "Resource" else m.get("containerResource")
            src = src or {}
            reason = "FailedGetResourceMetric" if typ == "Resource" else \
                "FailedGetContainerResourceMetric"
            container = src.get("container") if typ == "ContainerResource" else None
            try:
                proposal, name, current_value = self._resource(hpa, src, current, names, container)
            except calc.MetricError as exc:
                cond = self._unable(hpa, reason, str(exc))
                what = (f"{src.get('name')} resource metric value" if typ == "Resource"
                        else f"{container} container metric value")
                raise _MetricFailure(f"failed to get {what}: {exc}", cond)
            if typ == "Resource":
                status = {"type": "Resource", "resource": {"name": src.get("name"),
                                                           "current": current_value}}
            else:
                status = {"type": "ContainerResource", "containerResource": {
                    "name": src.get("name"), "container": container, "current": current_value}}
            return proposal, name, status
        if typ == "Pods":
            name = ((m.get("pods") or {}).get("metric") or {}).get("name", "")
            err = (f"unable to get metric {name}: unable to fetch metrics from custom metrics "
                   "API: no custom metrics API (custom.metrics.k8s.io) registered")
            raise _MetricFailure(f"failed to get pods metric value: {err}",
                                 self._unable(hpa, "FailedGetPodsMetric", err))
        if typ == "Object":
            obj = m.get("object") or {}
            name = (obj.get("metric") or {}).get("name", "")
            ref = obj.get("describedObject") or {}
            ns = hpa["metadata"].get("namespace", "")
            err = (f"unable to get metric {name}: {ref.get('kind', '')} on {ns} "
                   f"{ref.get('name', '')}/unable to fetch metrics from custom metrics API: no "
                   "custom metrics API (custom.metrics.k8s.io) registered")
            raise _MetricFailure(f"failed to get object metric value: {err}",
                                 self._unable(hpa, "FailedGetObjectMetric", err))
        if typ == "External":
            name = ((m.get("external") or {}).get("metric") or {}).get("name", "")
            err = (f"unable to get external metric {hpa['metadata'].get('namespace', '')}/{name}"
                   f"/nil: unable to fetch metrics from external metrics API: the server could not"
                   f" find the requested resource (get {name}.external.metrics.k8s.io)")
            raise _MetricFailure(f"failed to get {name} external metric value: {err}",
                                 self._unable(hpa, "FailedGetExternalMetric", err))
        err = f'unknown metric source type "{typ}"'
        raise _MetricFailure(err, self._unable(hpa, "InvalidMetricSourceType", err))

    def _resource(self, hpa, src: dict, current: int, names: set[str], container: str | None):
        """computeStatusForResourceMetricGeneric -> (replicas, metric name, current)."""
        resource, target = src.get("name", ""), src.get("target") or {}
        ns = hpa["metadata"].get("namespace") or ""
        if target.get("averageValue") is not None:
            try:
                metrics, pods = self._pod_metrics(ns, names, resource, container)
                proposal, usage = calc.plain_replicas(
                    current, quantity.milli(target["averageValue"]), pods, metrics, resource,
                    self.cluster.clock.elapsed())
            except calc.MetricError as exc:
                raise calc.MetricError(f"failed to get {resource} usage: {exc}")
            return proposal, f"{resource} resource", {"averageValue": quantity.from_milli(usage)}
        if target.get("averageUtilization") is None:
            raise calc.MetricError("invalid resource metric source: neither an average "
                                   "utilization target nor an average value (usage) target was set")
        try:
            metrics, pods = self._pod_metrics(ns, names, resource, container)
            proposal, utilization, raw = calc.resource_replicas(
                current, int(target["averageUtilization"]), resource, pods, metrics,
                self.cluster.clock.elapsed())
        except calc.MetricError as exc:
            raise calc.MetricError(f"failed to get {resource} utilization: {exc}")
        name = (f"{resource} container resource utilization (percentage of request)" if container
                else f"{resource} resource utilization (percentage of request)")
        return proposal, name, {"averageUtilization": utilization,
                                "averageValue": quantity.from_milli(raw)}

    def _pod_metrics(self, ns: str, names: set[str], resource: str, container: str | None):
        """What the resource metrics client gets, and the pods (PodInfo) to weigh it with."""
        provider = self.cluster.kinds.provider(METRICS_RES)
        prefix = f"unable to get metrics for resource {resource}: unable to fetch metrics from " \
            "resource metrics API: "
        if provider is None:
            raise calc.MetricError(prefix + "the server could not find the requested resource "
                                   "(get pods.metrics.k8s.io)")
        if provider.unavailable() is not None:
            raise calc.MetricError(prefix + "the server is currently unable to handle the "
                                   "request (get pods.metrics.k8s.io)")
        usage = self.cluster.metrics.usage
        metrics: dict[str, calc.PodMetric] = {}
        pods = []
        listed = False
        for name in sorted(names):
            pod = self.inf.get("pods", ns, name)
            if pod is None:
                continue
            pods.append(self._info(pod, resource, container))
            u = usage.get((ns, name))
            if u is None:
                continue
            listed = True
            value = self._usage_milli(u, resource, container)
            if value is not None:
                metrics[name] = calc.PodMetric(value, u.t, u.window)
        if not listed:
            raise calc.MetricError(f"unable to get metrics for resource {resource}: no metrics "
                                   "returned from resource metrics API")
        return metrics, pods

    @staticmethod
    def _usage_milli(u, resource: str, container: str | None) -> int | None:
        total = 0
        for name, (cores, nbytes) in u.containers.items():
            if container is not None and name != container:
                continue
            # Quantity.MilliValue() of what metrics-server serves, container by container
            total += math.ceil(round(cores * 1e9) / 1e6) if resource == "cpu" else nbytes * 1000
        if container is not None and container not in u.containers:
            return None
        return total

    def _info(self, pod: dict, resource: str, container: str | None) -> calc.PodInfo:
        meta, spec, st = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        t = self.times.get(meta.get("uid", "")) or [None, None]
        cond = _ready_condition(pod)
        start = t[0] if t[0] is not None else self.cluster.clock.sim_at(st.get("startTime"))
        since = t[1] if t[1] is not None else self.cluster.clock.sim_at(
            (cond or {}).get("lastTransitionTime"))
        cs = list(spec.get("containers") or []) + [
            c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
        reqs = []
        for c in cs:
            if container is not None and c.get("name") != container:
                continue
            raw = ((c.get("resources") or {}).get("requests") or {}).get(resource)
            reqs.append((c.get("name", ""), None if raw is None else quantity.milli(raw)))
        return calc.PodInfo(meta["name"], st.get("phase", "Pending"),
                            bool(meta.get("deletionTimestamp")), start,
                            None if cond is None else cond.get("status"), since, {resource: reqs})


class _MetricFailure(Exception):
    def __init__(self, message: str, condition: tuple[str, str]):
        super().__init__(message)
        self.condition = condition

"""The HPA's arithmetic, after kubernetes/pkg/controller/podautoscaler
(replica_calculator.go, horizontal.go, metrics/utilization.go), v1.33.

Pure functions over plain values, so each rule is testable on its own: which
pods count (groupPods), the ratio and its 10 % tolerance (GetResourceReplicas),
missing and unready pods on the way up and down, the stabilization windows and
the scale-up/down limits with and without `behavior`. Times are simulated
seconds. Error messages are the real controller's, word for word.
"""

import math
from dataclasses import dataclass, field

TOLERANCE = 0.1                     # --horizontal-pod-autoscaler-tolerance
CPU_INITIALIZATION_PERIOD = 300.0   # --horizontal-pod-autoscaler-cpu-initialization-period
INITIAL_READINESS_DELAY = 30.0      # --horizontal-pod-autoscaler-initial-readiness-delay
DOWNSCALE_STABILIZATION = 300.0     # --horizontal-pod-autoscaler-downscale-stabilization
SCALE_UP_LIMIT_FACTOR, SCALE_UP_LIMIT_MINIMUM = 2.0, 4.0
MAX_INT32 = 2 ** 31 - 1


class MetricError(Exception):
    pass


@dataclass
class PodMetric:
    value: int            # milli-units (millicores, milli-bytes)
    t: float = 0.0        # when sampled
    window: float = 0.0


@dataclass
class PodInfo:
    """What the calculator needs of a pod (PodInfo.from_pod builds it)."""
    name: str
    phase: str
    deleting: bool
    start: float | None            # status.startTime
    ready: str | None              # Ready condition status, None when absent
    ready_since: float | None      # its lastTransitionTime
    requests: dict[str, list[tuple[str, int | None]]] = field(default_factory=dict)
    # resource -> [(container, milli request or None)], restartable init containers included


def group_pods(pods: list[PodInfo], metrics: dict[str, PodMetric], resource: str, now: float,
               cpu_init: float = CPU_INITIALIZATION_PERIOD,
               readiness_delay: float = INITIAL_READINESS_DELAY):
    """-> (ready count, unready, missing, ignored) as groupPods decides."""
    ready = 0
    unready, missing, ignored = set(), set(), set()
    for p in pods:
        if p.deleting or p.phase == "Failed":
            ignored.add(p.name)
            continue
        if p.phase == "Pending":
            unready.add(p.name)
            continue
        m = metrics.get(p.name)
        if m is None:
            missing.add(p.name)
            continue
        if resource == "cpu":
            if p.ready is None or p.start is None:
                bad = True
            elif p.start + cpu_init > now:
                # still initialising: unready, or no full window since it turned ready
                bad = p.ready == "False" or m.t < (p.ready_since or 0.0) + m.window
            else:
                # unready and never ready since it started
                bad = p.ready == "False" and p.start + readiness_delay > (p.ready_since or 0.0)
            if bad:
                unready.add(p.name)
                continue
        ready += 1
    return ready, unready, missing, ignored


def requests_of(pods: list[PodInfo], resource: str) -> dict[str, int]:
    out = {}
    for p in pods:
        total = 0
        for container, milli in p.requests.get(resource, []):
            if milli is None:
                raise MetricError(f"missing request for {resource} in container {container} "
                                  f"of Pod {p.name}")
            total += milli
        out[p.name] = total
    return out


def utilization_ratio(metrics: dict[str, PodMetric], requests: dict[str, int], target: int):
    """-> (usage ratio, utilization %, raw average milli) (GetResourceUtilizationRatio)."""
    total = requested = entries = 0
    for name, m in metrics.items():
        if name not in requests:
            continue
        total += m.value
        requested += requests[name]
        entries += 1
    if requested == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = (total * 100) // requested
    return utilization / target, int(utilization), total // entries


def within(ratio: float, tolerance: float = TOLERANCE) -> bool:
    return (1.0 - tolerance) <= ratio <= (1.0 + tolerance)


def _replicas(current: int, pods: list[PodInfo], metrics: dict[str, PodMetric], resource: str,
              now: float, tolerance: float, ratio_of, down_fill):
    """What GetResourceReplicas and calcPlainMetricReplicas share: group the pods,
    decide on the ready ones, or redo the ratio with missing pods at down_fill(name)
    (on the way down) or 0 (up) and unready ones at 0 (up) — unless that would
    flip the direction. -> (replicas, the first ratio's extra figures)."""
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    metrics = dict(metrics)
    ready, unready, missing, ignored = group_pods(pods, metrics, resource, now)
    for name in ignored | unready:
        metrics.pop(name, None)
    if not metrics:
        raise MetricError("did not receive metrics for targeted pods (pods might be unready)")
    ratio, *figures = ratio_of(metrics)
    up_with_unready = bool(unready) and ratio > 1.0
    if not up_with_unready and not missing:
        if within(ratio, tolerance):
            return current, figures
        return int(math.ceil(ratio * ready)), figures
    for name in missing:
        if ratio < 1.0:
            metrics[name] = PodMetric(down_fill(name))
        elif ratio > 1.0:
            metrics[name] = PodMetric(0)
    if up_with_unready:
        for name in unready:
            metrics[name] = PodMetric(0)
    new_ratio = ratio_of(metrics)[0]
    if within(new_ratio, tolerance) or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return current, figures
    replicas = int(math.ceil(new_ratio * len(metrics)))
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return current, figures
    return replicas, figures


def resource_replicas(current: int, target: int, resource: str, pods: list[PodInfo],
                      metrics: dict[str, PodMetric], now: float, tolerance: float = TOLERANCE):
    """GetResourceReplicas: -> (replicas, utilization %, raw average milli). Missing
    pods count as using 100 % of their request (or the target above 100 %) on the
    way down."""
    requests: dict[str, int] = {}

    def ratio_of(ms):
        if not requests:
            requests.update(requests_of(pods, resource))
        return utilization_ratio(ms, requests, target)
    fallback = max(100, target)
    replicas, (utilization, raw) = _replicas(current, pods, metrics, resource, now, tolerance,
                                             ratio_of, lambda n: requests[n] * fallback // 100)
    return replicas, utilization, raw


def plain_replicas(current: int, target_milli: int, pods: list[PodInfo],
                   metrics: dict[str, PodMetric], resource: str, now: float,
                   tolerance: float = TOLERANCE):
    """calcPlainMetricReplicas (AverageValue targets): -> (replicas, average milli).
    Missing pods count as using exactly the target on the way down."""
    def ratio_of(ms):
        total = sum(m.value for m in ms.values())
        return total / (target_milli * len(ms)), total // len(ms)
    replicas, (usage,) = _replicas(current, pods, metrics, resource, now, tolerance, ratio_of,
                                   lambda n: target_milli)
    return replicas, usage


# -- normalization: stabilization and limits ----------------------------------
@dataclass
class History:
    """One HPA's memory in the controller: recommendations and scale events."""
    recommendations: list[list] = field(default_factory=list)   # [replicas, t]
    ups: list[list] = field(default_factory=list)                # [change, t, outdated]
    downs: list[list] = field(default_factory=list)


def stabilize(h: History, desired: int, now: float, window: float) -> int:
    """stabilizeRecommendation (no behavior): the highest recommendation of the
    window; the newest replaces one that fell out of it."""
    best, old = desired, None
    for i, (rec, t) in enumerate(h.recommendations):
        if t < now - window:
            old = i
        elif rec > best:
            best = rec
    if old is not None:
        h.recommendations[old] = [desired, now]
    else:
        h.recommendations.append([desired, now])
    return best


def rules_limit(current: int, desired: int, lo: int, hi: int):
    """convertDesiredReplicasWithRules -> (replicas, reason, message)."""
    scale_up_limit = int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))
    if hi > scale_up_limit:
        top, reason, msg = (scale_up_limit, "ScaleUpLimit",
                            "the desired replica count is increasing faster than the maximum "
                            "scale rate")
    else:
        top, reason, msg = hi, "TooManyReplicas", ("the desired replica count is more than the "
                                                   "maximum replica count")
    if desired < lo:
        return lo, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
    if desired > top:
        return top, reason, msg
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def stabilize_behavior(h: History, current: int, desired: int, now: float,
                       up_window: float, down_window: float):
    """stabilizeRecommendationWithBehaviors -> (replicas, reason, message)."""
    up_rec = down_rec = desired
    old = None
    for i, (rec, t) in enumerate(h.recommendations):
        if t > now - up_window:
            up_rec = min(rec, up_rec)
        if t > now - down_window:
            down_rec = max(rec, down_rec)
        if t < now - up_window and t < now - down_window:
            old = i
    rec = current
    if rec < up_rec:
        rec = up_rec
    if rec > down_rec:
        rec = down_rec
    if old is not None:
        h.recommendations[old] = [desired, now]
    else:
        h.recommendations.append([desired, now])
    if desired >= current:
        return rec, "ScaleUpStabilized", ("recent recommendations were lower than current one, "
                                          "applying the lowest recent recommendation")
    return rec, "ScaleDownStabilized", ("recent recommendations were higher than current one, "
                                        "applying the highest recent recommendation")


def _changed_in(period: float, events: list[list], now: float) -> int:
    return sum(change for change, t, _ in events if t > now - period)


def _limit(current: int, h: History, rules: dict, now: float, up: bool) -> int:
    """calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors:
    what each policy allows from the replicas at its period's start; Max picks the
    largest change, Min the smallest, Disabled none."""
    policy = rules.get("selectPolicy") or "Max"
    if policy == "Disabled":
        return current
    largest = (policy != "Min") == up     # the biggest number of replicas
    pick, result = (max, -MAX_INT32 - 1) if largest else (min, MAX_INT32)
    for p in rules.get("policies") or []:
        start = current - _changed_in(p["periodSeconds"], h.ups, now) \
            + _changed_in(p["periodSeconds"], h.downs, now)
        if p.get("type") == "Pods":
            proposed = start + p["value"] if up else start - p["value"]
        elif up:
            proposed = int(math.ceil(start * (1 + p["value"] / 100)))
        else:
            proposed = int(start * (1 - p["value"] / 100))
        result = pick(result, proposed)
    return result


def scale_up_limit(current: int, h: History, rules: dict, now: float) -> int:
    return _limit(current, h, rules, now, up=True)


def scale_down_limit(current: int, h: History, rules: dict, now: float) -> int:
    return _limit(current, h, rules, now, up=False)


def behavior_limit(h: History, current: int, desired: int, lo: int, hi: int,
                   up: dict, down: dict, now: float):
    """convertDesiredReplicasWithBehaviorRate -> (replicas, reason, message)."""
    if desired > current:
        limit = max(scale_up_limit(current, h, up, now), current)
        if hi > limit:
            top, reason, msg = (limit, "ScaleUpLimit", "the desired replica count is increasing "
                                "faster than the maximum scale rate")
        else:
            top, reason, msg = (hi, "TooManyReplicas",
                                "the desired replica count is more than the maximum replica count")
        if desired > top:
            return top, reason, msg
    elif desired < current:
        limit = min(scale_down_limit(current, h, down, now), current)
        if lo < limit:
            bottom, reason, msg = (limit, "ScaleDownLimit", "the desired replica count is "
                                   "decreasing faster than the maximum scale rate")
        else:
            bottom, reason, msg = (lo, "TooFewReplicas",
                                   "the desired replica count is less than the minimum replica count")
        if desired < bottom:
            return bottom, reason, msg
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


def longest_period(rules: dict) -> float:
    return max([p.get("periodSeconds", 0) for p in rules.get("policies") or []] or [0])


def store_scale_event(h: History, behavior: dict | None, before: int, after: int,
                      now: float) -> None:
    """storeScaleEvent: kept only with a behavior, outdated entries reused."""
    if behavior is None:
        return
    if after > before:
        events, period, change = h.ups, longest_period(behavior.get("scaleUp") or {}), after - before
    else:
        events, period, change = h.downs, longest_period(behavior.get("scaleDown") or {}), \
            before - after
    for e in events:
        if e[1] < now - period:
            e[2] = True
    slot = next((i for i in range(len(events) - 1, -1, -1) if events[i][2]), None)
    if slot is None:
        events.append([change, now, False])
    else:
        events[slot] = [change, now, False]

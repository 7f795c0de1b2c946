"""The HPA's arithmetic on its own, with cases from the real controller's
replica_calculator_test.go and horizontal_test.go (same inputs, same answers)."""

import pytest

from console.embedded.controllers import hpacalc as calc

NOW = 10_000.0


def pod(name, phase="Running", ready="True", cpu=1000, start=0.0, ready_since=0.0,
        deleting=False):
    return calc.PodInfo(name, phase, deleting, start, ready, ready_since,
                        {"cpu": [("app", cpu)]})


def metrics(values, t=NOW, window=15.0):
    return {f"p{i}": calc.PodMetric(v, t, window) for i, v in enumerate(values) if v is not None}


def test_scale_up_is_the_ratio_times_ready_pods():
    pods = [pod(f"p{i}") for i in range(3)]
    assert calc.resource_replicas(3, 30, "cpu", pods, metrics([300, 500, 700]), NOW) == \
        (5, 50, 500)


def test_within_the_ten_percent_tolerance_nothing_changes():
    pods = [pod(f"p{i}") for i in range(3)]
    # 1,050m of 2,000m requested... per pod: 35 % against a target of 33 % (ratio 1.06)
    got = calc.resource_replicas(3, 33, "cpu", pods, metrics([340, 350, 360]), NOW)
    assert got[0] == 3 and got[1] == 35


def test_unready_pods_count_as_zero_on_the_way_up():
    pods = [pod("p0", ready="False"), pod("p1"), pod("p2")]
    # upstream TestReplicaCalcScaleUpUnreadyLessScale: 4 replicas, 60 %
    replicas, utilization, _ = calc.resource_replicas(3, 30, "cpu", pods,
                                                      metrics([300, 500, 700]), NOW)
    assert (replicas, utilization) == (4, 60)


def test_pending_pods_are_unready_and_failed_or_deleting_ones_ignored():
    pods = [pod("p0", phase="Pending"), pod("p1"), pod("p2", phase="Failed"),
            pod("p3", deleting=True)]
    ready, unready, missing, ignored = calc.group_pods(pods, metrics([0, 500, 500, 500]), "cpu", NOW)
    assert (ready, unready, missing, ignored) == (1, {"p0"}, set(), {"p2", "p3"})


def test_missing_pods_count_as_full_request_on_the_way_down():
    pods = [pod(f"p{i}") for i in range(4)]
    # 3 pods at 10 %, one without metrics: it counts as 100 %, so 3 replicas, not 1
    replicas, utilization, _ = calc.resource_replicas(4, 50, "cpu", pods,
                                                      metrics([100, 100, 100, None]), NOW)
    assert (replicas, utilization) == (3, 10)


def test_missing_pods_count_as_zero_on_the_way_up():
    pods = [pod(f"p{i}") for i in range(4)]
    replicas, _, _ = calc.resource_replicas(4, 50, "cpu", pods,
                                            metrics([1000, 1000, 1000, None]), NOW)
    assert replicas == 6   # 3,000m over 4 pods is 75 % -> ceil(1.5 x 4)


def test_cpu_of_a_pod_still_initialising_waits_for_a_window_after_ready():
    # started 60 s ago (inside the 5 minute initialisation period), Ready 10 s ago,
    # sample taken now over 15 s: it straddles the transition, so the pod is unready
    young = pod("p0", start=NOW - 60, ready_since=NOW - 10)
    assert calc.group_pods([young], metrics([900]), "cpu", NOW)[1] == {"p0"}
    settled = pod("p0", start=NOW - 60, ready_since=NOW - 20)
    assert calc.group_pods([settled], metrics([900]), "cpu", NOW)[0] == 1
    # past the period only "unready and never ready since start" is left out
    old_unready = pod("p0", ready="False", start=NOW - 1000, ready_since=NOW - 990)
    assert calc.group_pods([old_unready], metrics([900]), "cpu", NOW)[1] == {"p0"}
    went_unready = pod("p0", ready="False", start=NOW - 1000, ready_since=NOW - 100)
    assert calc.group_pods([went_unready], metrics([900]), "cpu", NOW)[0] == 1


def test_errors_are_the_controllers_words():
    with pytest.raises(calc.MetricError, match="^no pods returned by selector while "
                       "calculating replica count$"):
        calc.resource_replicas(1, 50, "cpu", [], {}, NOW)
    no_request = calc.PodInfo("web-1", "Running", False, 0.0, "True", 0.0,
                              {"cpu": [("nginx", None)]})
    with pytest.raises(calc.MetricError, match="^missing request for cpu in container nginx of "
                       "Pod web-1$"):
        calc.resource_replicas(1, 50, "cpu", [no_request], {"web-1": calc.PodMetric(5, NOW, 15)},
                               NOW)
    with pytest.raises(calc.MetricError, match=r"did not receive metrics for targeted pods "
                       r"\(pods might be unready\)"):
        calc.resource_replicas(1, 50, "cpu", [pod("p0", phase="Pending")], metrics([5]), NOW)


def test_without_behavior_scale_up_is_capped_at_double_or_four():
    assert calc.rules_limit(2, 17, 1, 3) == (3, "TooManyReplicas", "the desired replica count is "
                                             "more than the maximum replica count")
    assert calc.rules_limit(1, 10, 1, 20)[:2] == (4, "ScaleUpLimit")
    assert calc.rules_limit(5, 30, 1, 20)[:2] == (10, "ScaleUpLimit")
    assert calc.rules_limit(3, 0, 1, 3)[:2] == (1, "TooFewReplicas")
    assert calc.rules_limit(3, 2, 1, 3)[:2] == (2, "DesiredWithinRange")


def test_scale_down_waits_for_the_stabilization_window():
    h = calc.History([[3, 0.0]])
    assert calc.stabilize(h, 1, 100.0, 300.0) == 3      # 3 is recent: keep it
    assert calc.stabilize(h, 1, 299.0, 300.0) == 3
    assert calc.stabilize(h, 1, 301.0, 300.0) == 1      # window passed (the 1s are newer)


def test_behavior_default_scale_up_is_four_pods_or_double_per_15s():
    up = {"selectPolicy": "Max", "stabilizationWindowSeconds": 0,
          "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                       {"type": "Percent", "value": 100, "periodSeconds": 15}]}
    down = {"selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100,
                                                 "periodSeconds": 15}]}
    h = calc.History()
    assert calc.behavior_limit(h, 2, 25, 2, 10, up, down, 0.0)[:2] == (6, "ScaleUpLimit")
    calc.store_scale_event(h, {"scaleUp": up, "scaleDown": down}, 2, 6, 0.0)
    # within the same 15 s the period started at 2 replicas: no more than 6 yet
    assert calc.behavior_limit(h, 6, 25, 2, 10, up, down, 10.0)[0] == 6
    # a period later it starts from 6: 10 (the max)
    assert calc.behavior_limit(h, 6, 25, 2, 10, up, down, 16.0)[:2] == (10, "TooManyReplicas")
    assert calc.behavior_limit(h, 10, 1, 2, 10, up, down, 30.0)[:2] == (2, "TooFewReplicas")
    # Min: the smallest change (4 from 2 by 100 %, not 6 by +4 pods)
    assert calc.scale_up_limit(2, calc.History(), dict(up, selectPolicy="Min"), 0.0) == 4
    two_ways = {"selectPolicy": "Min", "policies": [
        {"type": "Pods", "value": 1, "periodSeconds": 60},
        {"type": "Percent", "value": 50, "periodSeconds": 60}]}
    assert calc.scale_down_limit(10, calc.History(), two_ways, 0.0) == 9
    assert calc.scale_down_limit(10, calc.History(), dict(two_ways, selectPolicy="Max"), 0.0) == 5
    disabled = dict(down, selectPolicy="Disabled")
    assert calc.behavior_limit(h, 10, 1, 2, 10, up, disabled, 30.0)[:2] == (10, "ScaleDownLimit")


def test_behavior_stabilization_picks_the_lowest_up_and_highest_down():
    # wanting 3 while 8 was recommended 10 s ago: stay at the current 4
    h = calc.History([[5, 0.0], [8, 10.0]])
    got = calc.stabilize_behavior(h, 4, 3, 20.0, 0.0, 300.0)
    assert got[:2] == (4, "ScaleDownStabilized")
    # wanting 9 with a 60 s up window that saw 5: go to 5 only
    h = calc.History([[5, 0.0], [8, 10.0]])
    got = calc.stabilize_behavior(h, 4, 9, 20.0, 60.0, 300.0)
    assert got[:2] == (5, "ScaleUpStabilized")

"""Restart back-off as kubelet's flowcontrol.Backoff; startup probes gate the others."""

from console.embedded.kubelet.pull import Backoff
from kubelet_helpers import cstatus, events, kubelet_cluster, pod
from waits import until


def test_back_off_doubles_to_five_minutes_and_resets_after_ten():
    b = Backoff()
    assert b.wait_for(finished=0, now=0) == 0          # first crash: restart at once
    b.next(now=0)
    delays = []
    t = 0.0
    for _ in range(8):
        t += 1                                          # crashes a second after each start
        wait = b.wait_for(finished=t, now=t)
        delays.append(wait)
        t += wait
        b.next(now=t)
    assert delays == [10, 20, 40, 80, 160, 300, 300, 300]
    # ran for more than 10 minutes since the last restart: forgotten
    assert b.wait_for(finished=t + 601, now=t + 601) == 0
    b.next(now=t + 601)
    assert b.delay == 10


async def test_startup_probe_gates_readiness_and_kills_when_it_fails():
    spec = {"startupProbe": {"httpGet": {"path": "/actuator/health", "port": 8080},
                             "periodSeconds": 2, "failureThreshold": 30},
            "readinessProbe": {"httpGet": {"path": "/actuator/health", "port": 8080},
                               "periodSeconds": 2}}
    async with kubelet_cluster(speed=50) as cluster:
        cluster.registry.create("pods", pod("slow", image="jinyoung/order:stable", container=spec))
        await until(lambda: cstatus(cluster, "slow").get("state", {}).get("running"))
        assert cstatus(cluster, "slow")["started"] is False
        await until(lambda: cstatus(cluster, "slow").get("ready"), what="started and ready")
        assert cstatus(cluster, "slow")["started"] is True

        short = {"startupProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 2,
                                  "failureThreshold": 3}}
        cluster.registry.create("pods", pod("tooslow", image="jinyoung/order:stable", container=short))
        await until(lambda: cstatus(cluster, "tooslow").get("restartCount", 0) >= 1, what="restart")
        evs = events(cluster, "tooslow")
        assert ("Killing", "Container app failed startup probe, will be restarted") in evs
        assert any(r == "Unhealthy" and m.startswith("Startup probe failed: dial tcp 10.244.")
                   and m.endswith(":8080: connect: connection refused") for r, m in evs)
